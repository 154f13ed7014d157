/**
 * The teacher GUI at /hub/admin in Chromium, against a real hub with small fake Jupyter servers:
 * the join address and its QR code, counts and server states that follow the hub live, adding
 * and finding users, a class list import, a password reset, a server's log, stopping everyone,
 * and the settings screen. One browser and one hub for the whole file, screens in the order a
 * teacher meets them; a screenshot of each lands in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { parse } from 'yaml';
import { launchBrowser, logInAt } from '../helpers/browser.js';
import { fakeServer, projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';
import { decodeQrPng } from '../helpers/qr.js';

const ARTIFACTS = join(projectRoot(), 'test-artifacts');
const TEACHER = { name: 'lovelace', password: 'lovelace-password-1' };

describe('the teacher GUI in Chromium', () => {
  let browser: Browser;
  let t: TestHub;
  let page: Page;
  let restartRequests = 0;

  const screenshot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `admin-${name}.png`), fullPage: true });
  const openScreen = async (tab: string, heading: string) => {
    await page.getByRole('navigation', { name: 'Teacher screens' }).getByRole('link', { name: tab }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };

  /** Polled from here: the hub's CSP forbids the string evaluation a page-side wait would use. */
  const waitForRows = async (count: number) => {
    const rows = page.locator('table.users-table tbody tr');
    while ((await rows.count()) !== count) await page.waitForTimeout(50);
  };

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    // A restart asked for on the settings page is counted here: the CLI's test restarts for real.
    [browser, t] = await Promise.all([launchBrowser(), startTestHub(fakeServer('ok'), { onRestartRequest: () => (restartRequests += 1) })]);
    await t.addUser(TEACHER.name, TEACHER.password, true);
    for (const name of ['ada', 'bob']) await t.addUser(name, `${name}-password-1`);
    // Two students from a school's class list: full names with accents, login names without.
    const imported = await t.api('/lectern/roster/import', { method: 'POST', body: JSON.stringify({ text: 'First name,Last name\nLucía,García\nZoë,Martin\n' }) });
    assert.equal(imported.status, 201);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.on('pageerror', (error) => assert.fail(`error in the page: ${error.message}`));
    // Not logged in: the hub sends the teacher to its login page, and back after.
    await logInAt(page, `${t.hub.url}hub/admin`, TEACHER.name, TEACHER.password);
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows the join address with its QR code, and counts that follow the hub live', async () => {
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const address = await page.locator('.join-url').innerText();
    assert.match(address, /^http:\/\/[\d.]+:\d+\/$/);
    const qr = page.getByRole('img', { name: `QR code that opens ${address}` });
    assert.equal(decodeQrPng(await qr.screenshot()), address, 'a phone scanning the QR code opens the join address');
    await page.locator('.connection-live').waitFor();
    await page.getByText(/Students are kept apart: each server runs in a sandbox \(bubblewrap\)/).waitFor();
    await page.getByText('Each student’s server opens at this address on a port the system chooses', { exact: false }).waitFor();

    const running = page.locator('.count-running dd');
    assert.equal(await running.innerText(), '0');
    const started = await t.api('/users/ada/server', { method: 'POST' });
    assert.ok([201, 202].includes(started.status), `starting ada: ${started.status}`);
    await page.locator('.count-running dd', { hasText: '1' }).waitFor();
    await screenshot('dashboard');

    // No clipboard permission in a test browser: the address is then selected for Ctrl+C instead.
    await page.getByRole('button', { name: 'Copy join address' }).click();
    await page.locator('.notice').filter({ hasText: /Join address copied|The address is selected/ }).waitFor();

    await page.getByRole('button', { name: 'Show on projector' }).click();
    const projector = page.getByRole('dialog', { name: /Join address for the projector/ });
    await projector.getByText(address).waitFor();
    // The host and its port stay on one line that fits the screen: never `192.168.1.20` / `:8000/`.
    for (const size of [{ width: 1280, height: 720 }, { width: 1024, height: 768 }, { width: 768, height: 1024 }]) {
      await page.setViewportSize(size);
      // A string, evaluated in the page: the tests are compiled without the DOM's types.
      const line = (await page.evaluate(`(() => {
        const host = document.querySelector('.projector-url .url-host');
        const text = document.querySelector('.projector-text').getBoundingClientRect();
        const box = host.getBoundingClientRect();
        return { lines: host.getClientRects().length, fits: box.left >= text.left - 1 && box.right <= text.right + 1, px: parseFloat(getComputedStyle(host).fontSize) };
      })()`)) as { lines: number; fits: boolean; px: number };
      assert.deepEqual([line.lines, line.fits], [1, true], `at ${size.width}×${size.height}: ${JSON.stringify(line)}`);
      assert.ok(line.px >= 24, `readable from the back row at ${size.width}×${size.height}: ${line.px}px`);
    }
    await page.setViewportSize({ width: 1280, height: 860 });
    await screenshot('projector');
    await page.keyboard.press('Escape');
    await projector.waitFor({ state: 'detached' });
  });

  it('posts a message to the class that students see on their phones and the projector shows, then takes it down', async () => {
    await page.getByRole('textbox', { name: 'Message' }).fill('Open lesson 3 now.\nThe data is in course-data.');
    await page.getByLabel('Link (optional)').fill('/hub/home');
    await page.getByRole('button', { name: 'Post to the class' }).click();
    await page.locator('.notice').filter({ hasText: 'Posted: students see it at the top of their pages.' }).waitFor();
    await page.locator('.announcement-text', { hasText: 'Open lesson 3 now.' }).waitFor();

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const student = await phone.newPage();
      await logInAt(student, `${t.hub.url}hub/home`, 'bob', 'bob-password-1');
      const banner = student.getByRole('status', { name: 'Message from your teacher' });
      assert.match(await banner.innerText(), /From your teacher: Open lesson 3 now\.\nThe data is in course-data\./);
      await banner.getByRole('link', { name: 'Open' }).waitFor();
      await student.screenshot({ path: join(ARTIFACTS, 'student-announcement-phone.png'), fullPage: true });

      await page.getByRole('button', { name: 'Show on projector' }).click();
      const projector = page.getByRole('dialog', { name: /Join address for the projector/ });
      await projector.locator('.projector-announcement', { hasText: 'Open lesson 3 now.' }).waitFor();
      await page.keyboard.press('Escape');
      await projector.waitFor({ state: 'detached' });

      await page.getByRole('button', { name: 'Take down' }).click();
      await page.getByText('No message is up.', { exact: false }).waitFor();
      await student.reload();
      assert.equal(await student.getByRole('status', { name: 'Message from your teacher' }).count(), 0, 'gone from the student’s page');
    } finally {
      await phone.close();
    }
  });

  it('adds a user, finds them by name, and imports a class list', async () => {
    await openScreen('Users', 'Users');
    const table = page.locator('table.users-table');
    await table.getByRole('rowheader', { name: 'ada' }).waitFor();

    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    await dialog.getByLabel('Username').fill('grace');
    await dialog.getByLabel('Password').fill('grace-password-1');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await dialog.waitFor({ state: 'detached' });
    await table.getByRole('rowheader', { name: 'grace' }).waitFor();
    assert.equal((await t.api('/users/grace')).status, 200);

    // No password typed: one is made up and shown, rather than an account nobody can log in to.
    await page.getByRole('button', { name: 'Add user' }).click();
    await dialog.getByLabel('Username').fill('linus');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    const made = page.getByRole('dialog', { name: 'New password for linus' });
    const madeUp = await made.locator('.secret').innerText();
    await made.getByRole('button', { name: 'Done' }).click();
    assert.equal((await t.client().logIn('linus', madeUp)).status, 302, 'linus can log in with the password shown');

    await page.getByLabel('Search').fill('gra');
    await waitForRows(1);
    assert.equal(await table.locator('tbody th').innerText(), 'grace');
    await page.getByLabel('Search').fill('');

    await page.getByRole('button', { name: 'Import class list' }).click();
    const importer = page.getByRole('dialog', { name: 'Import a class list' });
    await importer.getByText('Or paste the list').click();
    await importer.getByLabel('Class list, one student per line').fill('name,class\nhopper,physics\nturing,physics\n');
    await importer.getByRole('button', { name: 'Check the list' }).click();
    await importer.getByText('2 students ready to import.').waitFor();
    await screenshot('roster-import');
    await importer.getByRole('button', { name: 'Import 2 students and print cards' }).click();
    await page.waitForURL(/\/hub\/cards\//);
    assert.equal(await page.locator('article.login-card').count(), 2, 'the new students’ cards, ready to print');
    await page.getByRole('link', { name: 'Back to the dashboard' }).click();
    await table.getByRole('rowheader', { name: 'turing' }).waitFor();
    await page.getByLabel('Class').selectOption('physics');
    await waitForRows(2);
    await page.getByLabel('Class').selectOption('');

    await page.getByRole('checkbox', { name: 'Select ada' }).check();
    await page.getByRole('button', { name: 'Print login cards (1 selected)' }).click();
    // A reprint says what it does to the cards and passwords students already have.
    const choice = page.getByRole('dialog', { name: 'Login cards for ada' });
    await choice.getByText('Cards you printed before keep working.', { exact: false }).waitFor();
    await choice.getByLabel(/New passwords, printed on the cards/).check();
    await choice.getByRole('button', { name: 'Make cards' }).click();
    const ready = page.getByRole('dialog', { name: 'Login cards are ready' });
    const cardsUrl = (await ready.getByRole('link', { name: 'Open login cards' }).getAttribute('href')) ?? '';
    assert.match(cardsUrl, /\/hub\/cards\//);
    const sheet = await page.context().newPage();
    await sheet.goto(new URL(cardsUrl, t.hub.url).href);
    assert.match(await sheet.locator('article.login-card[data-name="ada"]').innerText(), /[a-z]+-[a-z]+-[a-z]+-\d\d/, 'the new password is on the card');
    await sheet.close();
    await ready.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('checkbox', { name: 'Select ada' }).uncheck();

    await page.getByLabel('More actions for turing').click();
    await page.getByRole('button', { name: 'Make teacher' }).click();
    await page.getByRole('dialog', { name: 'Make turing a teacher?' }).getByRole('button', { name: 'Make teacher' }).click();
    await page.getByRole('row', { name: /turing/ }).getByText('Teacher', { exact: true }).waitFor();

    await page.getByLabel('More actions for hopper').click();
    // A live update (another teacher adds someone) redraws the list: the open menu stays open.
    await t.addUser('knuth', 'knuth-password-1');
    await table.getByRole('rowheader', { name: 'knuth' }).waitFor();
    await page.getByRole('button', { name: 'Delete account' }).click();
    await page.getByRole('dialog', { name: 'Delete hopper’s account?' }).getByRole('button', { name: 'Delete account' }).click();
    await table.getByRole('rowheader', { name: 'hopper' }).waitFor({ state: 'detached' });
    assert.equal((await t.api('/users/hopper')).status, 404);
  });

  it('finds students by their full name, accents or not, and acts on a selection of them', async () => {
    const table = page.locator('table.users-table');
    await page.getByLabel('Search').fill('garcia');
    await waitForRows(1);
    assert.match(await table.locator('tbody th').innerText(), /Lucía García\s+lucia\.garcia/);
    await page.getByLabel('Search').fill('');

    for (const name of ['lucia.garcia', 'zoe.martin']) await page.getByRole('checkbox', { name: `Select ${name}` }).check();
    const bulk = page.getByRole('toolbar', { name: 'With the selected accounts' });
    await bulk.getByText('2 accounts selected:').waitFor();
    await bulk.getByRole('button', { name: 'Add to class (2)…' }).click();
    const classDialog = page.getByRole('dialog', { name: 'Add lucia.garcia and zoe.martin to a class' });
    await classDialog.getByLabel('Class', { exact: true }).selectOption({ label: 'A new class…' });
    await classDialog.getByLabel('Name of the new class').fill('7B');
    await classDialog.getByRole('button', { name: 'Add to class' }).click();
    await classDialog.waitFor({ state: 'detached' });
    const group = (await (await t.api('/groups/7B')).json()) as { users: string[] };
    assert.deepEqual(group.users.sort(), ['lucia.garcia', 'zoe.martin']);

    await page.getByLabel('Class', { exact: true }).selectOption('7B');
    await waitForRows(2);
    await page.getByRole('checkbox', { name: 'Select everyone shown' }).check();
    await bulk.getByRole('button', { name: 'Start servers (2)' }).click();
    for (const name of ['lucia.garcia', 'zoe.martin']) await table.getByRole('row', { name: new RegExp(name) }).getByText('Running').waitFor();
    await bulk.getByRole('button', { name: 'Stop servers (2)' }).click();
    await page.getByRole('dialog', { name: 'Stop the servers of lucia.garcia and zoe.martin?' }).getByRole('button', { name: 'Stop servers' }).click();
    for (const name of ['lucia.garcia', 'zoe.martin']) await table.getByRole('row', { name: new RegExp(name) }).getByText('Stopped').waitFor();
    await screenshot('users-selection');
    await bulk.getByRole('button', { name: 'Take out of 7B' }).click();
    await waitForRows(0);
    await page.getByLabel('Class', { exact: true }).selectOption('');
  });

  it('resets a password and shows the new one once', async () => {
    await page.getByRole('row', { name: /bob/ }).getByRole('button', { name: 'New password' }).click();
    await page.getByRole('dialog', { name: 'New password for bob?' }).getByRole('button', { name: 'Make a new password' }).click();
    const shown = page.getByRole('dialog', { name: 'New password for bob' });
    const password = await shown.locator('.secret').innerText();
    assert.ok(password.length >= 8, `a password worth the name: ${password}`);
    await screenshot('password-reset');
    await shown.getByRole('button', { name: 'Done' }).click();

    // Bob logs in with it elsewhere, and is asked to choose his own.
    const student = await browser.newContext();
    const studentPage = await student.newPage();
    await studentPage.goto(`${t.hub.url}hub/login`);
    await studentPage.getByLabel('Username').fill('bob');
    await studentPage.getByLabel('Password').fill(password);
    await studentPage.getByRole('button', { name: 'Log in' }).click();
    await studentPage.waitForURL('**/hub/change-password**');
    // He has just typed the temporary password: the page asks only for his own, twice.
    await studentPage.getByLabel('New password again').waitFor();
    assert.equal(await studentPage.getByLabel('Temporary password').count(), 0);
    await student.close();
  });

  it('starts a student’s server and follows it live, reads its log, and stops everyone', async () => {
    await page.getByRole('button', { name: 'Start bob’s server' }).click();
    await page.getByRole('row', { name: /bob/ }).getByText('Running').waitFor();
    await screenshot('users');

    await openScreen('Servers', 'Servers');
    const table = page.locator('table.servers-table');
    for (const name of ['ada', 'bob']) {
      const row = table.getByRole('row', { name: new RegExp(name) });
      await row.getByText('Running').waitFor();
      await row.getByText('Isolated', { exact: true }).waitFor();
    }
    await page.getByRole('button', { name: 'Show the log of bob’s server' }).click();
    await page.locator('pre.log', { hasText: 'fake server: listening' }).waitFor();
    await screenshot('servers');

    // Opening a live server is a choice the teacher makes knowing what it means.
    await page.getByRole('button', { name: 'Open bob’s live server in a new tab' }).click();
    const warning = page.getByRole('dialog', { name: 'Open bob’s live server?' });
    await warning.getByText(/what you run or change there is done as bob/).waitFor();
    await warning.getByRole('button', { name: 'Cancel' }).click();

    // The teacher's own server (a demo on the projector) is not one of the students'.
    const own = await t.api(`/users/${TEACHER.name}/server`, { method: 'POST' });
    assert.ok([201, 202].includes(own.status), `starting the teacher's server: ${own.status}`);
    const ownRow = table.getByRole('row', { name: new RegExp(TEACHER.name) });
    await ownRow.getByText('Running').waitFor();
    await page.getByRole('button', { name: 'Stop all student servers' }).click();
    await page.getByRole('dialog', { name: 'Stop the servers of 2 students?' }).getByRole('button', { name: 'Stop student servers' }).click();
    for (const name of ['ada', 'bob']) await table.getByRole('row', { name: new RegExp(name) }).waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await ownRow.getByText('Running').isVisible(), true, 'the teacher’s own server keeps running');
    await page.getByRole('button', { name: `Stop ${TEACHER.name}’s server` }).click();
    await page.getByText('No servers are running.').waitFor({ timeout: 30_000 });
    await openScreen('Dashboard', 'Dashboard');
    await page.locator('.count-running dd', { hasText: '0' }).waitFor();
  });

  it('shows a student’s work read only, where her notebook’s script does nothing', async () => {
    const folder = join(t.dataDir, 'users', 'ada', 'home');
    await mkdir(folder, { recursive: true });
    const output = "<script>window.pwned = true; fetch('/hub/api/users/ada', { method: 'PATCH', body: '{\"admin\": true}' })</script><p>my answer is 42</p>";
    const notebook = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', metadata: { trusted: true }, execution_count: 1, source: 'answer()', outputs: [{ output_type: 'display_data', metadata: {}, data: { 'text/html': output } }] }] };
    await writeFile(join(folder, 'homework.ipynb'), JSON.stringify(notebook));

    await openScreen('Users', 'Users');
    const [work] = await Promise.all([page.waitForEvent('popup'), page.getByRole('link', { name: 'View ada’s work in a new tab' }).click()]);
    await work.getByRole('link', { name: 'homework.ipynb' }).click();
    await work.getByText('my answer is 42').waitFor();
    assert.equal(await work.evaluate('window.pwned === undefined'), true, 'her script did not run');
    assert.equal(((await (await t.api('/users/ada')).json()) as { admin: boolean }).admin, false);
    // A string, evaluated in the page: the tests are compiled without the DOM's types.
    assert.equal(await work.evaluate("getComputedStyle(document.querySelector('pre.source')).whiteSpace"), 'pre-wrap', 'the page is styled');
    await work.screenshot({ path: join(ARTIFACTS, 'admin-work-view.png'), fullPage: true });
    await work.close();
  });

  it('changes settings, says which wait for a restart, and shows a value the hub refuses next to its field', async () => {
    await openScreen('Settings', 'Settings');
    await page.getByText(/Students’ servers start with|Students’ servers cannot start/).waitFor();
    await page.getByText(/Students log in with accounts you make/).waitFor();

    const shortest = page.getByLabel('Shortest password');
    await shortest.fill('100');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('[data-setting="auth.minPasswordLength"] .field-problem').waitFor();
    assert.equal(await shortest.getAttribute('aria-invalid'), 'true');

    // In a teacher's words and units: choices spelled out, the idle time in minutes (3600 s).
    assert.equal(await page.getByLabel('How students get in').locator('option:checked').innerText(), 'With accounts you make');
    assert.equal(await page.getByLabel('Stop a server unused for').inputValue(), '60');
    await page.locator('[data-setting="culler.idleTimeout"]').getByText('minutes', { exact: true }).waitFor();

    await shortest.fill('10');
    const port = page.getByLabel('Port', { exact: true });
    await port.fill('8123');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const restartNote = page.getByText('Restart Lectern to apply: Port.');
    await restartNote.waitFor();
    await page.getByText(/Saved and in effect: Shortest password\./).waitFor();
    const { settings } = (await (await t.api('/lectern/settings')).json()) as { settings: { key: string; value: unknown }[] };
    assert.equal(settings.find((setting) => setting.key === 'auth.minPasswordLength')?.value, 10);
    await screenshot('settings');

    // Set back to the port Lectern runs with: nothing waits for a restart any more.
    await port.fill('0');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await restartNote.waitFor({ state: 'hidden' });

    await page.getByLabel('Who can reach Lectern').fill('0.0.0.0');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Restart Lectern to apply: Who can reach Lectern.').waitFor();
    await page.getByRole('button', { name: 'Restart Lectern now' }).click();
    const question = page.getByRole('dialog', { name: 'Restart Lectern?' });
    await question.getByText(/Every student’s server stops/).waitFor();
    await question.getByRole('button', { name: 'Restart Lectern' }).click();
    await page.getByText('Lectern is restarting… This page comes back by itself.').waitFor();
    assert.equal(restartRequests, 1, 'the hub was asked to restart');
    // This test's hub does not restart: saving back the address it runs with stands for the
    // restarted hub, and the page comes back by itself.
    const reloaded = page.waitForEvent('load');
    const back = await t.api('/lectern/settings', { method: 'PATCH', body: JSON.stringify({ changes: { 'network.ip': '127.0.0.1' } }) });
    assert.equal(back.status, 200);
    await reloaded;
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    assert.equal(await page.getByText('Restart Lectern to apply', { exact: false }).count(), 0);
  });

  it('exports the configuration, and previews an import before applying it', async () => {
    await openScreen('Export / import', 'Export / import');
    const saved = async (button: string, filename: string): Promise<string> => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
      assert.equal(download.suggestedFilename(), filename);
      const path = join(ARTIFACTS, filename);
      await download.saveAs(path);
      return path;
    };
    // Each file is read by what it is for: YAML for Lectern and Zero to JupyterHub, Python for JupyterHub.
    const lectern = parse(await readFile(await saved('Lectern config file (lectern.yaml)', 'lectern.yaml'), 'utf8')) as Record<string, unknown>;
    assert.equal(typeof lectern, 'object');
    const values = parse(await readFile(await saved('Zero to JupyterHub values (values.yaml)', 'values.yaml'), 'utf8')) as { hub?: unknown; cull?: unknown };
    assert.ok(values.hub && values.cull, 'a Zero to JupyterHub values file with hub and culling settings');
    const python = await saved('JupyterHub config (jupyterhub_config.py)', 'jupyterhub_config.py');
    const compiled = spawnSync('/usr/bin/python3', ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', python], { encoding: 'utf8' });
    assert.equal(compiled.status, 0, compiled.stderr);

    await page.getByLabel('Or paste it here').fill('culler:\n  idleTimeout: 1800\n');
    await page.getByRole('button', { name: 'Preview changes' }).click();
    await page.getByText('Importing this file makes 1 change:').waitFor();
    assert.match(await page.locator('ul.changes').innerText(), /3600 → 1800/);
    await page.getByRole('button', { name: 'Apply 1 change' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Apply changes' }).click();
    await page.getByText('Imported.', { exact: true }).waitFor();
    await screenshot('export');
  });

  it('shows where the keyboard is with a focus ring of at least 3:1 against the page', async () => {
    await openScreen('Users', 'Users');
    await page.getByLabel('Search').focus();
    await page.keyboard.press('Tab');
    // A string, evaluated in the page: the tests are compiled without the DOM's types.
    const ring = (await page.evaluate(`(() => {
      const luminance = (css) => {
        const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map((v) => {
          const c = Number(v) / 255;
          return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const contrast = (a, b) => {
        const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
        return (hi + 0.05) / (lo + 0.05);
      };
      const focused = document.activeElement;
      const style = getComputedStyle(focused);
      const behind = [getComputedStyle(document.body).backgroundColor, getComputedStyle(focused.closest('main') || document.body).backgroundColor];
      return { visible: focused.matches(':focus-visible'), width: style.outlineWidth, ratio: Math.min(...behind.map((bg) => contrast(style.outlineColor, bg))) };
    })()`)) as { visible: boolean; width: string; ratio: number };
    assert.equal(ring.visible, true, 'the focused control shows its ring');
    assert.equal(ring.width, '3px');
    assert.ok(ring.ratio >= 3, `focus ring contrast ${ring.ratio.toFixed(2)}:1`);
  });

  it('fits a phone, a tablet held upright and a laptop without sideways scrolling, on every screen', async () => {
    const sizes = [
      { name: 'phone', width: 390, height: 844 },
      { name: 'tablet', width: 768, height: 1024 },
      { name: 'laptop', width: 1280, height: 800 },
    ];
    const screens = [
      ['Dashboard', 'Dashboard'],
      ['Users', 'Users'],
      ['Servers', 'Servers'],
      ['Handouts', 'Handouts'],
      ['Settings', 'Settings'],
      ['Export / import', 'Export / import'],
    ] as const;
    for (const size of sizes) {
      await page.setViewportSize(size);
      for (const [tab, heading] of screens) {
        await openScreen(tab, heading);
        // Every panel loaded (a screen may have several loading at once).
        while ((await page.locator('.loading').count()) > 0) await page.waitForTimeout(50);
        // A string, evaluated in the page: the tests are compiled without the DOM's types.
        const wide = await page.evaluate(`[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`);
        assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, `${tab} on a ${size.name}: no sideways scrolling ${JSON.stringify(wide)}`);
        if (tab === 'Dashboard') {
          const px = Number.parseFloat((await page.evaluate("getComputedStyle(document.querySelector('.join-url .url-host')).fontSize")) as string);
          assert.ok(px >= 16, `the join address is readable on a ${size.name}: ${px}px`);
        }
        await page.screenshot({ path: join(ARTIFACTS, `screen-${size.name}-${tab.toLowerCase().replace(/\W+/g, '-')}.png`), fullPage: true });
      }
    }
    await page.setViewportSize({ width: 1280, height: 860 });
  });
});

