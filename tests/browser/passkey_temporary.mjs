// A passkey after an admin set a temporary password (a compromise): it must not sign in until the
// person replaced the temporary password. Two runs of this script, with the server changed in
// between by tests/it/browser.rs:
//   PHASE=register  signs in with the password, adds a passkey on the account page, checks that
//                   it signs in alone, and saves the virtual authenticator's credential;
//   PHASE=after     puts that credential in a new virtual authenticator and tries the passkey
//                   sign-in, which must be refused with the temporary-password message.
// Environment: APP_URL (http://localhost:PORT), USERNAME, PASSWORD, PHASE, CREDENTIAL_FILE.
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';

const env = process.env;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const pass = (step, what) => console.log(`PASS  ${step}  ${what}`);
const fail = (what) => { throw new Error(what); };

const context = await browser.newContext();
// The button, not the username field's autofill: the refusal is then shown on the page.
await context.addInitScript(() => {
  if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = async () => false;
});
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('WebAuthn.enable');
const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
  options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true },
});

async function passkeySignIn() {
  await context.clearCookies();
  await page.goto(`${env.APP_URL}/login`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForLoadState();
}

try {
  if (env.PHASE === 'register') {
    await page.goto(`${env.APP_URL}/login`);
    await page.locator('#username').fill(env.USERNAME);
    await page.locator('#password').fill(env.PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${env.APP_URL}/`);
    await page.goto(`${env.APP_URL}/account`);
    await page.locator('#factor_password').fill(env.PASSWORD);
    await page.locator('#passkey_name').fill('Phone');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('button', { name: 'Create the passkey' }).click();
    // The account's first factor: its recovery codes are shown once.
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    await passkeySignIn();
    await page.waitForURL(`${env.APP_URL}/`);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    if (credentials.length !== 1) fail(`one credential expected: ${credentials.length}`);
    writeFileSync(env.CREDENTIAL_FILE, JSON.stringify(credentials[0]));
    pass('passkey-before', 'the passkey signs in alone before the temporary password');
  } else {
    const credential = JSON.parse(readFileSync(env.CREDENTIAL_FILE, 'utf8'));
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    await passkeySignIn();
    await page.getByText('set a temporary password').first().waitFor();
    if (new URL(page.url()).pathname !== '/login/passkey') fail(`not refused: ${page.url()}`);
    await page.goto(`${env.APP_URL}/account`);
    if (!new URL(page.url()).pathname.startsWith('/login')) fail(`signed in: ${page.url()}`);
    pass('passkey-temporary', 'refused with the temporary-password message; nothing signed in');
  }
} catch (e) {
  console.log(`FAIL  ${e.stack || e}`);
  console.log(`URL   ${page.url()}`);
  console.log(await page.content().catch(() => ''));
  process.exitCode = 1;
} finally {
  await browser.close();
}
