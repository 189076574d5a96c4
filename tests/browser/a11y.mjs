// Accessibility, measured: visits every page in every state a person can reach, in English and
// Spanish, at phone (390×844) and desktop (1280×800) sizes, and runs axe-core with the WCAG 2.1
// A and AA rules. Any violation fails the run. Each page must also carry <html lang> of its
// language and show no raw catalog key. Prints a table of pages × languages × sizes.
// Driven by tests/it/browser.rs. Environment: APP_URL, ADMIN, STUDENT, TEMP_USER (a temporary
// password's account), PASSWORD, TEMP_PASSWORD, AUTHORIZE_URL (an app that asks for consent),
// REDIRECT_URI (that app's), LOCALES (the catalogs' folder), TOTP_KEY (the base32 key of the
// accounts guard-1…4), CLOCK_NOW (the server's frozen clock, for their codes).
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';

const env = process.env;
// A shared lab computer's address, sent through the test server's trusted proxy (127.0.0.1).
const LAB_IP = env.LAB_IP || '10.20.1.5';
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const SIZES = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1280, height: 800 } },
};
// Every catalog key: none may reach a page as it is.
const KEYS = readFileSync(`${env.LOCALES}/en/main.ftl`, 'utf8')
  .split('\n').map((l) => l.match(/^([a-z][a-z0-9_-]*) =/)).filter(Boolean).map((m) => m[1])
  .filter((k) => k.includes('-'));

const results = [];
const failures = [];

async function check(page, name, lang, size, { loaded = true, pageLang = lang } = {}) {
  if (loaded) await page.waitForLoadState('load');
  const found = await page.evaluate(async ({ axe, tags, keys }) => {
    if (!window.axe) { (0, eval)(axe); }
    const run = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    const text = document.body.innerText;
    const rawKeys = keys.filter((k) => new RegExp(`(^|[^\\w-])${k}($|[^\\w-])`).test(text));
    // Beyond axe: problems tied to their fields, credential fields the browser can fill,
    // nothing wider than the screen.
    const untied = [...document.querySelectorAll('[aria-invalid=true]')].filter((el) => {
      const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
      return !ids.length || ids.some((id) => !(document.getElementById(id)?.textContent.trim()));
    }).map((el) => el.id || el.name);
    const unfillable = [...document.querySelectorAll('input[type=password]')]
      .filter((el) => !['current-password', 'new-password'].includes(el.getAttribute('autocomplete')))
      .map((el) => el.id);
    const login = document.querySelector('form[action="/login"] #username');
    // `username`, with `webauthn` after it where passkeys are offered in the autofill.
    const tokens = (login?.getAttribute('autocomplete') || '').split(/\s+/);
    if (login && (tokens[0] !== 'username' || tokens.some((t) => !['username', 'webauthn'].includes(t)))) unfillable.push('username');
    return {
      lang: document.documentElement.lang,
      rawKeys,
      untied,
      unfillable,
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      violations: run.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) })),
    };
  }, { axe: AXE, tags: TAGS, keys: KEYS });
  const problems = [];
  if (found.lang !== pageLang) problems.push(`<html lang="${found.lang}">, expected ${pageLang}`);
  if (found.rawKeys.length) problems.push(`raw catalog keys: ${found.rawKeys.join(', ')}`);
  if (found.untied.length) problems.push(`aria-invalid without a described problem: ${found.untied.join(', ')}`);
  if (found.unfillable.length) problems.push(`credential fields without autocomplete: ${found.unfillable.join(', ')}`);
  if (found.overflow > 0) problems.push(`${found.overflow}px wider than the screen`);
  for (const v of found.violations) problems.push(`${v.id} (${v.impact}): ${v.nodes.join(' | ')}`);
  results.push({ name, lang, size, violations: found.violations.length });
  if (problems.length) failures.push(`${name} [${lang}, ${size}]: ${problems.join('; ')}`);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const text = { en: {}, es: {} };
