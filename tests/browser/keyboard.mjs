// Keyboard only: signing in, consenting, the QR page and creating a user in the admin pages,
// with Tab, Shift+Tab, Enter and Space and nothing else. On every page it passes through, the tab
// order must follow the reading order and every focused element must show a focus ring of at
// least 3:1 against what surrounds it. Driven by tests/it/browser.rs. Environment as a11y.mjs.
import { chromium } from 'playwright-core';

const env = process.env;
// A shared lab computer's address, sent through the test server's trusted proxy (127.0.0.1).
const LAB_IP = env.LAB_IP || '10.20.1.5';
const at = (path) => `${env.APP_URL}${path}`;
const failures = [];
const fail = (what) => failures.push(what);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// What is focused: where it is, its name, and its focus ring against the colour behind it.
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const behind = (node) => {
      for (let n = node; n; n = n.parentElement) {
        const c = rgb(getComputedStyle(n).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const style = getComputedStyle(el);
    const ring = rgb(style.outlineColor).slice(0, 3);
    const back = behind(el.parentElement);
    const [l1, l2] = [luminance(ring), luminance(back)].sort((a, b) => b - a);
    const box = el.getBoundingClientRect();
    return {
      name: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30)}"`,
      top: box.top + window.scrollY,
      left: box.left + window.scrollX,
      bottom: box.bottom + window.scrollY,
      ringVisible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
      contrast: (l1 + 0.05) / (l2 + 0.05),
    };
  });
}

// Tabs through the whole page from its top, checking the order and each focus ring.
async function walk(page, label) {
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  await page.evaluate(() => document.body.focus());
  const seen = [];
  for (let i = 0; i < 80; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (!f || (seen.length && f.name === seen[0].name && Math.abs(f.top - seen[0].top) < 1)) break;
    seen.push(f);
    if (!f.ringVisible) fail(`${label}: ${f.name} has no visible focus ring`);
    else if (f.contrast < 3) fail(`${label}: ${f.name} focus ring is ${f.contrast.toFixed(2)}:1`);
  }
  for (let i = 1; i < seen.length; i += 1) {
    const [a, b] = [seen[i - 1], seen[i]];
    // Reading order: never upwards to an earlier line, and left to right on the same line.
    const sameLine = b.top < a.bottom - 2 && a.top < b.bottom - 2;
    if ((!sameLine && b.top < a.top - 2) || (sameLine && b.left < a.left - 2)) {
      fail(`${label}: Tab goes from ${a.name} back to ${b.name}`);
    }
  }
  if (seen.length < 3) fail(`${label}: only ${seen.length} focusable elements reached`);
  return seen;
}

