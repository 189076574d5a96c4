// An admin at work in a real browser: signs in to /admin, creates a student, gives a role, disables
// the account (which then cannot sign in), imports a CSV with one bad row then a good one, and opens
// the API docs. Driven by tests/it/browser.rs. Environment: APP_URL, USERNAME (an admin), PASSWORD.
import { chromium } from 'playwright-core';

const env = process.env;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const expectText = async (page, text) => page.getByText(text).first().waitFor({ timeout: 10000 });
try {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  await page.goto(`${env.APP_URL}/admin`);
  await page.getByLabel('Username or college e-mail').fill(env.USERNAME);
  await page.getByLabel('Password').fill(env.PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${env.APP_URL}/admin/users`);
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  console.log('PASS  admin-sign-in  /admin asked for sign-in and returned to the users list');

  await page.getByRole('link', { name: 'New user' }).click();
  await page.getByLabel('Username').fill('newstudent');
  await page.getByLabel('E-mail', { exact: true }).fill('newstudent@students.hccc.edu');
  await page.getByLabel('Given name').fill('Nia');
  await page.getByLabel('Family name').fill('Student');
  await page.getByLabel('Password (optional').fill('tall ladder quiet river');
  await page.getByLabel('Temporary: must be changed').uncheck();
  await page.getByRole('button', { name: 'Create user' }).click();
  await expectText(page, 'Created.');
  console.log('PASS  create-user  newstudent created with the student role');

  // A bad e-mail is shown back with the field named, nothing saved.
  await page.getByLabel('E-mail', { exact: true }).fill('not-an-address');
  await page.getByRole('button', { name: 'Save' }).click();
  await expectText(page, 'is not a valid e-mail address');
  await page.getByLabel('E-mail', { exact: true }).fill('newstudent@students.hccc.edu');
  await page.getByLabel('faculty').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expectText(page, 'Saved.');
  if (!(await page.getByLabel('faculty').isChecked())) throw new Error('faculty role not kept');
  console.log('PASS  assign-role  faculty added (after a bad e-mail was refused)');

  await page.getByRole('button', { name: 'Disable account' }).click();
  await expectText(page, 'The account is disabled');
  console.log('PASS  disable  the account is disabled');

  const other = await (await browser.newContext()).newPage();
  await other.goto(`${env.APP_URL}/login`);
  await other.getByLabel('Username or college e-mail').fill('newstudent');
  await other.getByLabel('Password').fill('tall ladder quiet river');
  await other.getByRole('button', { name: 'Sign in' }).click();
  await expectText(other, 'The username or password is incorrect.');
  console.log('PASS  disabled-sign-in  the disabled student cannot sign in (same message as a wrong password)');

  const header = 'username,email,given_name,family_name,roles,groups\n';
  const upload = async (csv) => {
    await page.goto(`${env.APP_URL}/admin/import`);
    await page.getByLabel('CSV file').setInputFiles({ name: 'students.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Check the file (dry run)' }).click();
  };
  await upload(`${header}imp.one,imp.one@students.hccc.edu,Imp,One,student,Nursing\nbad row,bad@students.hccc.edu,Bad,Row,student,\n`);
  await page.getByRole('heading', { name: 'Rejected rows' }).waitFor();
  const rejected = await page.locator('#rejected tbody tr').allTextContents();
  if (rejected.length !== 1 || !rejected[0].includes('3') || !rejected[0].includes('Username')) {
    throw new Error(`unexpected rejected rows: ${JSON.stringify(rejected)}`);
  }
  if (await page.getByRole('button', { name: 'Import now' }).count()) throw new Error('import offered despite a bad row');
  console.log('PASS  import-bad-row  the dry run names line 3 and offers no import');

  await upload(`${header}imp.one,imp.one@students.hccc.edu,Imp,One,student,Nursing\nimp.two,imp.two@students.hccc.edu,Imp,Two,student;staff,Nursing;Work study\n`);
  await expectText(page, '2 to create, 0 to update, 0 unchanged, 0 rejected.');
  await page.getByRole('button', { name: 'Import now' }).click();
  await expectText(page, 'Import complete.');
  await page.getByLabel('Search').fill('imp.');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await expectText(page, '2 users');
  console.log('PASS  import  the corrected file imported two students');

  await page.goto(`${env.APP_URL}/admin/audit`);
  await page.locator('table.audit').getByText('Imported accounts from a file').first().waitFor({ timeout: 10000 });
  errors.length = 0; // the 422 answers to the deliberately bad forms above were logged
  await page.goto(`${env.APP_URL}/docs/`);
  await page.getByText('/api/v1/users/{id}').first().waitFor({ timeout: 15000 });
  if (errors.length) throw new Error(`console errors: ${errors.join('; ')}`);
  console.log('PASS  docs  the audit log shows the import; /docs renders the API from our own assets');
} finally {
  await browser.close();
}
