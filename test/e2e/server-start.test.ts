/**
 * A student's server starting, seen on a phone in Chromium: the progress page shows no "Try again"
 * while the start goes on, and shows it, with the reason, once the start has failed. The server is
 * a small real process that never becomes ready (test/fixtures/servers/fake-server.mjs).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';

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
