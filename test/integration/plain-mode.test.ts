/**
 * Plain mode end to end: students' servers are Debian's real `jupyter server` (jupyter_server 1.23)
 * and `jupyter notebook` (the classic Notebook 6.4), which know nothing of the hub. The proxy's gate
 * is all that stands between them and the network: a student gets in after logging in, another
 * student and other sites do not, and the server never sees Lectern's cookies. A small relay,
 * put in front of the real server through the CHP route API, records what reaches the server.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { freeLoopbackPort } from '../../server/spawner/free-port.js';
import type { HttpClient } from '../helpers/http-client.js';
import { runCode } from '../helpers/kernel.js';
import { startAndOpen, startKernel } from '../helpers/student-server.js';
import { ADMIN_TOKEN, startTestHub, type TestHub } from '../helpers/hub.js';
import { until } from '../helpers/wait.js';

const PROXY_API_TOKEN = 'test-proxy-api-token-0123456789';
const EVIL = 'http://evil.example';

interface Relay {
  url: string;
  /** Everything clients sent through the relay, as text. */
  received(): string;
  close(): Promise<void>;
}

/** A TCP relay to `port` that keeps a copy of every byte sent towards it. */
async function startRelay(port: number): Promise<Relay> {
  const chunks: Buffer[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: relayPort } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${relayPort}`,
    received: () => Buffer.concat(chunks).toString('latin1'),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.unref();
      }),
  };
}

/** Opens a kernel websocket and resolves with the handshake's HTTP status (101 when accepted). */
function websocketStatus(client: HttpClient, path: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${client.origin.replace(/^http/, 'ws')}${path}`, { headers: { Cookie: client.cookieHeader(path) }, origin });
    socket.on('open', () => {
      socket.close();
      resolve(101);
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('error', reject);
  });
}

/** Command lines of every process on this machine (Linux), to check what a process list shows. */
async function processCommandLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline) lines.push(cmdline.replaceAll('\0', ' '));
  }
  return lines;
}

describe('plain mode: a real `jupyter server` behind the proxy’s gate', () => {
  let t: TestHub;
  let alice: HttpClient;
  /** Alice's browser at her server's own origin. */
  let aliceServer: HttpClient;
  let relay: Relay | undefined;
  let routeApi = '';

  before(async () => {
    const apiPort = await freeLoopbackPort();
    routeApi = `http://127.0.0.1:${apiPort}/api/routes`;
    t = await startTestHub({
      spawner: { python: '/usr/bin/python3', launchMode: 'server' },
      proxy: { apiPort, apiToken: PROXY_API_TOKEN },
    });
    await t.addUser('alice', 'alice-password-1');
    await t.addUser('bob', 'bob-password-1');
    await t.addUser('teach', 'teacher-password-1', true);
    alice = t.client();
    await alice.logIn('alice', 'alice-password-1');
  });
  after(async () => {
    await relay?.close();
    await t.stop();
  });

  it('starts the server and lets alice in through the hub, with a cookie for her server only', async () => {
    const { hops, server } = await startAndOpen(alice, 'alice');
    aliceServer = server;
    assert.notEqual(server.origin, t.origin, 'her server is at an origin of its own');
    const visited = hops.map((hop) => new URL(hop.url).pathname);
    assert.ok(visited.includes('/hub/user/alice/'), `the gate sent her to the hub for a cookie: ${visited.join(' → ')}`);
    assert.ok(!visited.some((path) => path.includes('oauth')), 'a plain server has no OAuth of its own');
    const cookie = alice.cookies.get('lectern-server');
    assert.ok(cookie, 'the hub issued the server cookie');
    assert.equal(cookie.path, '/user/alice/');
    assert.match(cookie.attributes, /HttpOnly/);
    assert.match(cookie.attributes, /SameSite=Lax/);

    const status = await aliceServer.request('/user/alice/api/status');
    assert.equal(status.status, 200);
    assert.ok('started' in ((await status.json()) as object), 'Jupyter Server answered itself');
  });

  it('lets her run code in a kernel over the websocket', async () => {
    const kernel = await startKernel(aliceServer, '/user/alice/');
    const output = await runCode(aliceServer, `/user/alice/api/kernels/${kernel}/channels`, 'print(6*7)');
    assert.equal(output.trim(), '42');
  });

  it('refuses a cross-origin POST and a cross-origin websocket, even with her cookie', async () => {
    const before = (await (await aliceServer.request('/user/alice/api/kernels')).json()) as unknown[];
    const post = await aliceServer.request('/user/alice/api/kernels', {
      method: 'POST',
      headers: { Origin: EVIL, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'python3' }),
    });
    assert.equal(post.status, 403);
    const afterwards = (await (await aliceServer.request('/user/alice/api/kernels')).json()) as unknown[];
    assert.equal(afterwards.length, before.length, 'no kernel was started');

    const kernel = (before[0] as { id: string }).id;
    assert.equal(await websocketStatus(aliceServer, `/user/alice/api/kernels/${kernel}/channels`, EVIL), 403);
    assert.equal(await websocketStatus(aliceServer, `/user/alice/api/kernels/${kernel}/channels`, aliceServer.origin), 101);
  });

  it('refuses bob, and anyone not logged in', async () => {
    const bob = t.client();
    await bob.logIn('bob', 'bob-password-1');
    assert.equal((await bob.at(aliceServer.origin).request('/user/alice/api/status')).status, 403);
    const { response } = await bob.follow('/user/alice/tree');
    assert.equal(response.status, 404, 'the hub does not let bob into alice’s server (nor say she exists)');
    assert.equal(bob.cookies.get('lectern-server'), undefined);

    const anonymous = t.client();
    assert.equal((await anonymous.at(aliceServer.origin).request('/user/alice/api/status')).status, 403);
    const page = await anonymous.follow('/user/alice/tree');
    assert.match(page.hops.at(-1)?.url ?? '', /\/hub\/login\?next=/, 'a page visit is sent to the login page');
  });

  it('lets an admin open her server, as with jupyterhub-singleuser', async () => {
    const teacher = t.client();
    await teacher.logIn('teach', 'teacher-password-1');
    await teacher.follow('/user/alice/tree');
    assert.equal((await teacher.at(aliceServer.origin).request('/user/alice/api/status')).status, 200);
  });

  it('never passes Lectern’s cookies to the server, only the server’s own token', async () => {
    const routes = (await (await t.api('/proxy')).json()) as Record<string, { target: string }>;
    const target = routes['/user/alice/']?.target;
    assert.ok(target);
    relay = await startRelay(Number(new URL(target).port));
    const moved = await fetch(`${routeApi}/user/alice`, {
      method: 'POST',
      headers: { Authorization: `token ${PROXY_API_TOKEN}` },
      body: JSON.stringify({ target: relay.url }),
    });
    assert.equal(moved.status, 201);

    alice.cookies.set('unrelated', { value: 'kept', path: '/', attributes: '' });
    assert.equal((await aliceServer.request('/user/alice/api/status', { headers: { Authorization: `token ${ADMIN_TOKEN}` } })).status, 200);
    const kernel = await startKernel(aliceServer, '/user/alice/');
    assert.equal((await runCode(aliceServer, `/user/alice/api/kernels/${kernel}/channels`, 'print(1+1)')).trim(), '2');

    const token = (await readFile(join(t.dataDir, 'runtime', 'alice', '_default', 'hub-api-token'), 'utf8')).trim();
    const seen = relay.received();
    assert.match(seen, /GET \/user\/alice\/api\/status/);
    assert.match(seen, /Upgrade: websocket/i, 'the websocket went through the relay too');
    assert.doesNotMatch(seen, /lectern-/, 'no Lectern cookie reached the server');
    assert.ok(!seen.includes(alice.cookies.get('lectern-server')?.value ?? '-'));
    assert.ok(!seen.includes(ADMIN_TOKEN), 'a token the client sent is replaced, not passed on');
    assert.match(seen, /unrelated=kept/, 'other cookies (Jupyter’s own) are passed on');
    const authorizations = seen.match(/^authorization: .*$/gim) ?? [];
    assert.ok(authorizations.length >= 3);
    for (const header of authorizations) assert.equal(header.trim().toLowerCase(), `authorization: token ${token}`.toLowerCase());
  });

  it('keeps the token out of the process list, the server’s log and the hub’s log', async () => {
    const token = (await readFile(join(t.dataDir, 'runtime', 'alice', '_default', 'hub-api-token'), 'utf8')).trim();
    const commandLines = await processCommandLines();
    // Forked from a fork server, a server keeps its command line; launched, it has its own.
    assert.ok(commandLines.some((line) => line.includes('fork-server.py') || line.includes('--ServerApp.base_url=/user/alice/')), 'the server runs');
    assert.ok(commandLines.every((line) => !line.includes(token)));
    const serverLog = await readFile(join(t.dataDir, 'logs', 'alice.log'), 'utf8');
    assert.match(serverLog, /Jupyter Server/);
    assert.ok(!serverLog.includes(token));
    assert.ok(t.logLines.every((line) => !line.includes(token)));
  });

  it('ends her access when she logs out', async () => {
    await alice.request('/hub/logout');
    assert.ok(alice.cookies.get('lectern-server'), 'the browser still holds the server cookie');
    assert.equal((await aliceServer.request('/user/alice/api/status')).status, 403);
  });
});

