/**
 * A class cannot lock the teacher out by running the hub out of file descriptors. Under
 * `ulimit -n 256`, 100 websockets and 300 keep-alive connections hammering a student's server
 * through the proxy would take every descriptor; the hub keeps some back, so the teacher still logs
 * in and stops servers, the hub's log says what is happening and how to raise the limit, and once
 * the clients are gone the hub holds no more descriptors than before.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { startCli } from '../helpers/cli.js';
import { HttpClient } from '../helpers/http-client.js';
import { projectRoot } from '../helpers/hub.js';
import { sleep, until } from '../helpers/wait.js';
import { startServer } from '../helpers/student-server.js';

const TOKEN = 'descriptor-limit-service-token-0123456789';
const openDescriptors = async (pid: number) => (await readdir(`/proc/${pid}/fd`)).length;


/** Opens a websocket; resolves with it, or with the status the proxy refused it with (0: reset). */
function openWebsocket(url: string): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers: { Authorization: `token ${TOKEN}` } });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', () => resolve(0));
  });
}

describe('under a low file-descriptor limit', () => {
  it('lets the teacher log in and stop servers while students saturate the proxy, and leaks nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lectern-fd-limit-'));
    const config = join(dir, 'lectern.yaml');
    const fake = JSON.stringify([process.execPath, join(projectRoot(), 'test/fixtures/servers/fake-server.mjs')]);
    await writeFile(
      config,
      `services:\n  - { name: automation, apiToken: ${TOKEN}, admin: true }\nculler: { enabled: false }\n` +
        `spawner: { command: ${fake}, environment: { FAKE_SERVER_MODE: ok } }\n`,
    );
    const hub = await startCli(['--config', config, '--data-dir', join(dir, 'data')], { fileLimit: 256 });
    const pid = hub.child.pid as number;
    const api = (path: string, init: RequestInit = {}) => fetch(`${hub.origin}/hub/api${path}`, { ...init, headers: { Authorization: `token ${TOKEN}` } });
    const sockets: WebSocket[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: 300 });
    let hammering = true;
    try {
      assert.equal((await api('/users/teach', { method: 'POST', body: '{"password":"teacher-password-1","admin":true}' })).status, 201);
      assert.equal((await api('/users/stu', { method: 'POST' })).status, 201);
      await startServer(api, '/users/stu/server');
      const serverOrigin = await new HttpClient(hub.origin).serverOrigin('stu');
      const before = await openDescriptors(pid);

      // 100 websockets, as many open notebooks; those beyond the hub's cap are refused: with a 503
      // beyond the websockets' cap, or their connection closed at once beyond the connections' cap
      // (which comes first depends on how fast the hub takes the connections in).
      const opened = await Promise.all(
        Array.from({ length: 100 }, () => openWebsocket(`${serverOrigin.replace(/^http/, 'ws')}/user/stu/api/kernels/k1/channels`)),
      );
      for (const outcome of opened) if (typeof outcome !== 'number') sockets.push(outcome);
      const refused = opened.filter((outcome) => typeof outcome === 'number');
      assert.ok(sockets.length > 0, 'websockets open up to the cap');
      assert.ok(refused.length > 0 && refused.every((status) => status === 503 || status === 0), `the rest are refused: ${refused.join(', ')}`);

      // 300 keep-alive connections asking again and again, each as soon as its last answer came.
      const answers = { ok: 0, failed: 0 };
      const client = async () => {
        while (hammering) {
          const ok = await new Promise<boolean>((resolve) => {
            const request = get(`${serverOrigin}/user/stu/api/status`, { agent, headers: { Authorization: `token ${TOKEN}` } }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode === 200));
            });
            request.on('error', () => resolve(false));
          });
          answers[ok ? 'ok' : 'failed']++;
          if (!ok) await sleep(50);
        }
      };
      const clients = Array.from({ length: 300 }, () => client());
      await until('the proxy to be saturated', async () => answers.ok + answers.failed > 600);

      // The teacher logs in and stops the student's server meanwhile.
      const teacher = new HttpClient(hub.origin);
      const login = await teacher.logIn('teach', 'teacher-password-1');
      // Should it fail, what the hub said about it.
      const hubErrors = () => hub.stderr().split('\n').filter((line) => /^\[E |^ {4}/.test(line)).slice(-30).join('\n');
      assert.equal(login.status, 302, `the teacher logs in. The hub's errors:\n${hubErrors()}`);
      assert.ok(teacher.cookie('lectern-session') ?? teacher.cookie('jupyterhub-hub-login'), 'with a session');
      assert.equal((await api('/users/stu/server', { method: 'DELETE' })).status, 204, 'and stops the student’s server');
      assert.ok(answers.ok > 0, 'students were served too');

      hammering = false;
      await Promise.all(clients);
      agent.destroy();
      for (const socket of sockets) socket.terminate();
      assert.match(hub.stdout() + hub.stderr(), /^\[W .*may open 256 files.*ulimit -n/m);
      await until('the hub to hold no more descriptors than before', async () => (await openDescriptors(pid)) <= before);
    } finally {
      hammering = false;
      agent.destroy();
      for (const socket of sockets) socket.terminate();
      hub.child.kill('SIGTERM');
      await hub.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
