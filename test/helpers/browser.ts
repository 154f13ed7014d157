/**
 * Debian's Chromium (`/usr/bin/chromium`, installed by `scripts/setup.sh --for-tests`) driven by
 * playwright-core, for end-to-end tests of the pages students and teachers use.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** A headless Chromium; close it in the test's `after`. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox cannot start as root (containers, CI); elsewhere it stays on.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** Opens `url`, a hub page that needs a login, logs in on the login page the hub sends to, and waits to be back. */
export async function logInAt(page: Page, url: string, name: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(url);
}
