/**
 * Servers that start, stop, survive and clean up like a product: a start queue and limits,
 * adoption of running servers after the hub is killed, and nothing left behind on quit.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HttpClient, readEvents } from '../helpers/http-client.js';
import WebSocket from 'ws';
import { startCli } from '../helpers/cli.js';
import { ADMIN_TOKEN, fakeServer, startTestHub } from '../helpers/hub.js';
import { pidAlive, serverPid } from '../helpers/processes.js';
import { freeLoopbackPort } from '../../server/spawner/free-port.js';
import { execFileSync } from 'node:child_process';
import { until } from '../helpers/wait.js';
import { startServer } from '../helpers/student-server.js';



describe('server lifecycle', () => {
  it('starts 8 real servers at once, 3 at a time, and all become ready', async () => {
    // Launched, not forked: a forked server is ready in a fraction of a second, so all 8 could be
    // ready before the test asks where the last one stands in line.
    const t = await startTestHub({ spawner: { concurrentSpawnLimit: 3, startTimeout: 120, forkServer: false }, culler: { enabled: false } });
    try {
      const names = Array.from({ length: 8 }, (_, i) => `s${String(i).padStart(2, '0')}`);
      await t.api('/users', { method: 'POST', body: JSON.stringify({ usernames: names }) });
      const start = (name: string) => t.api(`/users/${name}/server`, { method: 'POST' });
      // The progress of a start, once the hub has taken it on (404 before).
      const progress = async (name: string) => {
        const answer = await t.api(`/users/${name}/server/progress`);
        if (answer.status === 200) return answer;
        assert.equal(answer.status, 404, await answer.text());
        return undefined;
      };
      const first = names.slice(0, -1);
      const last = names.at(-1) as string;
      const posted = first.map(start);
      const takenOn = async (name: string) => {
        const stream = await progress(name);
        await stream?.body?.cancel();
        return stream !== undefined;
      };
      await until('the first 7 starts to be taken on', async () => (await Promise.all(first.map(takenOn))).every(Boolean), 120_000, 20);
      posted.push(start(last));
      // The last waits its turn (behind at least four others: real starts take a while), and its
      // progress, replayed from its request, says where it stands in line. Read while it starts, not
      // once the POSTs are answered: each is held until its server is ready, and a fast machine had
      // all 8 ready by then, when the progress is only "ready".
      const waiting = await until(`${last}'s start to be taken on`, () => progress(last), 120_000, 20);
      const events = await readEvents(waiting, (event) => Boolean(event.ready || event.failed));
      assert.ok(events.some((event) => /number \d+ in line/.test(String(event.message))), JSON.stringify(events));
      assert.equal(events.at(-1)?.ready, true);
      for (const answer of await Promise.all(posted)) assert.ok([201, 202].includes(answer.status), `${answer.status} ${await answer.text()}`);
      await until('all 8 servers ready', async () => {
        const users = (await (await t.api('/users?state=ready')).json()) as unknown[];
        return users.length === 8;
      });
      // Each server's whole process tree is measured: the API shows its memory.
      const usage = await until('CPU and memory figures', async () => {
        const model = (await (await t.api('/users/s00')).json()) as {
          servers: Record<string, { lectern_usage: { memory_bytes: number; processes: number } | null }>;
        };
        return model.servers['']?.lectern_usage ?? false;
      }, 15_000);
      assert.ok(usage.memory_bytes > 10_000_000, `a Jupyter server uses tens of MB (got ${usage.memory_bytes})`);
      assert.ok(usage.processes >= 1);

      // Quitting stops all 8 at once, and none is sent SIGTERM, which Jupyter treats as SIGINT.
      const pids = names.map((name) => serverPid(t.logLines.join('\n'), name));
      await t.hub.dispose();
      assert.deepEqual(pids.filter(pidAlive), [], 'no server outlives the hub');
      assert.ok(!t.logLines.some((line) => line.includes('still running after SIGTERM')));
    } finally {
      await t.stop();
    }
  });

  it('quits while a student’s notebook still holds its websocket open', async () => {
    const t = await startTestHub(fakeServer('ok'));
    let stopped = false;
    try {
      await t.addUser('alice', 'alice-password-1');
      await startServer(t.api, '/users/alice/server');
      const socket = new WebSocket(`${t.origin.replace(/^http/, 'ws')}/user/alice/api/kernels/k1/channels`, { headers: { Authorization: `token ${ADMIN_TOKEN}` } });
      await new Promise((resolve, reject) => {
        socket.once('upgrade', resolve);
        socket.once('error', reject);
      });
      const closed = new Promise((resolve) => socket.once('close', resolve));
      // Without the proxy ending websockets first, the public listener waited for them forever.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        t.stop().then(() => (stopped = true)),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('the hub did not stop within a minute while a websocket was open')), 60_000);
        }),
      ]).finally(() => clearTimeout(timer));
      await closed;
    } finally {
      if (!stopped) await t.stop();
    }
  });

  it('starts a server again on another port when another program took its port as it started', async () => {
    // Outside a sandbox, whose end would end the program holding the port too.
    const t = await startTestHub(fakeServer('port-taken-once', { isolation: 'off' }));
    try {
      await t.addUser('alice', 'alice-password-1');
      await startServer(t.api, '/users/alice/server');
      assert.ok(t.logLines.some((line) => line.includes("alice's server found its port taken by another program")));
      assert.match(await (await fetch(`${t.origin}/user/alice/api/status`)).text(), /fake server for alice/, 'the proxy reaches it');
    } finally {
      await t.stop();
    }
  });

  it('refuses a start beyond the running limit or below the memory floor, saying why', async () => {
    const t = await startTestHub({ ...fakeServer('ok'), spawner: { ...fakeServer('ok').spawner as object, activeServerLimit: 1 } });
    try {
      await t.addUser('alice', 'alice-password-1');
      await t.addUser('bob', 'bob-password-1');
      await startServer(t.api, '/users/alice/server');
      const full = await t.api('/users/bob/server', { method: 'POST' });
      assert.equal(full.status, 429);
      assert.equal(full.headers.get('retry-after'), '30');
      assert.match(((await full.json()) as { message: string }).message, /The class is full: 1 servers are running/);
    } finally {
      await t.stop();
    }
    const low = await startTestHub({ ...fakeServer('ok'), spawner: { ...fakeServer('ok').spawner as object, minFreeMemoryMb: 100_000_000 } });
    try {
      await low.addUser('alice', 'alice-password-1');
      const refused = await low.api('/users/alice/server', { method: 'POST' });
      assert.equal(refused.status, 429);
      assert.match(((await refused.json()) as { message: string }).message, /only \d+ MiB of memory free/);
    } finally {
      await low.stop();
    }
  });
});

const TOKEN = 'lifecycle-service-token-0123456789';

describe('after the hub is killed', () => {
  /**
   * Alice's server outlives a SIGKILLed hub and is adopted by the next one. `page` is a page of her
   * server: the way a browser gets in (OAuth with jupyterhub-singleuser; the gate's cookie, issued
   * again by the new hub, for a plain server).
   */
  async function adoptionJourney(spawner: string, page: string): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'lectern-adopt-'));
    const config = join(dir, 'lectern.yaml');
    await writeFile(config, `services:\n  - { name: automation, apiToken: ${TOKEN}, admin: true }\nculler: { enabled: false }\n${spawner}`);
    const port = await freeLoopbackPort();
    const origin = `http://127.0.0.1:${port}`;
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${origin}/hub/api${path}`, { ...init, headers: { Authorization: `token ${TOKEN}` } });
    let hub = await startCli(['--port', String(port), '--data-dir', join(dir, 'data'), '--config', config]);
    try {
      assert.equal((await api('/users/alice', { method: 'POST', body: '{"password":"alice-password-1"}' })).status, 201);
      await startServer(api, '/users/alice/server');
      const pid = serverPid(hub.stderr(), 'alice');
      const alice = new HttpClient(origin);
      await alice.logIn('alice', 'alice-password-1');
      await alice.follow(page);
      const serverOrigin = await alice.serverOrigin('alice');
      assert.notEqual(serverOrigin, origin, 'her server is at an origin of its own');
      assert.equal((await alice.at(serverOrigin).request('/user/alice/api/contents')).status, 200);

      hub.child.kill('SIGKILL');
      await hub.exited;
      assert.ok(pidAlive(pid), 'the server outlives its hub');

      hub = await startCli(['--port', String(port), '--data-dir', join(dir, 'data'), '--config', config]);
      assert.match(hub.stderr(), /adopted alice's server from a previous run/);
      const model = (await (await api('/users/alice')).json()) as { server: string | null; servers: Record<string, { lectern_sandbox: string | null }> };
      assert.equal(model.server, '/user/alice/');
      assert.equal(model.servers['']?.lectern_sandbox, 'bubblewrap', 'still in its sandbox');
      assert.equal(await alice.serverOrigin('alice'), serverOrigin, 'at the same address as before: her bookmarks keep working');
      await alice.follow(page);
      assert.equal((await alice.at(serverOrigin).request('/user/alice/api/contents')).status, 200, 'her open notebook keeps working');
      assert.equal((await fetch(`${serverOrigin}/user/alice/api/contents`)).status, 403, 'and nobody else gets in');

      hub.child.kill('SIGTERM');
      assert.equal(await hub.exited, 0);
      assert.equal(pidAlive(pid), false);
      // The group was sent SIGKILL; on a loaded machine its last processes take a moment to be reaped.
      const groupLeft = () => execFileSync('ps', ['-e', '-o', 'pgid=']).toString().split('\n').some((line) => Number(line.trim()) === pid);
      await until('no process of the server’s group to be left', async () => !groupLeft());
    } finally {
      hub.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('adopts a running server on restart: same address, same login, nothing to restart; quit then leaves no process', () =>
    adoptionJourney('', '/user/alice/tree'));

  it('adopts a plain `jupyter server` too, and keeps it behind the gate', () =>
    adoptionJourney('spawner: { python: /usr/bin/python3, launchMode: server }\n', '/user/alice/tree'));

  it('does not adopt, or signal, whatever took over a dead server’s port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lectern-decoy-'));
    const config = join(dir, 'lectern.yaml');
    const fake = fakeServer('ok').spawner as { command: string[] };
    await writeFile(
      config,
      [
        `services:\n  - { name: automation, apiToken: ${TOKEN}, admin: true }`,
        `spawner:\n  command: ${JSON.stringify(fake.command)}\n  environment: { FAKE_SERVER_MODE: ok }`,
      ].join('\n'),
    );
    const port = await freeLoopbackPort();
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${port}/hub/api${path}`, { ...init, headers: { Authorization: `token ${TOKEN}` } });
    let hub = await startCli(['--port', String(port), '--data-dir', join(dir, 'data'), '--config', config]);
    const decoy = createServer((_req, res) => res.end('{}'));
    try {
      assert.equal((await api('/users/bob', { method: 'POST' })).status, 201);
      await startServer(api, '/users/bob/server');
      const pid = serverPid(hub.stderr(), 'bob');
      const serverPort = Number(/started server for bob pid=\d+ port=(\d+)/.exec(hub.stderr())?.[1]);
      hub.child.kill('SIGKILL');
      await hub.exited;
      // The server dies, and its sandbox with it: its whole process group.
      process.kill(-pid, 'SIGKILL');
      await until('the server to die', async () => !pidAlive(pid));
      await new Promise<void>((resolve) => decoy.listen(serverPort, '127.0.0.1', resolve));

      hub = await startCli(['--port', String(port), '--data-dir', join(dir, 'data'), '--config', config]);
      assert.match(hub.stderr(), /bob's server from a previous run does not answer as itself/);
      const model = (await (await api('/users/bob')).json()) as { server: string | null };
      assert.equal(model.server, null);
      assert.ok(decoy.listening, 'the process now on that port was left alone');
      await startServer(api, '/users/bob/server');
    } finally {
      hub.child.kill('SIGTERM');
      await hub.exited;
      decoy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
