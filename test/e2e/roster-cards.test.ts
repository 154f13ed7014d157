/**
 * A teacher puts a class of 30 on the hub from a tablet in Chromium, in the dashboard's import:
 * pastes a roster with three bad rows, sees them flagged and Import held back, fixes them, imports,
 * and prints the login cards. One card's QR code, read back from the rendered page as a phone camera would, logs its
 * student in from a browser with no cookies — once: the same code in another browser is refused.
 * A card reported lost stops working when its student gets a new one.
 * Screenshots land in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, logInAt } from '../helpers/browser.js';
import { fakeServer, projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';
import { decodeQrPng } from '../helpers/qr.js';

const ARTIFACTS = join(projectRoot(), 'test-artifacts');
const TABLET = { viewport: { width: 820, height: 1180 }, deviceScaleFactor: 2, hasTouch: true };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** Thirty students, s01…s30, in two classes; the bad version has an invalid name, a repeated name and a short password. */
function roster(bad: boolean): string {
  const rows = ['name,display name,password,class'];
  for (let i = 1; i <= 30; i++) {
    const id = String(i).padStart(2, '0');
    let name = `s${id}`;
    let password = i % 7 === 0 ? `own-password-${id}` : '';
    if (bad && i === 5) name = 's 05';
    if (bad && i === 10) name = 's03';
    if (bad && i === 20) password = 'short';
    rows.push(`${name},Student ${i},${password},${i <= 15 ? 'physics' : 'chemistry'}`);
  }
  return rows.join('\n');
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `roster-cards-${name}.png`), fullPage: true });
}

