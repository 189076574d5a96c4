// A factor change asks for a fresh second factor, not only the password. Two runs of this script
// in one browser profile (its cookies kept in STATE_FILE), with the server's clock moved past ten
// minutes in between by tests/it/browser.rs:
//   PHASE=enrol   signs in with the password and sets up an authenticator app on /account;
//   PHASE=change  (the factor now stale) tries to set up a new app: the second step asks for a
//                 code first, then the account page says the change can be made, and it can.
// Environment: APP_URL, USERNAME, PASSWORD, PHASE, STATE_FILE, KEY_FILE, CLOCK_NOW.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const env = process.env;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const pass = (step, what) => console.log(`PASS  ${step}  ${what}`);
const fail = (what) => { throw new Error(what); };
const codeFor = (key) => execFileSync('oathtool', ['--totp', '-b', '-N', `@${env.CLOCK_NOW}`, key]).toString().trim();

const context = await browser.newContext(existsSync(env.STATE_FILE) ? { storageState: env.STATE_FILE } : {});
const page = await context.newPage();

async function startNewApp() {
  await page.goto(`${env.APP_URL}/account`);
  await page.locator('#factor_password').fill(env.PASSWORD);
  // "Set up" while there is none; "Replace" (formaction) once there is one.
  const replace = page.locator('button[formaction="/account/totp"]');
  await ((await replace.count()) ? replace : page.locator('form[action="/account/totp"] button.primary')).click();
  await page.waitForLoadState();
}

try {
  if (env.PHASE === 'enrol') {
    await page.goto(`${env.APP_URL}/login`);
    await page.locator('#username').fill(env.USERNAME);
    await page.locator('#password').fill(env.PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${env.APP_URL}/`);
    await startNewApp();
    const key = (await page.locator('#totp-key code').textContent()).replace(/\s/g, '');
    await page.locator('#code').fill(codeFor(key));
    await page.locator('form[action="/account/totp/confirm"] button').click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    writeFileSync(env.KEY_FILE, key);
    await context.storageState({ path: env.STATE_FILE });
    pass('factor-enrolled', 'an authenticator app set up from the account page');
  } else {
    const key = readFileSync(env.KEY_FILE, 'utf8');
    await startNewApp();
    if (new URL(page.url()).pathname !== '/login/second-factor') fail(`no second step first: ${page.url()}`);
    if (await page.locator('#totp-key').count()) fail('a new key was shown with the password alone');
    await page.locator('#code').fill(codeFor(key));
    await page.locator('form:has(#code) button[type=submit]').click();
    await page.waitForURL(/\/account\?done=factor_proved$/);
    await page.getByText('Your second step is confirmed').waitFor();
    await startNewApp();
    await page.locator('#totp-key').waitFor();
    pass('factor-change-asks-code', 'with the factor ten minutes old, the change asked for a code first, then went through');
  }
} catch (e) {
  console.log(`FAIL  ${e.stack || e}`);
  console.log(`URL   ${page.url()}`);
  console.log(await page.content().catch(() => ''));
  process.exitCode = 1;
} finally {
  await browser.close();
}
