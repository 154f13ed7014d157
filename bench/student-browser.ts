/**
 * What the benchmarks' students do in Chromium once they are logged in: reach their own server's
 * page, and run a notebook's first cell there (bench/classroom-flow.ts, bench/students-per-laptop.ts).
 */
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';

export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
/** How long a student waits on a page that does not move before reloading it. */
const RELOAD_AFTER_MS = 10_000;
/** How often the browser's cookies are looked at: often, so the wait adds little to what is timed. */
const COOKIE_POLL_MS = 25;

/**
 * What a notebook page does for its first cell, run in the student's page on their server's origin:
 * start a kernel (with Jupyter's XSRF token from its cookie), send `print(6*7)` over the kernel's
 * websocket, and resolve with what it printed. A string: the bench is compiled without the DOM's types.
 */
const FIRST_CELL = `(async () => {
  const base = location.pathname.match(/^\\/user\\/[^/]+\\//)[0];
  const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1];
  const headers = { 'Content-Type': 'application/json', ...(xsrf ? { 'X-XSRFToken': decodeURIComponent(xsrf) } : {}) };
  const started = await fetch(base + 'api/kernels', { method: 'POST', headers, body: JSON.stringify({ name: 'python3' }) });
  if (started.status !== 201) throw new Error('no kernel: ' + started.status + ' ' + (await started.text()));
  const { id } = await started.json();
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(location.origin.replace(/^http/, 'ws') + base + 'api/kernels/' + id + '/channels');
    const msgId = 'bench-' + Math.random();
    let output = '';
    socket.onerror = () => reject(new Error('the kernel websocket failed'));
    // A kernel that died (or never started) answers nothing: say so rather than wait for ever.
    socket.onclose = () => reject(new Error('the kernel websocket closed before the cell ended'));
    setTimeout(() => reject(new Error('no answer from the kernel within 5 minutes')), 300000);
    socket.onopen = () => socket.send(JSON.stringify({
      header: { msg_id: msgId, username: 'student', session: msgId, msg_type: 'execute_request', version: '5.3' },
      parent_header: {}, metadata: {}, channel: 'shell', buffers: [],
      content: { code: 'print(6*7)', silent: false, store_history: false, user_expressions: {}, allow_stdin: false },
    }));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.parent_header.msg_id !== msgId) return;
      if (message.msg_type === 'stream') output += message.content.text;
      if (message.msg_type === 'status' && message.content.execution_state === 'idle') {
        socket.close();
        resolve(output);
      }
    };
  });
})()`;

/**
 * From a page on its way to `name`'s server (just logged in to the hub), to her server's own page,
 * and her notebook's first cell answered there: `print(6*7)` printing 42.
 */
export async function runFirstCell(page: Page, name: string, timeoutMs: number): Promise<void> {
  const context = page.context();
  // On one of the server's own pages, loaded: past its OAuth redirects, which set its cookies.
  const arrived = (url: URL) => url.pathname.startsWith(`/user/${name}/`) && !url.pathname.includes('oauth_callback');
  await page.waitForURL(arrived, { timeout: timeoutMs, waitUntil: 'domcontentloaded' });
  // Until the server's route is in its proxy, JupyterHub answers its URLs itself (a page saying
  // the server is starting): the server's own page is the one after its OAuth login, which
  // leaves its cookie. Reloaded as a student would, until it is there.
  const serverCookie = `jupyterhub-user-${name}`;
  const deadline = performance.now() + timeoutMs;
  let reloadAt = performance.now() + RELOAD_AFTER_MS;
  while (!(await context.cookies()).some((cookie) => cookie.name === serverCookie)) {
    if (performance.now() > deadline) throw new Error(`${name} never got into their server (stuck at ${page.url()})`);
    await new Promise((resolve) => setTimeout(resolve, COOKIE_POLL_MS));
    // The page's own script may still be taking the student on: reload only when it has not.
    if (performance.now() > reloadAt) {
      reloadAt = performance.now() + RELOAD_AFTER_MS;
      await page.goto(`${new URL(page.url()).origin}/user/${name}/`).catch(() => undefined);
    }
  }
  // The notebook's first cell, from the student's own browser, on the server's page.
  const output = (await page.evaluate(FIRST_CELL)) as string;
  if (output.trim() !== '42') throw new Error(`${name}'s kernel printed ${JSON.stringify(output)}`);
}