describe('a class from a roster to login cards, in Chromium', () => {
  let browser: Browser;
  let t: TestHub;
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

  it('imports 30 students after the bad rows are fixed, and one card’s QR code logs its student in once', async () => {
    const teacher = await (await browser.newContext(TABLET)).newPage();
    await logInAt(teacher, `${t.hub.url}hub/admin`, 'teach', 'teacher-password-1');
    await teacher.getByRole('button', { name: 'Import class list' }).click();
    const importer = teacher.getByRole('dialog', { name: 'Import a class list' });
    await importer.getByText('Or paste the list').click();
    const text = importer.getByLabel('Class list, one student per line');
    const check = importer.getByRole('button', { name: 'Check the list' });
    const importButton = importer.getByRole('button', { name: /^Import \d+ students and print cards$/ });
    await text.fill(roster(true));
    await check.click();
    await importer.getByText('27 rows ready, 3 rows to fix', { exact: false }).waitFor();
    const flagged = importer.locator('tr.row-problem');
    assert.equal(await flagged.count(), 3);
    const reasons = (await flagged.locator('.problems').allInnerTexts()).join('\n');
    assert.match(reasons, /may contain only letters, digits/);
    assert.match(reasons, /s03 is already on line 4/);
    assert.match(reasons, /at least 8 characters/);
    assert.equal(await importButton.isVisible(), false, 'Import waits until every row is valid');
    // A string, evaluated in the page: the tests are compiled without the DOM's types.
    assert.equal(await teacher.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling on a tablet');
    await screenshot(teacher, 'preview-with-problems');

    await text.fill(roster(false));
    await check.click();
    await importer.getByText('30 students ready to import.').waitFor();
    await importButton.click();
    await teacher.waitForURL(/\/hub\/cards\//);
    assert.equal(await teacher.locator('article.login-card').count(), 30);
    assert.equal(await teacher.locator('section.sheet').count(), 4, 'eight cards to a printed page');
    const card = teacher.locator('article.login-card[data-name="s05"]');
    assert.match(await card.innerText(), /Student 5[\s\S]*s05[\s\S]*\w+-\w+-\w+-\d+/, 'a made-up password, printed once, on the card');
    assert.match(await teacher.locator('article.login-card[data-name="s07"]').innerText(), /own-password-07/, 'the password from the list');
    await screenshot(teacher, 'sheet');
    await card.screenshot({ path: join(ARTIFACTS, 'roster-cards-one-card.png') });
    await teacher.emulateMedia({ media: 'print' });
    assert.equal(await teacher.getByRole('button', { name: 'Print' }).isVisible(), false, 'the Print button stays off the paper');
    for (const format of ['A4', 'Letter']) {
      const pdf = await teacher.pdf({ path: join(ARTIFACTS, `roster-cards-sheet-${format}.pdf`), format });
      const pages = pdf.toString('latin1').match(/\/Type \/Page\b/g)?.length;
      assert.equal(pages, 4, `30 cards on 4 ${format} pages: the cards fit, and none is cut across two`);
    }
    await teacher.emulateMedia({ media: 'screen' });

    const link = decodeQrPng(await card.locator('.qr svg').screenshot());
    assert.match(link ?? '', new RegExp(`^${t.origin}/hub/login-link/[\\w-]{43}$`));
    const lostLink = decodeQrPng(await teacher.locator('article.login-card[data-name="s06"] .qr svg').screenshot());

    const student = await (await browser.newContext(PHONE)).newPage();
    await student.goto(link as string);
    await student.waitForURL(/\/user\/s05\//);
    assert.notEqual(new URL(student.url()).origin, t.origin, 'her server opens at an origin of its own');
    await student.goto(`${t.hub.url}hub/home`);
    // Asked as the page's own fetch would be (its cookies, its address as Referer), not from the
    // page itself: its script may reload it meanwhile.
    const me = (await (await student.context().request.get(`${t.hub.url}hub/api/user`, { headers: { Referer: `${t.hub.url}hub/home` } })).json()) as { name: string };
    assert.equal(me.name, 's05', 'logged in as the card’s student, with no password typed');
    await screenshot(student, 'student-in');

    const someoneElse = await (await browser.newContext(PHONE)).newPage();
    await someoneElse.goto(link as string);
    await someoneElse.getByText('This login link has already been used or has expired.').waitFor();
    assert.match(someoneElse.url(), /\/hub\/login-link\//);
    await screenshot(someoneElse, 'link-used');

    // Next week the laptop has another address: the QR code's no longer answers, and s07 types her
    // card code at the one on the board (here the same hub reached as localhost), in any case.
    const code = await teacher.locator('article.login-card[data-name="s07"] .card-code').innerText();
    assert.match(code, /^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
    const elsewhere = t.origin.replace('127.0.0.1', 'localhost');
    const s07 = await (await browser.newContext(PHONE)).newPage();
    await s07.goto(`${elsewhere}/hub/login`);
    await s07.getByRole('link', { name: 'I have a login card' }).click();
    await s07.getByLabel('Card code').fill(code.toLowerCase().replace('-', ' '));
    await s07.getByRole('button', { name: 'Log in' }).click();
    await s07.waitForURL((url) => !url.pathname.endsWith('/hub/card'));
    await s07.goto(`${elsewhere}/hub/home`);
    const s07me = (await (await s07.context().request.get(`${elsewhere}/hub/api/user`, { headers: { Referer: `${elsewhere}/hub/home` } })).json()) as { name: string };
    assert.equal(s07me.name, 's07', 'logged in as the card’s student, at another address');
    const again = await (await browser.newContext(PHONE)).newPage();
    await again.goto(`${elsewhere}/hub/card`);
    await again.getByLabel('Card code').fill(code);
    await again.getByRole('button', { name: 'Log in' }).click();
    await again.getByText('That card code is not right, or it has been used or has expired.', { exact: false }).waitFor();

    // s06 lost her card: a new one from the Users screen, and the lost one stops working.
    await teacher.goto(`${t.hub.url}hub/admin#/users`);
    await teacher.getByRole('checkbox', { name: 'Select s06' }).check();
    await teacher.getByRole('button', { name: 'Print login cards (1 selected)' }).click();
    const choice = teacher.getByRole('dialog', { name: 'Login cards for s06' });
    await choice.getByLabel('A card was lost: stop the cards printed before.').check();
    await choice.getByRole('button', { name: 'Make cards' }).click();
    await teacher.getByRole('dialog', { name: 'Login cards are ready' }).getByRole('link', { name: 'Open login cards' }).waitFor();
    const finder = await (await browser.newContext(PHONE)).newPage();
    await finder.goto(lostLink as string);
    await finder.getByText('This login link has already been used or has expired.').waitFor();
  });
});