for (const lang of ['en', 'es']) {
  for (const l of readFileSync(`${env.LOCALES}/${lang}/main.ftl`, 'utf8').split('\n')) {
    const m = l.match(/^([a-z][a-z0-9_-]*) = (.*)$/);
    if (m) text[lang][m[1]] = m[2];
  }
}

async function newPage(lang, size) {
  const context = await browser.newContext({ ...SIZES[size], locale: lang === 'es' ? 'es-US' : 'en-US',
    extraHTTPHeaders: { 'Accept-Language': lang === 'es' ? 'es-US,es;q=0.9' : 'en-US,en;q=0.9' } });
  return { context, page: await context.newPage() };
}

// The code an authenticator app shows for `key` at the server's time, by oathtool.
const codeFor = (key) => execFileSync('oathtool', ['--totp', '-b', '-N', `@${env.CLOCK_NOW}`, key]).toString().trim();

async function signIn(page, lang, username, password) {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('form[action="/login"] button[type=submit]').click();
  await page.waitForLoadState('load');
}

let combo = 0;
try {
  for (const lang of ['en', 'es']) {
    for (const size of ['phone', 'desktop']) {
      combo += 1;
      const { context, page } = await newPage(lang, size);
      const at = (path) => `${env.APP_URL}${path}`;

      // Signed out: home, sign-in, a wrong password, a lockout, error pages.
      await page.goto(at('/'));
      await check(page, 'home (signed out)', lang, size);
      await page.goto(at('/login'));
      await check(page, 'sign-in', lang, size);
      await signIn(page, lang, `wrong-${combo}`, 'not the password');
      await check(page, 'sign-in: wrong password', lang, size);
      for (let i = 0; i < 4; i += 1) {
        await page.goto(at('/login'));
        await signIn(page, lang, `locked-${combo}`, 'not the password');
      }
      await check(page, 'sign-in: locked', lang, size);
      await page.goto(at('/no/such/page'));
      await check(page, 'error: not found', lang, size);
      await page.goto(at('/authorize?client_id=not-a-client'));
      await check(page, 'error: unknown app', lang, size);
      await page.goto(at('/login?request=00000000-0000-0000-0000-000000000000'));
      await check(page, 'error: sign-in expired', lang, size);

      // Forgot password, and the pages e-mailed links open (opening them spends nothing).
      await page.goto(at('/account/forgot'));
      await check(page, 'forgot password', lang, size);
      await page.locator('form[action="/account/forgot"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'forgot password: nothing typed', lang, size);
      await page.locator('#login').fill(`nobody-${combo}`);
      await page.locator('form[action="/account/forgot"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'forgot password: sent', lang, size);
      await page.goto(env.WELCOME_URL);
      await check(page, 'invitation: choose a password', lang, size);
      await page.locator('#new_password').fill('short');
      await page.locator('#confirm_password').fill('short');
      await page.locator('form[action="/account/welcome"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'invitation: errors', lang, size);
      await page.goto(env.RESET_URL);
      await check(page, 'reset: choose a new password', lang, size);
      await page.goto(env.CONFIRM_URL);
      await check(page, 'confirm address', lang, size);
      await page.goto(at('/account/welcome?token=not-a-link'));
      await check(page, 'error: link does not work', lang, size);

      // A temporary password: the page to choose a new one, and its errors.
      await page.goto(at('/login'));
      await signIn(page, lang, env.TEMP_USER, env.TEMP_PASSWORD);
      await check(page, 'new password', lang, size);
      await page.locator('#new_password').fill('a new long password');
      await page.locator('#confirm_password').fill('not the same one');
      await page.locator('form[action="/login/password"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'new password: errors', lang, size);

      // A shared computer's QR sign-in: waiting; a phone confirms the code; denied; approved.
      // The lab computer is on the shared network (behind the test's trusted proxy): only there is
      // the QR sign-in offered.
      const lab = await context.browser().newContext({ ...SIZES[size], extraHTTPHeaders: { 'Accept-Language': lang, 'X-Forwarded-For': LAB_IP } });
      const labPage = await lab.newPage();
      await labPage.goto(at('/login/qr'));
      await check(labPage, 'QR sign-in: waiting', lang, size);
      const code = (await labPage.locator('.user-code').textContent()).trim();
      await page.goto(at(`/device?user_code=${code}`));
      await signIn(page, lang, env.STUDENT, env.PASSWORD);
      await check(page, 'device: confirm the code', lang, size);
      await page.locator('button[value=deny]').click();
      await page.waitForLoadState('load');
      await check(page, 'device: cancelled', lang, size);
      await labPage.locator('#qr-renew:not([hidden])').waitFor({ timeout: 15000 });
      await check(labPage, 'QR sign-in: denied, new code offered', lang, size);
      await labPage.locator('#qr-renew a').click();
      await labPage.waitForLoadState('load');
      const code2 = (await labPage.locator('.user-code').textContent()).trim();
      await page.goto(at('/device'));
      await check(page, 'device: enter a code', lang, size);
      await page.locator('#user_code').fill('BBBB-BBBB');
      await page.locator('form[action="/device"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'device: wrong code', lang, size);
      await page.locator('#user_code').fill(code2);
      await page.locator('form[action="/device"] button').click();
      await page.waitForLoadState('load');
      await page.locator('button[value=allow]').click();
      await page.waitForLoadState('load');
      await check(page, 'device: allowed', lang, size);
      // Hold the page the approval leads to, so the approved state can be measured first.
      let release;
      const held = new Promise((r) => { release = r; });
      await labPage.route((url) => url.pathname === '/' || url.pathname.startsWith('/authorize/continue'), async (route) => { await held; await route.continue(); });
      await labPage.locator('#qr-status').filter({ hasText: text[lang]['qr-status-approved'] }).waitFor({ timeout: 15000 });
      await check(labPage, 'QR sign-in: approved', lang, size, { loaded: false });
      release();
      await lab.close();

      // Signed in: an app asking for consent, home, the password page and its errors, logout.
      await page.goto(env.AUTHORIZE_URL);
      await page.waitForLoadState('load');
      await check(page, 'consent', lang, size);
      await page.goto(at('/'));
      await check(page, 'home (signed in)', lang, size);
      await page.goto(at('/account'));
      await check(page, 'account', lang, size);
      await page.locator('#email').fill('not-an-address');
      await page.locator('#current_password').fill(env.PASSWORD);
      await page.locator('form[action="/account/email"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'account: errors', lang, size);
      // A change of address waiting for its confirmation, with its cancel; then cancelled.
      await page.locator('#email').fill(`waiting-${combo}@elsewhere.example`);
      await page.locator('#current_password').fill(env.PASSWORD);
      await page.locator('form[action="/account/email"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'account: change of address waiting', lang, size);
      await page.locator('form[action="/account/email/cancel"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'account: change of address cancelled', lang, size);
      // The second step opened by a signed-in person without a factor (a step-up): enrolling
      // asks for the password with the first code, and a wrong one is shown under its field.
      await page.goto(at('/login/second-factor?return_to=%2Faccount'));
      await check(page, 'second step: enrol on a step-up', lang, size);
      await page.locator('#current_password').fill('not my password');
      await page.locator('#code').fill('000000');
      await page.locator('form[action="/login/second-factor/enrol"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'second step: enrol on a step-up, wrong password', lang, size);
      await page.goto(at('/account'));
      await page.locator('form[action="/account/profile"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'account: saved', lang, size);
      await page.goto(at('/account/password'));
      await check(page, 'account password', lang, size);
      await page.locator('#current_password').fill(env.PASSWORD);
      await page.locator('#new_password').fill('another long password');
      await page.locator('#confirm_password').fill('not the same password');
      await page.locator('form[action="/account/password"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'account password: errors', lang, size);
      // Two-step verification from the account page: the password, the key, the first code.
      await page.goto(at('/account#factors'));
      await page.locator('#factor_password').fill('not my password');
      await page.locator('form[action="/account/totp"] button.primary').click();
      await page.waitForLoadState('load');
      await check(page, 'account: two-step, wrong password', lang, size);
      await page.locator('#factor_password').fill(env.PASSWORD);
      await page.locator('form[action="/account/totp"] button.primary').click();
      await page.waitForLoadState('load');
      await check(page, 'authenticator app: scan the code', lang, size);
      const key = (await page.locator('#totp-key').innerText()).replace(/\s/g, '');
      await page.locator('#code').fill(codeFor(key) === '000000' ? '111111' : '000000');
      await page.locator('form[action="/account/totp/confirm"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'authenticator app: wrong code', lang, size);
      await page.locator('#code').fill(codeFor(key));
      await page.locator('form[action="/account/totp/confirm"] button').click();
      await page.waitForLoadState('load');
      await check(page, 'recovery codes', lang, size);
      await page.goto(at('/account#factors'));
      await check(page, 'account: two-step on', lang, size);
      // Off again, so the next language and size start from the same account.
      await page.locator('#factor_password').fill(env.PASSWORD);
      await page.locator('button[formaction="/account/totp/remove"]').click();
      await page.waitForLoadState('load');
      await page.goto(at('/logout'));
      await check(page, 'sign out: confirm', lang, size);
      await page.locator('form[action="/logout"] button[type=submit]').click();
      await page.waitForLoadState('load');
      await check(page, 'signed out', lang, size);

      // The second step of a sign-in: a code (wrong, then right), and enrolling when required.
      await page.goto(at('/login'));
      await signIn(page, lang, `guard-${combo}`, env.PASSWORD);
      await check(page, 'sign-in: second factor', lang, size);
      await page.locator('#code').fill(codeFor(env.TOTP_KEY) === '000000' ? '111111' : '000000');
      await page.locator('form:has(#code) button[type=submit]').click();
      await page.waitForLoadState('load');
      await check(page, 'sign-in: wrong code', lang, size);
      await page.locator('#code').fill(codeFor(env.TOTP_KEY));
      await page.locator('#remember_browser').check();
      await page.locator('form:has(#code) button[type=submit]').click();
      await page.waitForLoadState('load');
      if (new URL(page.url()).pathname !== '/') throw new Error(`the right code did not sign in: ${page.url()}`);
      await page.goto(at('/account#remembered'));
      await check(page, 'account: remembered browsers', lang, size);
      await page.locator('button[name=remembered_id][value=all]').click();
      await page.waitForLoadState('load');
      await check(page, 'account: browsers forgotten', lang, size);
      // Passkeys and security keys on the account page, a name too long, the registration page.
      await page.goto(at('/account#passkeys'));
      await check(page, 'account: passkeys and security keys', lang, size);
      await page.locator('#factor_password').fill(env.PASSWORD);
      // Past the field's maxlength, as a script could send it.
      await page.locator('#passkey_name').evaluate((field) => field.removeAttribute('maxlength'));
      await page.locator('#passkey_name').fill('x'.repeat(65));
      await page.locator('button[formaction="/account/passkeys"][value=passkey]').click();
      await page.waitForLoadState('load');
      await check(page, 'account: passkey name too long', lang, size);
      await page.locator('#factor_password').fill(env.PASSWORD);
      await page.locator('button[formaction="/account/passkeys"][value=security_key]').click();
      await page.waitForLoadState('load');
      await check(page, 'passkey: register a security key', lang, size);
      await page.goto(at('/logout'));
      await page.locator('form[action="/logout"] button[type=submit]').click();
      await page.waitForLoadState('load');
      await page.goto(at('/login'));
      await signIn(page, lang, 'staffer', env.PASSWORD);
      await check(page, 'sign-in: must set up two-step', lang, size);

      // An admin's pages, with and without form errors.
      await page.goto(at('/admin'));
      await signIn(page, lang, env.ADMIN, env.PASSWORD);
      await check(page, 'admin: users', lang, size);
      await page.goto(at('/admin/users?search=zzz'));
      await check(page, 'admin: users, filtered to none', lang, size);
      await page.goto(at('/admin/users/new'));
      await check(page, 'admin: new user', lang, size);
      await page.locator('#username').fill('bad name');
      await page.locator('#email').fill('not-an-address');
      await page.locator('form[action="/admin/users/new"] button[type=submit]').click();
      await page.waitForLoadState('load');
      await check(page, 'admin: new user, errors', lang, size);
      await page.locator('#username').fill(`made-${combo}`);
      await page.locator('#email').fill(`made-${combo}@students.hccc.edu`);
      await page.locator('#password').fill('a long enough password');
      await page.locator('form[action="/admin/users/new"] button[type=submit]').click();
      await page.waitForLoadState('load');
      await check(page, 'admin: user, created', lang, size);
      await page.locator('#given_name').fill('x'.repeat(101));
      await page.locator('form[action^="/admin/users/"] button.primary').click();
      await page.waitForLoadState('load');
      await check(page, 'admin: user, errors', lang, size);
      await page.goto(at(`/admin/users/${env.INVITEE_ID}`));
      await check(page, 'admin: user with links not sent', lang, size);
      await page.goto(at('/admin/clients'));
      await check(page, 'admin: apps', lang, size);
      await page.goto(at('/admin/clients/new'));
      await check(page, 'admin: new app', lang, size);
      await page.locator('#name').fill('Library');
      await page.locator('#redirect_uris').fill('http://library.hccc.edu/cb');
      await page.locator('form[action="/admin/clients/new"] button[type=submit]').click();
      await page.waitForLoadState('load');
      await check(page, 'admin: new app, errors', lang, size);
      await page.locator('#redirect_uris').fill('https://library.hccc.edu/cb');
      await page.locator('form[action="/admin/clients/new"] button[type=submit]').click();
      await page.waitForLoadState('load');
      await check(page, 'admin: app secret', lang, size);
      await page.locator('a.button').click();
      await page.waitForLoadState('load');
      await check(page, 'admin: app', lang, size);
      await page.goto(at('/admin/keys'));
      await check(page, 'admin: signing keys', lang, size);
      await page.goto(at('/admin/audit'));
      await check(page, 'admin: audit log', lang, size);
      await page.goto(at('/admin/audit?action=user.create&from=2000-01-01'));
      await check(page, 'admin: audit log, filtered', lang, size);
      await page.goto(at('/admin/import'));
      await check(page, 'admin: import', lang, size);
      const upload = async (csv) => {
        await page.goto(at('/admin/import'));
        await page.locator('#file').setInputFiles({ name: 'students.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
        await page.locator('button[value=dry_run]').click();
        await page.waitForLoadState('load');
      };
      await upload('username,email\nbad name,bad@students.hccc.edu\n');
      await check(page, 'admin: import, rejected rows', lang, size);
      await upload(`username,email,locale\nimp-${combo},imp-${combo}@students.hccc.edu,es\n`);
      await check(page, 'admin: import, dry run', lang, size);
      await page.goto(at('/docs/'));
      await page.getByText('/api/v1/users/{id}').first().waitFor({ timeout: 20000 });
      // The API reference is written in English (as the API speaks); its page says so.
      await check(page, 'API docs', lang, size, { pageLang: 'en' });
      await context.close();
    }
  }
} finally {
  await browser.close();
}

// The table: one row per page, a column per language and size.
const columns = ['en phone', 'en desktop', 'es phone', 'es desktop'];
const rows = new Map();
for (const r of results) {
  if (!rows.has(r.name)) rows.set(r.name, {});
  rows.get(r.name)[`${r.lang} ${r.size}`] = r.violations;
}
const width = Math.max(...[...rows.keys()].map((k) => k.length));
console.log(`${'page'.padEnd(width)}  ${columns.join('  ')}`);
for (const [name, cells] of rows) {
  console.log(`${name.padEnd(width)}  ${columns.map((c) => String(cells[c] ?? '-').padStart(c.length)).join('  ')}`);
}
console.log(`axe: ${results.length} checks (${rows.size} pages × 2 languages × 2 sizes), ${results.reduce((n, r) => n + r.violations, 0)} violations`);
if (failures.length) {
  console.log(failures.join('\n'));
  process.exit(1);
}
console.log('PASS  axe  every page, both languages, both sizes: zero violations');
