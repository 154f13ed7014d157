/**
 * The teacher's lesson start in three actions, in Chromium on a laptop: the desktop app's window
 * opens logged in, then Import class list → choose the school system's export → Import and print
 * cards. The export is what a school system gives (First name,Last name, Windows-1252, accents, two
 * Zoës, a pair of namesakes, no class column), so nothing needs fixing; the sheet that opens has a
 * card per student, and students log in from their cards: one scanning the QR code on a phone, one
 * typing her login name with its accents. Screenshots land in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { fakeServer, projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';
import { decodeQrPng } from '../helpers/qr.js';
import { SCHOOL_EXPORT, windows1252 } from '../helpers/school-export.js';

const ARTIFACTS = join(projectRoot(), 'test-artifacts');
const LAPTOP = { viewport: { width: 1366, height: 768 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

describe('a class from the school’s export to students in, in three actions', () => {
  let browser: Browser;
  let t: TestHub;
  let teacher: Page;
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `class-list-${name}.png`), fullPage: true });

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchBrowser();
    t = await startTestHub(fakeServer('ok'));
    await t.addUser('teach', 'teacher-password-1', true);
  });
  after(async () => {
    await browser.close();
    await t.stop();
  });

  it('imports the export and opens the login cards: Import class list, choose the file, Import and print cards', async () => {
    const file = join(t.dataDir, 'Class 7B.csv');
    await writeFile(file, windows1252(SCHOOL_EXPORT));
    teacher = await (await browser.newContext(LAPTOP)).newPage();
    // What the desktop app's window opens with: the teacher logged in, on the dashboard.
    await teacher.goto(await t.hub.desktopLoginUrl());
    await teacher.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();

    await teacher.getByRole('button', { name: 'Import class list' }).click(); // 1
    const importer = teacher.getByRole('dialog', { name: 'Import a class list' });
    await importer.getByLabel('Class list file').setInputFiles(file); // 2
    await importer.getByText('30 students ready to import.').waitFor();
    const rows = importer.locator('tbody tr');
    assert.equal(await rows.count(), 30);
    const row = (line: number) => rows.nth(line - 2).locator('th, td').allInnerTexts();
    assert.deepEqual((await row(2)).slice(1, 3), ['amelie.poulain', 'Amélie Poulain'], 'accents off the login name, kept in the full name');
    assert.deepEqual((await row(10)).slice(1, 3), ['siobhan.obrien', 'Siobhán O’Brien']);
    assert.deepEqual((await row(11)).slice(1, 3), ['asa.odegaard', 'Åsa Ødegaard']);
    assert.deepEqual((await row(28)).slice(1, 3), ['zoe.martin', 'Zoë Martin'], 'the two Zoës are two students');
    assert.deepEqual((await row(29)).slice(1, 3), ['zoe.dubois', 'Zoë Dubois']);
    const namesake = await row(31);
    assert.equal(namesake[1], 'noah.petit2');
    assert.match(namesake[5] ?? '', /noah\.petit is taken \(line 30\): this student is noah\.petit2/, 'the namesake is told apart, and the teacher sees how');
    await shot(teacher, 'preview');

    await importer.getByRole('button', { name: 'Import 30 students and print cards' }).click(); // 3
    await teacher.waitForURL(/\/hub\/cards\//);
    assert.equal(await teacher.locator('article.login-card').count(), 30);
    await shot(teacher, 'cards');
  });

  it('logs students in from their cards: one scans it, one types her name with its accents', async () => {
    const zoe = teacher.locator('article.login-card[data-name="zoe.martin"]');
    assert.match(await zoe.locator('.display-name').innerText(), /^Zoë Martin$/);
    const link = decodeQrPng(await zoe.locator('.qr svg').screenshot());
    assert.ok(link);
    const phone = await (await browser.newContext(PHONE)).newPage();
    await phone.goto(link);
    await phone.waitForURL(/\/user\/zoe\.martin\//);
    await shot(phone, 'student-in');

    const amelie = teacher.locator('article.login-card[data-name="amelie.poulain"]');
    const password = (await amelie.locator('.password').innerText()).trim();
    const laptop = await (await browser.newContext(LAPTOP)).newPage();
    await laptop.goto(`${t.hub.url}hub/login`);
    await laptop.getByLabel('Username').fill('Amélie.Poulain');
    await laptop.getByLabel('Password').fill(password);
    await laptop.getByRole('button', { name: 'Log in' }).click();
    await laptop.waitForURL(/\/hub\/change-password|\/user\/amelie\.poulain\//);
  });
});
