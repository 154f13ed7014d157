/**
 * When a server cannot start or dies, the student is told why, nothing hangs, and they can start
 * again. The failures are played by a small real process (test/fixtures/servers/fake-server.mjs),
 * since a real Jupyter cannot be made to fail on demand.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readEvents } from '../helpers/http-client.js';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';
import { pidAlive, serverPid } from '../helpers/processes.js';
import { startAndOpen, startServer } from '../helpers/student-server.js';

async function withHub(overrides: Parameters<typeof startTestHub>[0], body: (t: TestHub) => Promise<void>) {
  const t = await startTestHub(overrides);
  try {
    await t.addUser('alice', 'alice-password-1');
    await body(t);
  } finally {
    await t.stop();
  }
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('servers that fail', () => {
  it('says clearly when the single-user command is missing, on the API and the spawn page', async () => {
    await withHub({ spawner: { command: ['/nonexistent/jupyterhub-singleuser'] } }, async (t) => {
      const response = await t.api('/users/alice/server', { method: 'POST' });
      assert.equal(response.status, 500);
      const body = (await response.json()) as { message: string };
      assert.match(body.message, /command "\/nonexistent\/jupyterhub-singleuser" was not found/);
      assert.match(body.message, /spawner\.command/);

      const alice = t.client();
      await alice.logIn('alice', 'alice-password-1');
      const { response: page, hops } = await alice.follow('/hub/spawn');
      assert.ok(hops.some((hop) => hop.url.includes('/hub/spawn-pending/alice')));
      assert.equal(page.status, 500);
      assert.match(await page.text(), /was not found/);

      const progress = await t.api('/users/alice/server/progress');
      const events = await readEvents(progress, (event) => Boolean(event.failed));
      assert.match(String(events.at(-1)?.message), /^Spawn failed: .*was not found/);
    });
  });

  it('gives up on a server that never answers, with a timeout error, and leaves no process behind', async () => {
    await withHub(fakeServer('never-ready', { startTimeout: 2 }), async (t) => {
      const started = Date.now();
      const response = await t.api('/users/alice/server', { method: 'POST' });
      assert.equal(response.status, 500);
      assert.match(((await response.json()) as { message: string }).message, /did not answer .* within 2 s/);
      assert.ok(Date.now() - started < 15_000, 'no hang beyond the timeout and the stop ladder');
      const log = await readFile(join(t.dataDir, 'logs', 'alice.log'), 'utf8');
      const pid = serverPid(t.logLines.join('\n'), 'alice');
      assert.equal(pidAlive(pid), false, 'the server process was stopped');
      assert.match(log, /never going to listen/, "the server's output is kept in its log");
    });
  });

  it('shows the end of the log when a server crashes on start', async () => {
    await withHub(fakeServer('crash'), async (t) => {
      const response = await t.api('/users/alice/server', { method: 'POST' });
      assert.equal(response.status, 500);
      const { message } = (await response.json()) as { message: string };
      assert.match(message, /exited \(exit code 3\) before it was ready/);
      assert.match(message, /fake server exploded on purpose/);
    });
  });

  it('notices a server killed with SIGKILL at once: route removed, the student told, and able to start again', async () => {
    await withHub(fakeServer('ok'), async (t) => {
      await startServer(t.api, '/users/alice/server');
      const alice = t.client();
      await alice.logIn('alice', 'alice-password-1');
      assert.equal((await alice.at(await alice.serverOrigin('alice')).request('/user/alice/lab')).status, 200, 'reaches the running server');
      const pid = serverPid(t.logLines.join('\n'), 'alice');
      process.kill(pid, 'SIGKILL');

      await waitFor('the route to go', async () => {
        const model = (await (await t.api('/users/alice')).json()) as { server: string | null };
        return model.server === null;
      }, 1000);
      const { response } = await alice.follow('/user/alice/lab');
      assert.equal(response.status, 424);
      assert.match(await response.text(), /stopped unexpectedly \(killed by SIGKILL\)/);

      await startServer(t.api, '/users/alice/server');
      assert.equal((await alice.at(await alice.serverOrigin('alice')).request('/user/alice/lab')).status, 200, 'started again');
    });
  });
});

describe('a hub under a base URL', () => {
  it('serves login, spawn and the server under /class/', async () => {
    await withHub({ network: { baseUrl: '/class/' }, ...fakeServer('ok') }, async (t) => {
      const alice = t.client();
      const { hops } = await alice.follow('/class/');
      assert.equal(new URL(hops.at(-1)!.url).pathname, '/class/hub/login');
      const login = await alice.request('/class/hub/login?next=%2Fclass%2Fhub%2F', {
        method: 'POST',
        body: new URLSearchParams({ username: 'alice', password: 'alice-password-1' }),
        headers: { Origin: t.origin },
      });
      assert.equal(login.status, 302);
      assert.match(login.headers.getSetCookie()[0] ?? '', /Path=\/class\/hub\//);
      // Straight to the server, or through the progress page when the start takes longer than a moment.
      const { response, hops: spawnHops } = await startAndOpen(alice, 'alice', '/class/');
      assert.equal(response.status, 200, spawnHops.map((h) => `${h.status} ${h.url}`).join('\n'));
      assert.match(await response.text(), /fake server for alice at \/class\/user\/alice\//);
    });
  });
});

describe('server logs', () => {
  it('reads a server’s log through the API, and rotates a log that outgrows its limit', async () => {
    await withHub(fakeServer('crash'), async (t) => {
      await t.api('/users/alice/server', { method: 'POST' });
      const log = await t.api('/lectern/users/alice/server/log?lines=5');
      assert.equal(log.status, 200);
      assert.match(log.headers.get('content-type') ?? '', /text\/plain/);
      assert.match(await log.text(), /fake server exploded on purpose/);
      const bob = await t.api('/lectern/users/alice/server/log', { headers: { Authorization: 'token nope' } });
      assert.equal(bob.status, 403);
    });
  });

  it('keeps the two previous logs when rotating, and the server writes on into the emptied file', async () => {
    const { mkdtemp, writeFile: write, appendFile, readFile: read, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { rotateLogIfLarge } = await import('../../server/spawner/server-log.js');
    const dir = await mkdtemp(join(tmpdir(), 'lectern-log-'));
    try {
      const file = join(dir, 'alice.log');
      await write(file, 'a'.repeat(200));
      assert.equal(await rotateLogIfLarge(file, 100), true);
      await appendFile(file, 'after rotation\n');
      await write(file, 'b'.repeat(200), { flag: 'a' });
      assert.equal(await rotateLogIfLarge(file, 100), true);
      assert.equal(await read(`${file}.2`, 'utf8'), 'a'.repeat(200));
      assert.match(await read(`${file}.1`, 'utf8'), /^after rotation\nb+$/);
      assert.equal(await read(file, 'utf8'), '');
      assert.equal(await rotateLogIfLarge(file, 100), false, 'a small log is left alone');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
