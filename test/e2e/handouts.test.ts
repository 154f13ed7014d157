/**
 * Handouts in Chromium: the teacher hands out a lesson's files to a class from the Handouts screen,
 * a student hands in from her phone, and the teacher sees it live, collects, downloads the class's
 * work as a zip, and opens a student's copy and the work collected in the read-only view.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, logInAt } from '../helpers/browser.js';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';

const TEACHER = { name: 'lovelace', password: 'lovelace-password-1' };
const NOTEBOOK = JSON.stringify({ cells: [{ cell_type: 'markdown', metadata: {}, source: '# Lesson one' }], metadata: {}, nbformat: 4, nbformat_minor: 5 });

describe('handouts in Chromium', () => {
  let browser: Browser;
  let t: TestHub;
  let teacher: Page;

  before(async () => {
    [browser, t] = await Promise.all([launchBrowser(), startTestHub(fakeServer('ok'))]);
    await t.addUser(TEACHER.name, TEACHER.password, true);
    for (const name of ['ada', 'bob', 'cy']) await t.addUser(name, `${name}-password-1`);
    assert.equal((await t.api('/groups/7b', { method: 'POST', body: JSON.stringify({ users: ['ada', 'bob'] }) })).status, 201);
    teacher = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    teacher.on('pageerror', (error) => assert.fail(`error in the page: ${error.message}`));
    await logInAt(teacher, `${t.hub.url}hub/admin`, TEACHER.name, TEACHER.password);
    await teacher.getByRole('navigation', { name: 'Teacher screens' }).getByRole('link', { name: 'Handouts' }).click();
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('hands out a lesson to a class from the Handouts screen', async () => {
    await teacher.getByRole('heading', { level: 1, name: 'Handouts' }).waitFor();
    await teacher.getByLabel('Name (also the folder students get)').fill('lesson 1');
    await teacher.getByLabel('For').selectOption({ label: 'Class 7b' });
    await teacher.getByLabel('Files', { exact: true }).setInputFiles([
      { name: 'lesson.ipynb', mimeType: 'application/x-ipynb+json', buffer: Buffer.from(NOTEBOOK) },
      { name: 'cities.csv', mimeType: 'text/csv', buffer: Buffer.from('city,people\nOslo,700000\n') },
    ]);
    await teacher.getByRole('button', { name: 'Hand out' }).click();
    await teacher.locator('.notice').filter({ hasText: 'lesson 1 is handed out.' }).waitFor();
    const table = teacher.locator('table.handout-students');
    for (const name of ['ada', 'bob']) await table.getByRole('row', { name: new RegExp(`^${name} version 1 not yet`) }).waitFor();
    assert.equal(await table.getByRole('row', { name: /^cy / }).count(), 0, 'only the class');
    assert.equal(await readFile(join(t.dataDir, 'users', 'ada', 'home', 'lesson 1', 'cities.csv'), 'utf8'), 'city,people\nOslo,700000\n');
  });

  it('hands out an update from the screen, and the students who changed nothing have it', async () => {
    await teacher.getByText('Update the files').click();
    await teacher.getByLabel('Changed or new files').setInputFiles([{ name: 'cities.csv', mimeType: 'text/csv', buffer: Buffer.from('city,people\nOslo,710000\n') }]);
    await teacher.getByRole('button', { name: 'Hand out the update' }).click();
    await teacher.locator('.notice').filter({ hasText: 'Version 2 of lesson 1 is handed out' }).waitFor();
    const table = teacher.locator('table.handout-students');
    for (const name of ['ada', 'bob']) await table.getByRole('row', { name: new RegExp(`^${name} version 2`) }).waitFor();
    assert.equal(await readFile(join(t.dataDir, 'users', 'bob', 'home', 'lesson 1', 'cities.csv'), 'utf8'), 'city,people\nOslo,710000\n');
  });

  it('lets a student hand in from her phone, and the teacher sees it at once', async () => {
    const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
    await logInAt(phone, `${t.hub.url}hub/home`, 'ada', 'ada-password-1');
    await phone.getByRole('link', { name: /My handouts \(1\)/ }).click();
    await phone.getByRole('heading', { level: 2, name: 'lesson 1' }).waitFor();
    assert.equal(await phone.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling on a phone');
    await phone.getByRole('button', { name: 'Hand in' }).tap();
    await phone.getByRole('status').filter({ hasText: 'lesson 1 is handed in.' }).waitFor();
    await phone.getByText(/Handed in .* You can hand in again/).waitFor();

    const row = teacher.locator('table.handout-students').getByRole('row', { name: /^ada / });
    await row.getByRole('cell', { name: /ago|just now|seconds?/ }).first().waitFor();
    assert.doesNotMatch(await row.innerText(), /late/);
  });

  it('collects, downloads the class’s work as one zip, and opens a student’s copy read-only', async () => {
    await teacher.getByRole('button', { name: 'Collect now' }).click();
    await teacher.locator('.notice').filter({ hasText: 'Collected 2 students' }).waitFor();

    const [download] = await Promise.all([teacher.waitForEvent('download'), teacher.getByRole('button', { name: 'Download the work (zip)' }).click()]);
    assert.equal(download.suggestedFilename(), 'lesson 1.zip');
    const zip = join(t.dataDir, 'download.zip');
    await download.saveAs(zip);
    const names = execFileSync('/usr/bin/python3', ['-c', 'import sys, zipfile; print("\\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))', zip], { encoding: 'utf8' });
    assert.deepEqual(names.trim().split('\n'), ['lesson 1/ada/cities.csv', 'lesson 1/ada/lesson.ipynb', 'lesson 1/bob/cities.csv', 'lesson 1/bob/lesson.ipynb']);

    const [view] = await Promise.all([
      teacher.context().waitForEvent('page'),
      teacher.locator('table.handout-students').getByRole('link', { name: 'View bob’s lesson 1', exact: true }).click(),
    ]);
    await view.getByRole('link', { name: 'lesson.ipynb' }).click();
    await view.getByRole('heading', { name: 'Lesson one' }).waitFor();
    // The teacher steps to the previous student, at the same notebook in her copy.
    await view.getByRole('navigation', { name: 'Students with lesson 1' }).getByText('2 of 2').waitFor();
    await view.getByRole('link', { name: '← Previous: ada' }).click();
    await view.getByRole('link', { name: 'ada', exact: true }).waitFor();
    assert.match(view.url(), /\/hub\/work\/ada\/lesson%201\/lesson\.ipynb\?handout=\d+$/);
    await view.getByRole('heading', { name: 'Lesson one' }).waitFor();

    // And the work as it was collected, stepping through the class's snapshots the same way.
    const [collected] = await Promise.all([
      teacher.context().waitForEvent('page'),
      teacher.locator('table.handout-students').getByRole('link', { name: 'View ada’s lesson 1 as collected' }).click(),
    ]);
    await collected.getByRole('link', { name: /^ada’s work collected \d{4}-\d\d-\d\d \d\d:\d\d UTC$/ }).waitFor();
    await collected.getByRole('link', { name: 'lesson.ipynb' }).click();
    await collected.getByRole('heading', { name: 'Lesson one' }).waitFor();
    await collected.getByRole('link', { name: 'Next →: bob' }).click();
    await collected.getByRole('link', { name: /^bob’s work collected/ }).waitFor();
    assert.match(collected.url(), /\/hub\/work\/bob\/lesson\.ipynb\?snapshot=\d+$/);
  });
});