describe('plain mode: the real classic `jupyter notebook` 6', () => {
  let t: TestHub;

  before(async () => {
    t = await startTestHub({ spawner: { python: '/usr/bin/python3', launchMode: 'notebook' } });
    await t.addUser('carol', 'carol-password-1');
  });
  after(() => t.stop());

  it('serves carol her notebook pages and runs her code, and refuses a cross-origin POST', async () => {
    const carol = t.client();
    await carol.logIn('carol', 'carol-password-1');
    const { response, hops, server } = await startAndOpen(carol, 'carol');
    assert.equal(response.status, 200, hops.map((hop) => `${hop.status} ${hop.url}`).join('\n'));
    assert.match(new URL(hops.at(-1)!.url).pathname, /^\/user\/carol\/tree/);
    assert.match(await response.text(), /Jupyter Notebook/i);

    const kernel = await startKernel(server, '/user/carol/');
    assert.equal((await runCode(server, `/user/carol/api/kernels/${kernel}/channels`, 'print(6*7)')).trim(), '42');
    const post = await server.request('/user/carol/api/contents', {
      method: 'POST',
      headers: { Origin: EVIL, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'notebook' }),
    });
    assert.equal(post.status, 403);
  });

  it('shows her server’s log without the secrets the Notebook writes into it', async () => {
    const carol = t.client();
    await carol.logIn('carol', 'carol-password-1');
    const { server } = await startAndOpen(carol, 'carol');
    const missing = await server.request('/user/carol/no-such-page?token=leaked-query-token', { referer: '/user/carol/tree?token=leaked-referer-token' });
    assert.equal(missing.status, 404);
    // The Notebook writes its log line once the answer has gone: it may reach the file a moment later.
    const log = await until('the Notebook to log the request, its token redacted', async () => {
      const text = await (await t.api('/lectern/users/carol/server/log?lines=200')).text();
      return /404 GET \/user\/carol\/no-such-page\?token=\[secret\]/.test(text) && text;
    });
    assert.ok(!log.includes('leaked-'), log);
  });
});
