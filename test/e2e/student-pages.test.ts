/**
 * A student's page cannot act as the teacher. In Chromium, through a real nginx that removes the
 * Sec-Fetch-* headers (as browsers leave them out on a plain-HTTP classroom LAN, so the hub must hold
 * without them), the teacher opens what a student who wants to be admin prepared:
 *
 * - a notebook of hers, trusted, whose output is JavaScript that tries to make her admin and to get
 *   the teacher an API token, in her real jupyterhub-singleuser and in a plain `jupyter notebook`;
 * - a page of a hostile server (a small fake one) that tries the same, and answers with the
 *   student's own login cookie for the hub's path.
 *
 * Each time the script runs (it reports what it got) and nothing changes: she is not admin, the
 * teacher has no new token, and the teacher is still the teacher. Meanwhile the teacher's use of the
 * live server and the student's own work go on, websockets included.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, logInAt } from '../helpers/browser.js';
import { fakeServer, projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';
import { runCode } from '../helpers/kernel.js';
import { FRONT_HOST, freePortRange, frontPorts, type Nginx } from '../helpers/nginx.js';
import { startAndOpen, startKernel, startServer } from '../helpers/student-server.js';

const ARTIFACTS = join(projectRoot(), 'test-artifacts');
/** The hub's port and, after it, the ports of the students' servers. */
const PORTS = 4;

/** What the student's script tries, from her page, with the teacher's cookies; it reports each answer in `data-attack`. */
function attackScript(hub: string): string {
  return `
(async () => {
  const results = {};
  const attempt = async (name, url, init) => {
    try {
      const response = await fetch(url, { credentials: 'include', ...init });
      results[name] = response.type === 'opaque' ? 'opaque' : response.status;
    } catch (error) {
      results[name] = String(error);
    }
  };
  const json = { 'Content-Type': 'application/json' };
  await attempt('make her admin', '${hub}/hub/api/users/ann', { method: 'PATCH', headers: json, body: '{"admin": true}' });
  await attempt('a token for the teacher', '${hub}/hub/api/users/teacher/tokens', { method: 'POST', headers: json, body: '{}' });
  await attempt('a token, no-cors', '${hub}/hub/api/users/teacher/tokens', { method: 'POST', mode: 'no-cors', body: '{}' });
  await attempt('a token, at her own origin', '/hub/api/users/teacher/tokens', { method: 'POST', body: '{}' });
  await attempt('read the users', '${hub}/hub/api/users', {});
  document.body.setAttribute('data-attack', JSON.stringify(results));
})();`;
}

/** A notebook whose one output is `script`, marked trusted (the student signs it in her own server). */
function attackNotebook(script: string): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 4,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: [
      {
        cell_type: 'code',
        metadata: {},
        execution_count: 1,
        source: 'print("my homework")',
        outputs: [{ output_type: 'display_data', metadata: {}, data: { 'text/html': `<p>my homework</p><script>${script}</script>`, 'text/plain': 'my homework' } }],
      },
    ],
  });
}

interface Scene {
  t: TestHub;
  nginx: Nginx;
  /** The hub as the browser reaches it, through the front. */
  hubUrl: string;
  browser: Browser;
}

async function setUp(overrides: Record<string, unknown>): Promise<Scene> {
  const first = await freePortRange(PORTS);
  const t = await startTestHub({ ...overrides, network: { port: first, serverPorts: `${first + 1}-${first + PORTS - 1}` } });
  const nginx = await frontPorts(Array.from({ length: PORTS }, (_, i) => first + i));
  // The first admin, made at the first start: given a password the test knows.
  assert.equal((await t.api('/lectern/users/teacher/password', { method: 'PUT', body: JSON.stringify({ password: 'teacher-password-1' }) })).status, 204);
  await t.addUser('ann', 'ann-password-1');
  return { t, nginx, hubUrl: `http://${FRONT_HOST}:${first}/`, browser: await launchBrowser() };
}

async function tearDown(scene: Scene | undefined): Promise<void> {
  await scene?.browser.close();
  await scene?.nginx.stop();
  await scene?.t.stop();
}

