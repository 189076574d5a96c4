// Second factors as a new admin meets them, in Chromium with its virtual authenticators
// (DevTools WebAuthn domain): made to set up an authenticator app at the first sign-in (codes
// by oathtool), a recovery code used once, a passkey registered and then used alone without a
// username, a USB security key as the second step after the password, and forged answers
// refused: another challenge, another origin, another user, a replayed registration. Last the
// passkey is removed and no longer signs in.
// Driven by tests/it/browser.rs. Environment: APP_URL (http://localhost:PORT), USERNAME,
// PASSWORD, CLOCK_NOW (the server's frozen clock, for TOTP codes).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';

const env = process.env;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const pass = (step, what) => console.log(`PASS  ${step}  ${what}`);
const fail = (what) => { throw new Error(what); };
const codeFor = (key) => execFileSync('oathtool', ['--totp', '-b', '-N', `@${env.CLOCK_NOW}`, key]).toString().trim();

const context = await browser.newContext();
const page = await context.newPage();
const consoleLines = [];
page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
const cdp = await context.newCDPSession(page);
await cdp.send('WebAuthn.enable');
// A phone's or laptop's platform authenticator: resident keys, user verification.
const { authenticatorId: platform } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
  options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true },
});

async function signInWithPassword() {
  await context.clearCookies();
  await page.goto(`${env.APP_URL}/login`);
  await page.locator('#username').fill(env.USERNAME);
  await page.locator('#password').fill(env.PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForLoadState();
}

async function accountForm(password = env.PASSWORD) {
  await page.goto(`${env.APP_URL}/account`);
  await page.locator('#factor_password').fill(password);
}

// Runs a WebAuthn ceremony in the page by hand (options from `optionsUrl`, or given), lets
// `tamper` change the answer, posts it to `action` and returns the status and page text.
async function ceremony({ optionsUrl, options, create, action, tamper }) {
  return page.evaluate(async ({ optionsUrl, options, create, action, tamper }) => {
    const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const unb64 = (t) => Uint8Array.from(atob(t.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((t.length + 3) % 4)), (c) => c.charCodeAt(0)).buffer;
    const csrf = document.querySelector('input[name=csrf_token]').value;
    const post = (url, fields) => fetch(url, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
    const json = options || await (await post(optionsUrl, { csrf_token: csrf })).json();
    const o = { ...json.publicKey, challenge: unb64(json.publicKey.challenge) };
    let credential;
    if (create) {
      o.user = { ...o.user, id: unb64(o.user.id) };
      o.excludeCredentials = (o.excludeCredentials || []).map((c) => ({ ...c, id: unb64(c.id) }));
      credential = await navigator.credentials.create({ publicKey: o });
    } else {
      o.allowCredentials = (o.allowCredentials || []).map((c) => ({ ...c, id: unb64(c.id) }));
      credential = await navigator.credentials.get({ publicKey: o });
    }
    const r = credential.response;
    const answer = { id: credential.id, rawId: b64(credential.rawId), type: credential.type, extensions: {},
      response: { clientDataJSON: b64(r.clientDataJSON) } };
    if (create) answer.response.attestationObject = b64(r.attestationObject);
    else Object.assign(answer.response, { authenticatorData: b64(r.authenticatorData), signature: b64(r.signature),
      userHandle: r.userHandle ? b64(r.userHandle) : null });
    if (tamper === 'origin') {
      const data = JSON.parse(new TextDecoder().decode(r.clientDataJSON));
      data.origin = 'https://evil.example';
      answer.response.clientDataJSON = b64(new TextEncoder().encode(JSON.stringify(data)));
    }
    if (tamper === 'user') answer.response.userHandle = b64(crypto.getRandomValues(new Uint8Array(16)));
    if (tamper === 'challenge') await post(optionsUrl, { csrf_token: csrf }); // a newer ceremony replaces this one
    const body = JSON.stringify(answer);
    const response = await post(action, { csrf_token: csrf, credential: body });
    return { status: response.status, text: await response.text(), body, csrf };
  }, { optionsUrl, options, create, action, tamper });
}

try {
  // 1. The admin's first sign-in: the policy sends them to set up an authenticator app.
  await signInWithPassword();
  await page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
  const key = (await page.locator('#totp-key').innerText()).replace(/\s/g, '');
  await page.locator('#code').fill(codeFor(key));
  await page.getByRole('button', { name: /Turn on two-step verification/ }).click();
  await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
  const codes = (await page.locator('.recovery-codes code').allInnerTexts()).map((c) => c.trim()).filter((c) => /^[a-z0-9]{5}-[a-z0-9]{5}$/.test(c));
  if (codes.length !== 10) fail(`ten recovery codes expected, saw ${codes.length}: ${codes}`);
  await page.getByRole('button', { name: /continue/i }).click();
  await page.waitForURL(`${env.APP_URL}/`);
  pass('enrol-at-sign-in', `made to set up TOTP (code by oathtool), ${codes.length} recovery codes shown once`);

  // 2. A recovery code in place of the phone, once; the same code a second time is refused.
  await signInWithPassword();
  await page.getByText('Lost your phone? Use a recovery code').click();
  await page.locator('#recovery_code').fill(codes[0]);
  await page.getByRole('button', { name: 'Use the recovery code' }).click();
  await page.waitForURL(`${env.APP_URL}/`);
  await signInWithPassword();
  await page.getByText('Lost your phone? Use a recovery code').click();
  await page.locator('#recovery_code').fill(codes[0]);
  await page.getByRole('button', { name: 'Use the recovery code' }).click();
  await page.locator('#recovery_code-error').waitFor();
  if (new URL(page.url()).pathname !== '/login/second-factor') fail(`a spent code signed in: ${page.url()}`);
  await page.locator('#recovery_code').fill(codes[1]);
  await page.getByRole('button', { name: 'Use the recovery code' }).click();
  await page.waitForURL(`${env.APP_URL}/`);
  pass('recovery-code', 'a recovery code signed in once; used again it was refused');

  // 3. A passkey, registered on the account page after the password.
  await accountForm();
  await page.locator('#passkey_name').fill('Office laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByRole('heading', { name: 'Add a passkey' }).waitFor();
  let registration = null;
  page.on('request', (r) => { if (r.url().endsWith('/account/passkeys/finish')) registration = r.postData(); });
  await page.getByRole('button', { name: 'Create the passkey' }).click();
  await page.waitForURL(/\/account\?done=passkey$/);
  await page.getByText('Office laptop').first().waitFor();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: platform });
  if (credentials.length !== 1 || !credentials[0].isResidentCredential) fail(`one discoverable credential expected: ${JSON.stringify(credentials)}`);
  pass('register-passkey', 'registered as a discoverable credential and listed on the account page');

  // The same registration posted again: its ceremony is spent.
  const replayed = await page.evaluate(async (body) => (await fetch('/account/passkeys/finish', { method: 'POST',
    credentials: 'same-origin', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body })).status, registration);
  if (replayed !== 400) fail(`a replayed registration answered ${replayed}`);
  const keptAfterReplay = (await page.goto(`${env.APP_URL}/account`), await page.locator('ul.passkeys li').count());
  if (keptAfterReplay !== 1) fail('the replay added a second passkey');
  pass('replayed-registration', 'posting the registration again answered 400 and added nothing');

  // 4. Signing in with the passkey alone: no username, no password. First as the username
  // field's autofill offers it (the virtual authenticator picks the one passkey at once, as a
  // person would from the list), then by the button, as in a browser without that autofill.
  await context.clearCookies();
  await page.goto(`${env.APP_URL}/login`);
  await page.waitForURL(`${env.APP_URL}/`);
  await page.goto(`${env.APP_URL}/account`);
  await page.getByText('with a passkey').first().waitFor();
  await page.goto(`${env.APP_URL}/admin`);
  if (!/\/admin/.test(page.url()) || /second-factor/.test(page.url())) fail(`the passkey did not count as two steps: ${page.url()}`);
  pass('passkey-autofill', 'the sign-in page offered the passkey in autofill; signed in and reached /admin (multi-factor)');
  await context.addInitScript(() => {
    if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await context.clearCookies();
  await page.goto(`${env.APP_URL}/login`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL(`${env.APP_URL}/`);
  pass('passkey-alone', 'signed in by the button without a username or password');

  // 5. Forged answers on the sign-in page.
  for (const [tamper, why] of [['challenge', 'another challenge'], ['origin', 'another origin'], ['user', 'another user']]) {
    await context.clearCookies();
    await page.goto(`${env.APP_URL}/login`);
    const answer = await ceremony({ optionsUrl: '/login/passkey/options', action: '/login/passkey', tamper });
    if (answer.status !== 401 || !answer.text.includes('was not accepted')) fail(`${why}: ${answer.status}`);
  }
  const noCeremony = await page.evaluate(async () => (await fetch('/login/passkey', { method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf_token: document.querySelector('input[name=csrf_token]').value, credential: '{"garbage":' }) })).status);
  if (noCeremony !== 400 && noCeremony !== 401) fail(`a malformed answer answered ${noCeremony}`);
  pass('forged-answers', 'answers for another challenge, origin or user refused with 401; malformed refused');

  // 6. A USB security key as the second step after the password; the platform one stays quiet.
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: platform, enabled: false });
  const { authenticatorId: usb } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false,
      automaticPresenceSimulation: true },
  });
  await signInWithPassword();
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  await page.getByText('Lost your phone? Use a recovery code').click();
  await page.locator('#recovery_code').fill(codes[2]);
  await page.getByRole('button', { name: 'Use the recovery code' }).click();
  await page.waitForURL(`${env.APP_URL}/`);
  await accountForm();
  await page.locator('#passkey_name').fill('Blue key');
  await page.getByRole('button', { name: 'Add a security key' }).click();
  await page.getByRole('button', { name: 'Register the security key' }).click();
  await page.waitForURL(/\/account\?done=passkey$/);
  await page.getByText('Blue key').first().waitFor();
  await signInWithPassword();
  await page.getByRole('button', { name: 'Use a passkey or security key' }).click();
  await page.waitForURL(`${env.APP_URL}/`);
  const { credentials: onKey } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: usb });
  if (onKey.length !== 1 || onKey[0].signCount < 1) fail(`the USB key was not used: ${JSON.stringify(onKey)}`);
  pass('security-key', 'a USB security key registered, then used as the second step after the password');

  // 7. The passkey removed: listed no more, and it no longer signs in.
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: platform, enabled: true });
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: usb });
  await accountForm();
  await page.getByRole('button', { name: 'Remove Office laptop' }).click();
  await page.waitForURL(/\/account\?done=passkey_removed$/);
  if (await page.locator('ul.passkeys li', { hasText: 'Office laptop' }).count() !== 0) fail('the removed passkey is still listed');
  await context.clearCookies();
  await page.goto(`${env.APP_URL}/login`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.getByText('was not accepted').first().waitFor();
  if (new URL(page.url()).pathname !== '/login/passkey') fail(`a removed passkey signed in: ${page.url()}`);
  pass('remove-passkey', 'removed from the account page; the authenticator still has it but it is refused');
} catch (e) {
  console.log(`FAIL  ${e.stack || e}`);
  console.log(`URL   ${page.url()}`);
  console.log(consoleLines.map((l) => `CONSOLE ${l}`).join('\n'));
  console.log(await page.content().catch(() => ''));
  process.exitCode = 1;
} finally {
  await browser.close();
}
