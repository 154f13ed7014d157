/**
 * A teacher whose students' servers run without a sandbox is told so where she looks: the
 * dashboard says what it means and how to fix it, and the servers screen marks each server
 * "Not isolated". In Chromium, against a real hub with `spawner.isolation: off` and a small fake
 * Jupyter server.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, logInAt } from '../helpers/browser.js';
import { fakeServer, projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';

describe('the teacher GUI when students are not isolated', () => {
  let browser: Browser;
  let t: TestHub;
  let page: Page;

  before(async () => {
    await mkdir(join(projectRoot(), 'test-artifacts'), { recursive: true });
    [browser, t] = await Promise.all([
      launchBrowser(),
      startTestHub({ ...fakeServer('ok'), spawner: { ...(fakeServer('ok').spawner as object), isolation: 'off' } }),
    ]);
    await t.addUser('lovelace', 'lovelace-password-1', true);
    await t.addUser('ada', 'ada-password-1');
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    await logInAt(page, `${t.hub.url}hub/admin`, 'lovelace', 'lovelace-password-1');
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('warns on the dashboard and marks every server on the servers screen', async () => {
    const warning = page.getByRole('alert').filter({ hasText: 'Students are not isolated (spawner.isolation is "off")' });
    await warning.waitFor();
    await warning.getByText(/can read and change classmates’ work.* Set spawner\.isolation to "auto"/).waitFor();
    await page.screenshot({ path: join(projectRoot(), 'test-artifacts', 'isolation-warning-dashboard.png'), fullPage: true });

    await t.api('/users/ada/server', { method: 'POST' });
    await page.getByRole('navigation', { name: 'Teacher screens' }).getByRole('link', { name: 'Servers' }).click();
    const row = page.locator('table.servers-table').getByRole('row', { name: /ada/ });
    await row.getByText('Running').waitFor();
    await row.getByText('Not isolated', { exact: true }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'Students are not isolated' }).waitFor();
    await page.screenshot({ path: join(projectRoot(), 'test-artifacts', 'isolation-warning-servers.png'), fullPage: true });
  });
});