/** The teacher's browser, logged in at the hub through the front. */
async function teacherPage(scene: Scene): Promise<Page> {
  const page = await (await scene.browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  await logInAt(page, `${scene.hubUrl}hub/home`, 'teacher', 'teacher-password-1');
  return page;
}

/** What the student's script reported, once it has run. */
async function attackResults(page: Page): Promise<Record<string, unknown>> {
  await page.waitForSelector('body[data-attack]', { state: 'attached', timeout: 60_000 });
  return JSON.parse((await page.getAttribute('body', 'data-attack')) ?? '{}') as Record<string, unknown>;
}

/** Nothing the script tried changed anything, and the teacher is still the teacher. */
async function assertNothingChanged(scene: Scene, page: Page, results: Record<string, unknown>): Promise<void> {
  assert.equal(Object.keys(results).length, 5, `the script ran: ${JSON.stringify(results)}`);
  for (const [attempt, answer] of Object.entries(results)) {
    assert.ok(typeof answer !== 'number' || answer >= 400, `${attempt}: ${String(answer)}`);
  }
  const ann = (await (await scene.t.api('/users/ann')).json()) as { admin: boolean };
  assert.equal(ann.admin, false, 'ann is not admin');
  // Opening her jupyterhub-singleuser gave the teacher an OAuth token for that server: no other.
  const tokens = (await (await scene.t.api('/users/teacher/tokens')).json()) as { api_tokens: { oauth_client: string | null }[] };
  assert.deepEqual(tokens.api_tokens.filter((token) => token.oauth_client === null), [], 'the teacher has no new token');
  await page.goto(`${scene.hubUrl}hub/home`);
  const me = (await page.evaluate("fetch('/hub/api/user').then((response) => response.json())")) as { name: string };
  assert.equal(me.name, 'teacher', 'the teacher is still the teacher');
}

/** Ann writes her notebook in her own server, and signs it there, as running it herself would. */
async function annPreparesNotebook(t: TestHub, name: string, content: string): Promise<void> {
  const ann = t.client();
  await ann.logIn('ann', 'ann-password-1');
  const { server } = await startAndOpen(ann, 'ann');
  const xsrf = server.cookie('_xsrf');
  const saved = await server.request(`/user/ann/api/contents/${name}`, {
    method: 'PUT',
    headers: { Origin: server.origin, 'Content-Type': 'application/json', ...(xsrf ? { 'X-XSRFToken': xsrf } : {}) },
    body: JSON.stringify({ type: 'notebook', format: 'json', content: JSON.parse(content) as unknown }),
  });
  assert.equal(saved.status, 201, await saved.text());
  const kernel = await startKernel(server, '/user/ann/');
  const signed = await runCode(
    server,
    `/user/ann/api/kernels/${kernel}/channels`,
    `import nbformat\nfrom nbformat.sign import NotebookNotary\nnb = nbformat.read(${JSON.stringify(name)}, 4)\nNotebookNotary().sign(nb)\nprint(NotebookNotary().check_signature(nb))`,
  );
  assert.equal(signed.trim(), 'True', 'the notebook is trusted in her server');
}

/** The live notebook page works for whoever opened it: its kernel connects over its websocket. */
async function assertKernelConnects(page: Page): Promise<void> {
  await page.locator('#kernel_indicator_icon.kernel_idle_icon').waitFor({ timeout: 60_000 });
}

for (const mode of [
  { title: 'jupyterhub-singleuser', spawner: {} },
  { title: 'plain `jupyter notebook`', spawner: { python: '/usr/bin/python3', launchMode: 'notebook' } },
]) {
  describe(`a student’s trusted JavaScript, opened by the teacher in her live server (${mode.title})`, () => {
    let scene: Scene;
    before(async () => {
      scene = await setUp({ spawner: mode.spawner, culler: { enabled: false } });
      await annPreparesNotebook(scene.t, 'homework.ipynb', attackNotebook(attackScript(scene.hubUrl.slice(0, -1))));
    });
    after(() => tearDown(scene));

    it('runs, and changes nothing: she is not admin, the teacher has no new token and is still the teacher', async () => {
      const page = await teacherPage(scene);
      await page.goto(`${scene.hubUrl}user/ann/notebooks/homework.ipynb`);
      // An admin opening a student's jupyterhub-singleuser confirms it first, as in JupyterHub.
      const authorize = page.getByRole('button', { name: 'Authorize' });
      if (mode.title === 'jupyterhub-singleuser') await authorize.click();
      await page.waitForURL(/\/user\/ann\/notebooks\/homework\.ipynb/);
      assert.notEqual(new URL(page.url()).port, new URL(scene.hubUrl).port, 'her notebook is at an origin of its own');
      await assertKernelConnects(page);
      await page.screenshot({ path: join(ARTIFACTS, `student-pages-${mode.title.replace(/\W+/g, '-')}.png`) });
      await assertNothingChanged(scene, page, await attackResults(page));
    });

    it('lets ann work in her own notebook, code run over its websocket', async () => {
      const page = await (await scene.browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
      await logInAt(page, `${scene.hubUrl}hub/home`, 'ann', 'ann-password-1');
      await page.goto(`${scene.hubUrl}user/ann/notebooks/homework.ipynb`);
      await page.waitForURL(/\/user\/ann\/notebooks\/homework\.ipynb/);
      await assertKernelConnects(page);
      await page.locator('.cell.code_cell .input_area').first().click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('print(6*7)');
      await page.keyboard.press('Shift+Enter');
      await page.locator('.output_area pre', { hasText: '42' }).waitFor({ timeout: 60_000 });
    });
  });
}

describe('a hostile server’s page and cookies, opened by the teacher', () => {
  let scene: Scene;
  before(async () => {
    scene = await setUp(fakeServer('ok'));
    const ann = scene.t.client();
    await ann.logIn('ann', 'ann-password-1');
    const home = join(scene.t.dataDir, 'users', 'ann', 'home');
    await startServer(scene.t.api, '/users/ann/server');
    // Her server answers with her own login for the hub's path, and a page with her script.
    await writeFile(join(home, 'fake-set-cookies.json'), JSON.stringify([`lectern-session=${ann.cookie('lectern-session') ?? ''}; Path=/hub/; HttpOnly`]));
    await writeFile(join(home, 'fake-page.html'), `<!doctype html><title>homework</title><body><p>my homework</p><script>${attackScript(scene.hubUrl.slice(0, -1))}</script></body>`);
  });
  after(() => tearDown(scene));

  it('runs, and changes nothing: her planted login never reaches the hub, and the teacher is still the teacher', async () => {
    const page = await teacherPage(scene);
    await page.goto(`${scene.hubUrl}user/ann/page`);
    await page.waitForURL(/\/user\/ann\/page/);
    const cookies = await page.context().cookies();
    assert.deepEqual(cookies.filter((cookie) => cookie.name === 'lectern-session').map((cookie) => cookie.path), ['/hub/'], 'one login cookie, the teacher’s');
    await assertNothingChanged(scene, page, await attackResults(page));
  });
});