// Presses Tab until the element matching `selector` has focus.
async function tabTo(page, selector, label) {
  for (let i = 0; i < 60; i += 1) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${label}: Tab never reached ${selector}`);
}

try {
  for (const [size, viewport] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1280, height: 800 }]]) {
    const context = await browser.newContext({ viewport });
    let page = await context.newPage();

    // Sign in for an app, then consent, by keyboard.
    // prompt=consent: the second run asks again, though the first was allowed.
    await page.goto(`${env.AUTHORIZE_URL}&prompt=consent`);
    await walk(page, `sign-in (${size})`);
    await page.evaluate(() => document.body.focus());
    await tabTo(page, '#username', 'sign-in');
    await page.keyboard.type(env.STUDENT);
    await page.keyboard.press('Tab');
    if (!(await page.evaluate(() => document.activeElement?.id === 'password'))) fail('sign-in: Tab from the username does not reach the password');
    await page.keyboard.type(env.PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/consent\?/);
    const consent = await walk(page, `consent (${size})`);
    const buttons = consent.filter((f) => f.name.startsWith('button'));
    if (buttons.length < 2 || !buttons[0].name.includes('Allow')) fail(`consent: the first button Tab reaches is ${buttons[0]?.name}, not Allow`);
    await page.evaluate(() => document.body.focus());
    await tabTo(page, 'button[value=allow]', 'consent');
    // The browser is sent on to the app (nothing listens there: the request itself is the proof).
    const toApp = page.waitForRequest((r) => r.url().startsWith(env.REDIRECT_URI));
    await page.keyboard.press('Enter');
    if (!new URL((await toApp).url()).searchParams.get('code')) fail('consent: the app did not get a code');
    // Nothing listens at the app's address; go on in a fresh tab of the same browser.
    await page.close();
    page = await context.newPage();
    console.log(`PASS  keyboard-sign-in-consent  ${size}: signed in and allowed with the keyboard alone`);

    // A step-up's enrolment (the student has no factor): the password, then the first code.
    await page.goto(at('/login/second-factor?return_to=%2F'));
    const enrol = await walk(page, `step-up enrolment (${size})`);
    const typed = enrol.findIndex((f) => f.name.startsWith('input#current_password'));
    const codeField = enrol.findIndex((f) => f.name.startsWith('input#code'));
    if (typed < 0 || codeField < 0 || typed > codeField) fail(`step-up enrolment: Tab reaches the password at ${typed}, the code at ${codeField}`);
    console.log(`PASS  keyboard-step-up  ${size}: the step-up's enrolment asks for the password, then the code, in Tab order`);

    // Sign-out's confirmation: both buttons reachable in order, neither crushed.
    await page.goto(at('/logout'));
    const logout = await walk(page, `sign out (${size})`);
    const stay = await page.locator('a.button.secondary').boundingBox();
    const leave = await page.locator('form[action="/logout"] button.primary').boundingBox();
    if (!stay || !leave || stay.width < leave.width * 0.9) fail(`sign out: "Stay signed in" is ${stay?.width}px beside ${leave?.width}px`);
    const signOut = logout.findIndex((f) => f.name.startsWith('button'));
    const stayLink = logout.findIndex((f, i) => i > signOut && f.name.startsWith('a '));
    if (signOut < 0 || stayLink < 0) fail('sign out: Tab does not reach "Sign out" then "Stay signed in"');
    await page.evaluate(() => document.body.focus());
    await tabTo(page, 'form[action="/logout"] button.primary', 'sign out');
    await page.keyboard.press('Enter');
    await page.waitForLoadState('load');

    // The QR page: its links reachable; when the code is refused, a new one offered in place.
    // The lab computer is on the shared network, where the QR sign-in is offered.
    const lab = await browser.newContext({ viewport, extraHTTPHeaders: { 'X-Forwarded-For': LAB_IP } });
    const labPage = await lab.newPage();
    await labPage.goto(at('/login/qr'));
    await walk(labPage, `QR sign-in (${size})`);
    const live = await labPage.locator('#qr-status').getAttribute('aria-live');
    if (live !== 'polite') fail('QR: the status is not a live region');
    const code = (await labPage.locator('.user-code').textContent()).trim();
    await page.goto(at(`/device?user_code=${code}`));
    await page.locator('#username').fill(env.STUDENT);
    await page.locator('#password').fill(env.PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/device\?/);
    await walk(page, `device confirmation (${size})`);
    await page.evaluate(() => document.body.focus());
    await tabTo(page, 'button[value=deny]', 'device');
    await page.keyboard.press('Enter');
    await labPage.locator('#qr-renew:not([hidden])').waitFor({ timeout: 15000 });
    await labPage.evaluate(() => document.body.focus());
    await tabTo(labPage, '#qr-renew a', 'QR new code');
    await labPage.keyboard.press('Enter');
    // Enter starts a navigation; 'load' of the page still showing would come first.
    await labPage.waitForFunction((old) => {
      const shown = document.querySelector('.user-code');
      return shown && shown.textContent.trim() !== old;
    }, code, { timeout: 15000 }).catch(() => {});
    await labPage.waitForLoadState('load');
    const code2 = (await labPage.locator('.user-code').textContent()).trim();
    if (code2 === code) fail('QR: the new code is the old one');
    await lab.close();
    console.log(`PASS  keyboard-qr  ${size}: the QR page's links and its new code are reached by keyboard`);

    // An admin creates a user, by keyboard.
    await page.goto(at('/logout'));
    await page.locator('form[action="/logout"] button.primary').click();
    await page.goto(at('/admin'));
    await page.locator('#username').fill(env.ADMIN);
    await page.locator('#password').fill(env.PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/users/);
    await walk(page, `admin users (${size})`);
    await page.evaluate(() => document.body.focus());
    await tabTo(page, 'a[href="/admin/users/new"].button', 'admin');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/users\/new/);
    await walk(page, `admin new user (${size})`);
    await page.evaluate(() => document.body.focus());
    await tabTo(page, '#username', 'admin new user');
    await page.keyboard.type(`keys-${size}`);
    await tabTo(page, '#email', 'admin new user');
    await page.keyboard.type('not an address');
    await tabTo(page, '#role_faculty', 'admin new user');
    await page.keyboard.press('Space');
    await tabTo(page, 'form[action="/admin/users/new"] button.primary', 'admin new user');
    await page.keyboard.press('Enter');
    // The answer is the same address with the problems: wait for them, not for 'load' of the
    // page still showing.
    await page.locator('#form-errors').waitFor({ timeout: 15000 }).catch(() => {});
    await page.waitForLoadState('load');
    // The problem is announced and tied to its field; the summary links to it.
    const invalid = await page.locator('#email').getAttribute('aria-invalid');
    const describedBy = await page.locator('#email').getAttribute('aria-describedby');
    if (invalid !== 'true' || describedBy !== 'email-error') fail(`admin: the e-mail's problem is not tied to it (${invalid}, ${describedBy})`);
    if (!(await page.locator('#form-errors[role=alert] a[href="#email"]').count())) fail('admin: no announced summary linking to the field');
    await walk(page, `admin new user with errors (${size})`);
    await page.locator('#email').fill('');
    await page.locator('#email').focus();
    await page.keyboard.type(`keys-${size}@students.hccc.edu`);
    if (!(await page.locator('#role_faculty').isChecked())) fail('admin: the ticked role was not kept');
    await tabTo(page, 'form[action="/admin/users/new"] button.primary', 'admin new user');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/users\/[0-9a-f-]+\?done=created/);
    await page.getByText('Created.').waitFor();
    console.log(`PASS  keyboard-admin  ${size}: a user created with the keyboard alone, its error tied to its field`);
    await context.close();
  }
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(failures.join('\n'));
  process.exit(1);
}
console.log('PASS  keyboard  tab order follows the reading order; every focus ring is 3:1 or more');