describe('the teacher GUI when a start fails and a sign-up waits', () => {
  let browser: Browser;
  let t: TestHub;

  before(async () => {
    [browser, t] = await Promise.all([
      launchBrowser(),
      startTestHub({ ...fakeServer('crash'), auth: { loginMode: 'join-code', joinApproval: true } }),
    ]);
    await t.addUser(TEACHER.name, TEACHER.password, true);
    await t.addUser('ada', 'ada-password-1');
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows the failure with its log, and lets waiting students in', async () => {
    // Three students sign up with the class code, and wait for the teacher.
    const { code } = (await (await t.api('/lectern/join')).json()) as { code: string };
    const signUp = async (username: string, fullName: string): Promise<Page> => {
      const studentPage = await (await browser.newContext()).newPage();
      await studentPage.goto(`${t.hub.url}hub/join`);
      await studentPage.getByText('At least 8 characters.', { exact: false }).waitFor();
      await studentPage.getByLabel('Class code').fill(code);
      await studentPage.getByLabel('Username').fill(username);
      await studentPage.getByLabel('Your name (optional)').fill(fullName);
      await studentPage.getByLabel('Password', { exact: true }).fill(`${username}-password-1`);
      await studentPage.getByLabel('Password again').fill(`${username}-password-1`);
      await studentPage.getByRole('button', { name: 'Join' }).click();
      await studentPage.getByRole('heading', { name: 'Waiting for your teacher to let you in' }).waitFor();
      return studentPage;
    };
    const milo = await signUp('milo', 'Milo Núñez');
    const nora = await signUp('nora', 'Nora Ødegaard');
    await signUp('omar', 'Omar Haddad');

    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => assert.fail(`error in the page: ${error.message}`));
    await logInAt(page, `${t.hub.url}hub/admin`, TEACHER.name, TEACHER.password);
    await page.getByRole('navigation', { name: 'Teacher screens' }).getByRole('link', { name: 'Servers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Servers' }).waitFor();

    await t.api('/users/ada/server', { method: 'POST' });
    const row = page.getByRole('row', { name: /ada/ });
    await row.getByText('Failed to start').waitFor();
    assert.notEqual(await row.locator('.failure').innerText(), '');
    await row.getByRole('button', { name: 'Show the log of ada’s server' }).click();
    await page.locator('pre.log', { hasText: 'Traceback' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'admin-servers-failed.png'), fullPage: true });

    await page.getByRole('navigation', { name: 'Teacher screens' }).getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('.count-failed dd', { hasText: '1' }).waitFor();

    await page.getByRole('navigation', { name: 'Teacher screens' }).getByRole('link', { name: 'Users' }).click();
    const waiting = page.locator('section.pending');
    await waiting.getByRole('heading', { name: 'Waiting for you to let them in (3)' }).waitFor();
    await waiting.getByText('Milo Núñez').waitFor();
    await page.getByRole('row', { name: /milo/ }).getByText('Waiting for you').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'admin-users-waiting.png'), fullPage: true });
    assert.equal((await t.api('/users/milo/server', { method: 'POST' })).status, 400, 'a sign-up has no server before it is let in');

    await waiting.getByRole('button', { name: 'Turn nora away' }).click();
    await page.getByRole('dialog', { name: 'Turn away nora?' }).getByRole('button', { name: 'Turn away' }).click();
    await waiting.getByRole('heading', { name: 'Waiting for you to let them in (2)' }).waitFor();
    await nora.getByRole('heading', { name: 'Your teacher did not let this sign-up in' }).waitFor();

    await waiting.getByRole('button', { name: 'Let all 2 in' }).click();
    await waiting.waitFor({ state: 'detached' });
    const state = (await (await t.api('/lectern/join')).json()) as { pending: string[] };
    assert.deepEqual(state.pending, []);
    // Milo's waiting page goes on by itself, logged in, to his server's start (which fails here).
    await milo.waitForURL((url) => !url.pathname.endsWith('/hub/waiting'), { timeout: 30_000 });
    assert.match(new URL(milo.url()).pathname, /^\/hub\/(spawn|spawn-pending)\/?/);
    await context.close();
  });
});
