// Headless Chromium signs in to a page that Apache's mod_auth_openidc protects with hccc-sso, then
// signs out through RP-initiated logout. Driven by tests/it/mod_auth_openidc.rs.
// Environment: APP_URL (the protected site), USERNAME, PASSWORD, EXPECT_NAME.
import { chromium } from 'playwright-core';

const env = process.env;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${env.APP_URL}/protected/`);
  // mod_auth_openidc sent the browser to our login page.
  await page.getByLabel('Username or college e-mail').fill(env.USERNAME);
  await page.getByLabel('Password').fill(env.PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${env.APP_URL}/protected/**`);
  const greeting = await page.locator('#user').textContent();
  if (greeting.trim() !== env.EXPECT_NAME) throw new Error(`protected page shows ${greeting}`);
  console.log(`PASS  sign-in  Apache sees REMOTE_USER=${greeting.trim()}`);

  // Logout through mod_auth_openidc, which uses our end_session_endpoint.
  await page.goto(`${env.APP_URL}/protected/redirect_uri?logout=${encodeURIComponent(`${env.APP_URL}/loggedout.html`)}`);
  await page.waitForURL(`${env.APP_URL}/loggedout.html**`);
  console.log('PASS  logout  back at the app after RP-initiated logout');

  // Both sessions are gone: the protected page asks us to sign in again.
  await page.goto(`${env.APP_URL}/protected/`);
  await page.getByLabel('Password').waitFor();
  console.log('PASS  signed-out  the protected page needs a new sign-in');
} finally {
  await browser.close();
}
