/**
 * A student joins the class from a phone in Chromium: from the login page to the join form with
 * the class code, and in — at once, or after the teacher lets them in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

async function classCode(t: TestHub): Promise<string> {
  return ((await (await t.api('/lectern/join')).json()) as { code: string }).code;
}

/** Opens the login page (coming back to the home page), follows its join link and fills the form in. */
async function signUp(page: Page, t: TestHub, name: string): Promise<void> {
  await page.goto(`${t.hub.url}hub/login?next=%2Fhub%2Fhome`);
  await page.getByRole('link', { name: 'Join with a class code' }).click();
  await page.getByLabel('Class code').fill((await classCode(t)).toLowerCase());
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Your name (optional)').fill(`${name} Example`);
  await page.getByLabel('Password', { exact: true }).fill(`${name}-password-1`);
  await page.getByLabel('Password again').fill(`${name}-password-1`);
  // A string, evaluated in the page: the tests are compiled without the DOM's types.
  assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling on a phone');
  await page.getByRole('button', { name: 'Join' }).click();
}

describe('joining with the class code in Chromium', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(() => browser.close());

  it('lands a student in the hub right after they join', async () => {
    const t = await startTestHub({ auth: { loginMode: 'join-code' } });
    try {
      const context = await browser.newContext(PHONE);
      const page = await context.newPage();
      await signUp(page, t, 'lena');
      await page.waitForURL('**/hub/home');
      assert.match(await page.locator('header').innerText(), /lena/);
      await context.close();
    } finally {
      await t.stop();
    }
  });

  it('keeps a student waiting until the teacher lets them in, then lets them log in', async () => {
    const t = await startTestHub({ auth: { loginMode: 'join-code', joinApproval: true } });
    try {
      const context = await browser.newContext(PHONE);
      const page = await context.newPage();
      await signUp(page, t, 'milo');
      await page.getByRole('heading', { name: 'Waiting for your teacher to let you in' }).waitFor();

      await page.getByRole('link', { name: 'Log in' }).click();
      const logIn = async () => {
        await page.getByLabel('Username').fill('milo');
        await page.getByLabel('Password').fill('milo-password-1');
        await page.getByRole('button', { name: 'Log in' }).click();
      };
      await logIn();
      await page.getByRole('heading', { name: 'Waiting for your teacher to let you in' }).waitFor();

      assert.equal((await t.api('/lectern/users/milo/approve', { method: 'POST' })).status, 204);
      await page.getByRole('link', { name: 'Log in' }).click();
      await logIn();
      await page.waitForURL('**/hub/home');
      assert.match(await page.locator('header').innerText(), /milo/);
      await context.close();
    } finally {
      await t.stop();
    }
  });
});
