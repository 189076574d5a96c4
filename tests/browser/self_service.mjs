// Accounts people run themselves, as a new admin and a new student would, in a real browser:
// the admin imports students by CSV and invites every account without a password; a student
// opens the e-mailed link during the library app's sign-in, sets a password and lands signed in
// in the library; later resets a forgotten password (a mail scanner opens the link first),
// confirms a changed address, signs out a lab computer from the account page (the library hears
// of it over the back channel) and removes the library's access (its refresh token then fails).
// Driven by tests/it/browser.rs. Environment: APP_URL, RP_URL (the library, which also serves
// /mailbox for the tests), ADMIN, PASSWORD.
import { chromium } from 'playwright-core';

const env = process.env;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const expectText = async (page, text) => page.getByText(text).first().waitFor({ timeout: 10000 });
const pass = (step, what) => console.log(`PASS  ${step}  ${what}`);

/** The newest link e-mailed to `to` for `path`, waiting for it to arrive. */
async function mailbox(to, path, notThis) {
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${env.RP_URL}/mailbox?to=${encodeURIComponent(to)}&path=${encodeURIComponent(path)}`);
    if (r.ok) {
      const link = await r.text();
      if (link !== notThis) return link;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${path} link reached ${to}`);
}

async function signIn(page, username, password) {
  await page.getByLabel('Username or college e-mail').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

try {
  // The admin imports three students and invites everyone without a password.
  const admin = await (await browser.newContext()).newPage();
  await admin.goto(`${env.APP_URL}/admin/import`);
  await signIn(admin, env.ADMIN, env.PASSWORD);
  await admin.waitForURL(/\/admin\/import/);
  const csv = 'username,email,given_name,family_name,roles,groups,locale,recovery_email\n'
    + 'jdiaz,jdiaz@students.hccc.edu,Julia,Díaz,student,Nursing,es,julia.diaz@home.example\n'
    + 'mchen,mchen@students.hccc.edu,Ming,Chen,student,Nursing,,\n'
    + 'okafor,okafor@students.hccc.edu,Ada,Okafor,student,Business,en,\n';
  await admin.getByLabel('CSV file').setInputFiles({ name: 'students.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await admin.getByRole('button', { name: 'Check the file (dry run)' }).click();
  await expectText(admin, '3 to create');
  await admin.getByRole('button', { name: 'Import now' }).click();
  await expectText(admin, 'Import complete.');
  await admin.getByRole('button', { name: 'Invite every account without a password' }).click();
  await expectText(admin, '3 invitations are on their way.');
  pass('import-invite', 'three students imported by CSV and invited from the users list');

  // Julia starts at the library, finds she has no password, opens her invitation in a new tab.
  const julia = await browser.newContext({ locale: 'es-US' });
  const library = await julia.newPage();
  await library.goto(env.RP_URL);
  await library.locator('#sign-in').click();
  await library.waitForURL(/\/login\?request=/);
  const invitation = await mailbox('julia.diaz@home.example', '/account/welcome');
  const tab = await julia.newPage();
  await tab.goto(invitation);
  await tab.getByRole('heading', { name: 'Bienvenido: elija su contraseña' }).waitFor();
  await tab.getByLabel('Contraseña nueva', { exact: true }).fill('short');
  await tab.getByLabel('Repita la contraseña nueva').fill('short');
  await tab.getByRole('button', { name: 'Guardar mi contraseña e iniciar sesión' }).click();
  await tab.locator('#new_password-error').waitFor();
  await tab.getByLabel('Contraseña nueva', { exact: true }).fill('sunlit harbor after rain');
  await tab.getByLabel('Repita la contraseña nueva').fill('sunlit harbor after rain');
  await tab.getByRole('button', { name: 'Guardar mi contraseña e iniciar sesión' }).click();
  // The library asks for consent (offline access), then she is in.
  await tab.getByRole('button', { name: 'Permitir', exact: true }).click();
  await tab.waitForURL(`${env.RP_URL}/`);
  await expectText(tab, 'Signed in to the library as jdiaz');
  pass('invitation-to-app', 'the Spanish invitation set a password and continued the library sign-in');

  // Later she forgets it. A mail scanner opens the link before she does.
  const laptop = await (await browser.newContext({ locale: 'en-US' })).newPage();
  await laptop.goto(`${env.APP_URL}/login`);
  await laptop.getByRole('link', { name: 'Forgot your password?' }).click();
  await laptop.getByLabel('Username or e-mail address').fill('jdiaz');
  await laptop.getByRole('button', { name: 'Send me a link' }).click();
  await laptop.getByRole('status').waitFor();
  const reset = await mailbox('julia.diaz@home.example', '/account/reset');
  const scanner = await browser.newContext();
  for (const method of ['head', 'get']) {
    const r = await scanner.request.fetch(reset, { method: method.toUpperCase() });
    if (r.status() !== 200) throw new Error(`scanner ${method}: ${r.status()}`);
  }
  await laptop.goto(reset);
  await laptop.getByLabel('Contraseña nueva', { exact: true }).fill('quiet meadow before dawn');
  await laptop.getByLabel('Repita la contraseña nueva').fill('quiet meadow before dawn');
  await laptop.getByRole('button', { name: 'Guardar mi contraseña nueva' }).click();
  await laptop.waitForURL(`${env.APP_URL}/`);
  await laptop.goto(reset);
  await laptop.getByRole('heading', { name: 'This link does not work' }).waitFor();
  // The reset ended the library session of her first browser.
  await library.goto(env.RP_URL);
  await expectText(library, 'Not signed in');
  pass('reset-after-scanner', 'the reset link survived a scanner\'s HEAD and GET, worked once, then never again; the library was signed out');

  // A change typed wrong is cancelled from the account page while it waits: its link dies.
  await laptop.goto(`${env.APP_URL}/account`);
  await laptop.getByLabel('Nuevo correo electrónico').fill('julia@typo.example');
  await laptop.locator('#current_password').fill('quiet meadow before dawn');
  await laptop.getByRole('button', { name: 'Cambiar mi correo electrónico' }).click();
  await laptop.getByText('julia@typo.example').first().waitFor();
  await laptop.getByRole('button', { name: 'Cancelar este cambio' }).click();
  await expectText(laptop, 'Se canceló el cambio de dirección');
  if (await laptop.getByText('julia@typo.example').count()) throw new Error('the cancelled address is still shown as waiting');
  const typo = await mailbox('julia@typo.example', '/account/confirm');
  await laptop.goto(typo);
  await laptop.getByRole('heading', { name: /^(This link does not work|Este enlace no funciona)$/ }).waitFor();
  pass('email-cancel', 'a waiting change was cancelled from the account page and its link no longer works');

  // She changes her address and confirms it from the message.
  await laptop.goto(`${env.APP_URL}/account`);
  await laptop.getByLabel('Nuevo correo electrónico').fill('julia@new-mail.example');
  // The address is where resets go: the current password every time, even right after signing in.
  await laptop.locator('#current_password').fill('quiet meadow before dawn');
  await laptop.getByRole('button', { name: 'Cambiar mi correo electrónico' }).click();
  await laptop.getByRole('status').waitFor();
  const confirm = await mailbox('julia@new-mail.example', '/account/confirm');
  await laptop.goto(confirm);
  await laptop.getByRole('button', { name: 'Confirmar esta dirección' }).click();
  await expectText(laptop, 'julia@new-mail.example es ahora la dirección confirmada');
  pass('email-change', 'the new address was confirmed from its link');

  // A lab computer signs in to the library; from her laptop she signs it out.
  const lab = await (await browser.newContext({ locale: 'en-US' })).newPage();
  await lab.goto(env.RP_URL);
  await lab.locator('#sign-in').click();
  await signIn(lab, 'jdiaz', 'quiet meadow before dawn');
  await lab.getByRole('button', { name: /^(Allow|Permitir)$/, exact: true }).click();
  await lab.waitForURL(`${env.RP_URL}/`);
  await expectText(lab, 'Signed in to the library as jdiaz');
  await laptop.goto(`${env.APP_URL}/account`);
  await laptop.getByRole('button', { name: /^Cerrar esa sesión \(/ }).first().click();
  await laptop.getByRole('status').waitFor();
  await lab.goto(env.RP_URL);
  await expectText(lab, 'Not signed in');
  await lab.goto(`${env.APP_URL}/account`);
  await lab.waitForURL(/\/login/);
  pass('end-session', 'the lab computer was signed out of HCCC sign-in and, by back-channel logout, of the library');

  // The library again on the laptop, then she removes its access there.
  const laptopLibrary = await laptop.context().newPage();
  await laptopLibrary.goto(env.RP_URL);
  await laptopLibrary.locator('#sign-in').click();
  await laptopLibrary.getByRole('button', { name: 'Permitir', exact: true }).click();
  await laptopLibrary.waitForURL(`${env.RP_URL}/`);
  await laptopLibrary.goto(`${env.RP_URL}/refresh`);
  await expectText(laptopLibrary, 'refresh worked');
  await laptop.goto(`${env.APP_URL}/account`);
  await laptop.getByRole('button', { name: 'Quitar el acceso (Library)' }).click();
  await laptop.getByRole('status').waitFor();
  await laptopLibrary.goto(`${env.RP_URL}/refresh`);
  await expectText(laptopLibrary, 'refresh refused');
  pass('revoke-app', 'after removing the library\'s access its refresh token is refused');
} finally {
  await browser.close();
}
