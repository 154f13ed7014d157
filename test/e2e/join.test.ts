/**
 * A student joins the class from a phone in Chromium: from the login page to the join form with
 * the class code, and in — at once, or after the teacher lets them in. The students' pages are
 * screenshotted at phone, tablet and laptop sizes.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';

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

  it('keeps a student waiting until the teacher lets them in, then moves on by itself', async () => {
    const t = await startTestHub({ auth: { loginMode: 'join-code', joinApproval: true } });
    try {
      const context = await browser.newContext(PHONE);
      const page = await context.newPage();
      await signUp(page, t, 'milo');
      await page.getByRole('heading', { name: 'Waiting for your teacher to let you in' }).waitFor();
      await page.getByText('Keep this page open', { exact: false }).waitFor();

      // Logging in on another device says the same, until the teacher lets milo in.
      const tablet = await (await browser.newContext(PHONE)).newPage();
      await tablet.goto(`${t.hub.url}hub/login`);
      await tablet.getByLabel('Username').fill('milo');
      await tablet.getByLabel('Password').fill('milo-password-1');
      await tablet.getByRole('button', { name: 'Log in' }).click();
      await tablet.getByRole('heading', { name: 'Waiting for your teacher to let you in' }).waitFor();
      await tablet.context().close();

      assert.equal((await t.api('/lectern/users/milo/approve', { method: 'POST' })).status, 204);
      await page.waitForURL('**/hub/home', { timeout: 30_000 });
      assert.match(await page.locator('header').innerText(), /milo/);
      await context.close();
    } finally {
      await t.stop();
    }
  });

  it('opens the join page from the address and QR code students are shown', async () => {
    const t = await startTestHub({ auth: { loginMode: 'join-code' } });
    try {
      const { addresses } = (await (await t.api('/lectern/join-urls')).json()) as { addresses: { url: string }[] };
      const page = await (await browser.newContext(PHONE)).newPage();
      await page.goto(addresses[0]?.url ?? '');
      await page.getByRole('heading', { name: 'Join the class' }).waitFor();
      await page.getByRole('link', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await page.context().close();
    } finally {
      await t.stop();
    }
  });

  it('shows every page a student meets without sideways scrolling on a phone, a tablet and a laptop', async () => {
    const t = await startTestHub({ auth: { loginMode: 'join-code', joinApproval: true } });
    const artifacts = join(projectRoot(), 'test-artifacts');
    await mkdir(artifacts, { recursive: true });
    const sizes = [
      { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
      { name: 'tablet', viewport: { width: 768, height: 1024 }, isMobile: true, hasTouch: true },
      { name: 'laptop', viewport: { width: 1280, height: 800 } },
    ];
    try {
      for (const { name: size, ...device } of sizes) {
        const page = await (await browser.newContext(device)).newPage();
        const check = async (name: string) => {
          // A string, evaluated in the page: the tests are compiled without the DOM's types.
          assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, `${name} on a ${size}: no sideways scrolling`);
          await page.screenshot({ path: join(artifacts, `student-${size}-${name}.png`), fullPage: true });
        };
        for (const [name, path] of [['login', 'hub/login'], ['join', 'hub/join'], ['card-code', 'hub/card']] as const) {
          await page.goto(`${t.hub.url}${path}`);
          await check(name);
        }
        await signUp(page, t, `kid-${size}`);
        await page.getByRole('heading', { name: 'Waiting for your teacher to let you in' }).waitFor();
        await check('waiting');
        await page.context().close();
      }
    } finally {
      await t.stop();
    }
  });
});
