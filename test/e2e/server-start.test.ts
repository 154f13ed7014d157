/**
 * Servers starting, in Chromium. On a student's phone, the progress page shows no "Try again"
 * while the start goes on, and shows it, with the reason, once the start has failed. On the
 * teacher's Servers screen, a class's queued starts show their place in line and can be stopped.
 * The servers are small real processes that never become ready (test/fixtures/servers/fake-server.mjs).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { join } from 'node:path';
import { launchBrowser, logInAt } from '../helpers/browser.js';
import { fakeServer, projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

describe('a student’s server starting, in Chromium', () => {
  let browser: Browser;
  let t: TestHub;
  before(async () => {
    browser = await launchBrowser();
    t = await startTestHub(fakeServer('never-ready', { startTimeout: 8 }));
    await t.addUser('ann', 'ann-password-1');
  });
  after(async () => {
    await browser.close();
    await t.stop();
  });

  it('offers Try again only once the start has failed', async () => {
    const page = await (await browser.newContext(PHONE)).newPage();
    await page.goto(`${t.hub.url}hub/login`);
    await page.getByLabel('Username').fill('ann');
    await page.getByLabel('Password').fill('ann-password-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Starting your server' }).waitFor();
    const retry = page.getByRole('link', { name: 'Try again' });
    assert.equal(await retry.isVisible(), false, 'no Try again while the server starts');
    await retry.waitFor({ state: 'visible' });
    assert.match(await page.locator('#progress-error').innerText(), /\S/, 'and the reason beside it');
  });
});

describe('the Servers screen while a class starts, in Chromium', () => {
  const TEACHER = { name: 'tess', password: 'tess-password-1' };
  const STUDENTS = Array.from({ length: 12 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
  let browser: Browser;
  let t: TestHub;
  before(async () => {
    browser = await launchBrowser();
    // One start at a time, and none ever ready: the rest of the class waits in line.
    t = await startTestHub(fakeServer('never-ready', { startTimeout: 300, concurrentSpawnLimit: 1 }));
    await t.addUser(TEACHER.name, TEACHER.password, true);
    for (const name of STUDENTS) await t.addUser(name, `${name}-password-1`);
  });
  after(async () => {
    await browser.close();
    await t.stop();
  });

  it('shows each queued start’s place in line, stops a start, and shows a log beside its row', async () => {
    // A laptop screen: twelve rows do not fit above the fold.
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 600 } })).newPage();
    page.on('pageerror', (error) => assert.fail(`error in the page: ${error.message}`));
    await logInAt(page, `${t.hub.url}hub/admin`, TEACHER.name, TEACHER.password);
    await page.getByRole('navigation', { name: 'Teacher screens' }).getByRole('link', { name: 'Servers' }).click();
    assert.equal((await t.api('/lectern/servers', { method: 'POST', body: JSON.stringify({ users: STUDENTS }) })).status, 202);

    const table = page.locator('table.servers-table');
    const rowOf = (name: string) => table.getByRole('row', { name: new RegExp(`^${name}\\b`) });
    // The first start is under way; every other one says where it is in the line.
    await rowOf('s12').getByText('Number 11 in line to start').waitFor();
    await rowOf('s02').getByText('Number 1 in line to start').waitFor();
    assert.equal(await rowOf('s01').locator('.queue-position').count(), 0, 'the start under way is not in line');
    await page.screenshot({ path: join(projectRoot(), 'test-artifacts', 'admin-servers-queue.png'), fullPage: true });

    // A start in line can be stopped: it leaves the list, without being called a failure.
    await page.getByRole('button', { name: 'Stop starting s02’s server' }).click();
    await rowOf('s02').waitFor({ state: 'detached' });
    await rowOf('s03').getByText('Number 1 in line to start').waitFor();
    assert.equal(await table.getByText('Failed to start').count(), 0);

    // The log of the last row opens where the teacher is looking.
    await page.getByRole('button', { name: 'Show the log of s12’s server' }).click();
    const panel = page.locator('section.log-panel');
    await panel.getByRole('heading', { name: 'Log of s12’s server' }).waitFor();
    const box = await panel.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 600 + 1, `the log panel is on screen: ${JSON.stringify(box)}`);

    await page.getByRole('button', { name: 'Stop all student servers' }).click();
    await page.getByRole('dialog', { name: 'Stop the servers of 11 students?' }).getByRole('button', { name: 'Stop student servers' }).click();
    await page.getByText('No servers are running.').waitFor({ timeout: 60_000 });
  });
});
