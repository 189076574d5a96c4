// A shared computer shows the QR sign-in page; a phone (a second browser context) opens the code's
// link, signs in and approves; the shared computer's page, polling with its own script, continues
// signed in. Driven by tests/it/browser.rs. Environment: APP_URL, USERNAME, PASSWORD, EXPECT_NAME.
import { chromium, devices } from 'playwright-core';

const env = process.env;
// A shared lab computer's address, sent through the test server's trusted proxy (127.0.0.1).
const LAB_IP = env.LAB_IP || '10.20.1.5';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // The lab computer is on the shared network (behind the test's trusted proxy), where the QR
  // sign-in is offered; the phone is not.
  const lab = await (await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': LAB_IP } })).newPage();
  const errors = [];
  lab.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await lab.goto(`${env.APP_URL}/login`);
  await lab.getByRole('link', { name: /Sign in with your phone/ }).click();
  await lab.locator('figure.qr-code svg').waitFor();
  const code = (await lab.locator('.user-code').textContent()).trim();
  if (!/^[A-Z]{4}-[A-Z]{4}$/.test(code)) throw new Error(`unexpected user code ${code}`);
  console.log(`PASS  qr-page  shows an SVG QR code and the code ${code}`);

  const phoneContext = await browser.newContext({ ...devices['Pixel 7'], defaultBrowserType: undefined });
  const phone = await phoneContext.newPage();
  await phone.goto(`${env.APP_URL}/device?user_code=${code}`);
  await phone.getByLabel('Username or college e-mail').fill(env.USERNAME);
  await phone.getByLabel('Password').fill(env.PASSWORD);
  await phone.getByRole('button', { name: 'Sign in' }).click();
  await phone.getByText(code).waitFor();
  // The phone names the computer that asks, and warns, before anything is approved.
  await phone.getByText('Only approve if you are sitting at this computer now.').waitFor();
  const named = (await phone.locator('#computer-ip').textContent()).trim();
  if (named !== LAB_IP) throw new Error(`the phone names ${named}, not the lab computer ${LAB_IP}`);
  if (!(await phone.locator('#computer-browser').textContent()).trim()) throw new Error('no browser named');
  await phone.getByRole('button', { name: 'Yes, sign in' }).click();
  await phone.getByText("You're signed in on the other device").waitFor();
  console.log('PASS  phone  named the lab computer and its browser, warned, then approved the code');

  // The lab page's script notices the approval and continues by itself.
  await lab.waitForURL(`${env.APP_URL}/`, { timeout: 20000 });
  await lab.getByText(env.EXPECT_NAME).waitFor();
  if (errors.length) throw new Error(`console errors: ${errors.join('; ')}`);
  console.log('PASS  lab  the shared computer is signed in without typing a password');
} finally {
  await browser.close();
}
