import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { createLogger, type Logger } from '../../server/logging/logger.js';
import { Proxy } from '../../server/proxy/proxy.js';
import { RouteTable } from '../../server/proxy/route-table.js';

/** What a target saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A small real single-user-server stand-in: echoes what it received as JSON, and websockets. */
async function startEchoTarget(name: string): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(entry);
      const status = req.url?.includes('/missing') ? 404 : 200;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ name, ...entry }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  return { server, url: await listen(server), seen };
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on: bound, then released. */
async function deadTarget(): Promise<string> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer[]; path?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        // A raw path, so tests can send what URL parsing would rewrite (malformed escapes).
        path: options.path ?? `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (Array.isArray(options.body)) {
      // Written in pieces with pauses, so the target sees a stream rather than one buffer.
      const pieces = [...options.body];
      const writeNext = (): void => {
        const piece = pieces.shift();
        if (piece === undefined) req.end();
        else req.write(piece, () => setTimeout(writeNext, 5));
      };
      writeNext();
    } else {
      req.end(options.body);
    }
  });
}

/** Sends a raw upgrade request and resolves with the first bytes of the answer and when the socket closed. */
function rawUpgrade(proxyUrl: string, path: string): Promise<{ statusLine: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(proxyUrl);
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ statusLine: received.split('\r\n')[0] ?? '', closed: true }));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: lectern.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

function captureLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ level: 'debug', sink: (line) => lines.push(line) }), lines };
}

/** A proxy on a real public listener, wired as the composition root wires it. */
async function startProxy(options: ConstructorParameters<typeof Proxy>[0]): Promise<{ proxy: Proxy; server: Server; url: string }> {
  const proxy = new Proxy(options);
  const server = http.createServer();
  server.on('request', proxy.handleRequest);
  server.on('upgrade', proxy.handleUpgrade);
  return { proxy, server, url: await listen(server) };
}

describe('Proxy', () => {
  let alice: Awaited<ReturnType<typeof startEchoTarget>>;
  let bob: Awaited<ReturnType<typeof startEchoTarget>>;
  const cleanups: Array<() => Promise<void> | void> = [];

  before(async () => {
    alice = await startEchoTarget('alice');
    bob = await startEchoTarget('bob');
  });

  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
    alice.seen.length = 0;
    bob.seen.length = 0;
  });

  after(async () => {
    await stop(alice.server);
    await stop(bob.server);
  });

  async function proxyWith(
    routes: Array<[string, string]>,
    extra: Partial<ConstructorParameters<typeof Proxy>[0]> = {},
  ): Promise<{ proxy: Proxy; url: string; lines: string[]; table: RouteTable }> {
    const table = new RouteTable();
    for (const [prefix, target] of routes) table.add(prefix, target);
    const { log, lines } = captureLogger();
    const { proxy, server, url } = await startProxy({ log, routes: table, ...extra });
    cleanups.push(async () => {
      proxy.close();
      await stop(server);
    });
    return { proxy, url, lines, table };
  }

  it('forwards the full path and query, keeps Host and adds X-Forwarded-*', async () => {
    const { url } = await proxyWith([['/user/alice', alice.url]]);
    const answer = await request(`${url}/user/alice/api/contents/a%20b.ipynb?token=secret&x=1`, {
      headers: { Host: 'class.example:8000', 'X-Forwarded-For': '10.0.0.9' },
    });
    assert.equal(answer.status, 200);
    const seen = JSON.parse(answer.body) as Seen & { name: string };
    assert.equal(seen.name, 'alice');
    assert.equal(seen.url, '/user/alice/api/contents/a%20b.ipynb?token=secret&x=1');
    assert.equal(seen.headers.host, 'class.example:8000');
    assert.equal(seen.headers['x-forwarded-for'], '10.0.0.9,127.0.0.1');
    assert.equal(seen.headers['x-forwarded-port'], '8000');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
  });

  it('dispatches by longest whole-segment prefix', async () => {
    const { url } = await proxyWith([
      ['/user', bob.url],
      ['/user/alice', alice.url],
    ]);
    const name = async (path: string): Promise<string> =>
      (JSON.parse((await request(`${url}${path}`)).body) as { name: string }).name;
    assert.equal(await name('/user/alice/lab'), 'alice');
    assert.equal(await name('/user/alice'), 'alice');
    assert.equal(await name('/user/alicebob/lab'), 'bob');
    // Dot segments resolve before routing, and the target gets the same resolved path.
    assert.equal(await name('/user/bob/../alice/tree'), 'alice');
    assert.equal(alice.seen.at(-1)?.url, '/user/alice/tree');
  });

  it('hands requests without a route to the fallback', async () => {
    const calls: string[] = [];
    const fallback = (req: IncomingMessage, res: ServerResponse): void => {
      calls.push(req.url ?? '');
      res.end('hub here');
    };
    const { url } = await proxyWith([['/user/alice', alice.url]], { fallback });
    const answer = await request(`${url}/hub/home?next=%2Fuser`);
    assert.equal(answer.body, 'hub here');
    assert.deepEqual(calls, ['/hub/home?next=%2Fuser']);
    assert.equal(alice.seen.length, 0);
  });

  it('answers 404 without a fallback, as HTML or JSON', async () => {
    const { url } = await proxyWith([['/user/alice', alice.url]], { homeUrl: '/hub/start?x=<y>' });
    const page = await request(`${url}/nowhere`, { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(page.status, 404);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.match(page.body, /<meta name="viewport"/);
    assert.match(page.body, /<a href="\/hub\/start\?x=&lt;y&gt;">Go to your home page<\/a>/);
    const json = await request(`${url}/nowhere`, { headers: { Accept: 'application/json' } });
    assert.equal(json.status, 404);
    assert.equal(json.headers['content-type'], 'application/json');
    assert.equal((JSON.parse(json.body) as { status: number }).status, 404);
    const head = await request(`${url}/nowhere`, { method: 'HEAD' });
    assert.equal(head.status, 404);
    assert.equal(head.body, '');
  });

  it('streams a POST body through to the target', async () => {
    const { url } = await proxyWith([['/user/alice', alice.url]]);
    const pieces = ['{"cells":', '[1,2,3]', ',"done":true}'];
    const answer = await request(`${url}/user/alice/api/contents/x`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      body: pieces.map((piece) => Buffer.from(piece)),
    });
    assert.equal(answer.status, 200);
    const seen = JSON.parse(answer.body) as Seen;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.body, pieces.join(''));
    assert.equal(seen.headers['transfer-encoding'], 'chunked');
  });

  it('moves lastActivity on a 200 but not on a 404 from the target', async () => {
    const { url, table } = await proxyWith([['/user/alice', alice.url]]);
    const route = table.get('/user/alice');
    assert.ok(route);
    route.lastActivity = 0;
    assert.equal((await request(`${url}/user/alice/missing`)).status, 404);
    assert.equal(route.lastActivity, 0);
    const before = Date.now();
    assert.equal((await request(`${url}/user/alice/lab`)).status, 200);
    assert.ok(route.lastActivity >= before);
  });

  it('proxies websockets and moves lastActivity on client frames', async () => {
    const { url, table } = await proxyWith([['/user/alice', alice.url]]);
    const route = table.get('/user/alice');
    assert.ok(route);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/user/alice/api/kernels/k1/channels?token=t`);
    await once(ws, 'open');
    // Opening the connection is not activity; only what the client sends is.
    route.lastActivity = 0;
    const echoed = once(ws, 'message');
    ws.send('hello kernel');
    const [data] = (await echoed) as [Buffer];
    assert.equal(data.toString(), 'hello kernel');
    assert.ok(route.lastActivity > 0);
    ws.close();
    await once(ws, 'close');
  });

  it('loses no websocket frames sent right after the connection opens', async () => {
    const { url } = await proxyWith([['/user/alice', alice.url]]);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/user/alice/api/kernels/k1/channels`);
    const received: string[] = [];
    const allEchoed = new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer) => {
        received.push(data.toString());
        if (received.length === 20) resolve();
      });
    });
    await once(ws, 'open');
    for (let i = 0; i < 20; i++) ws.send(`frame ${i}`);
    await allEchoed;
    assert.deepEqual(received, Array.from({ length: 20 }, (_, i) => `frame ${i}`));
    ws.close();
    await once(ws, 'close');
  });

  it('forwards a frame sent in the same packet as the upgrade request', { timeout: 5000 }, async () => {
    const { url, table } = await proxyWith([['/user/alice', alice.url]]);
    const route = table.get('/user/alice');
    assert.ok(route);
    route.lastActivity = 0;
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    let received = Buffer.alloc(0);
    const echoed = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.includes('early bird')) resolve();
      });
    });
    socket.write(
      Buffer.concat([
        Buffer.from(
          'GET /user/alice/api/kernels/k/channels HTTP/1.1\r\nHost: lectern.test\r\nConnection: Upgrade\r\n' +
            'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        ),
        maskedTextFrame('early bird'),
      ]),
    );
    await echoed;
    assert.match(received.toString('latin1'), /^HTTP\/1\.1 101 /);
    assert.ok(route.lastActivity > 0);
  });

  it('answers a websocket without a route with a 404 status line and closes it', async () => {
    const { url } = await proxyWith([['/user/alice', alice.url]]);
    const { statusLine, closed } = await rawUpgrade(url, '/user/nobody/api/kernels/k/channels');
    assert.equal(statusLine, 'HTTP/1.1 404 Not Found');
    assert.ok(closed);
  });

  describe('when the target is not running', () => {
    it('answers 503 HTML to browsers and logs one line without the query', async () => {
      const { url, lines } = await proxyWith([['/user/alice', await deadTarget()]]);
      const answer = await request(`${url}/user/alice/lab?token=secret`, {
        headers: { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
      });
      assert.equal(answer.status, 503);
      assert.match(String(answer.headers['content-type']), /^text\/html/);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.match(answer.body, /Your server is not running\. It may be starting, or it may have stopped\./);
      const errors = lines.filter((line) => line.includes('proxy error'));
      assert.equal(errors.length, 1);
      assert.match(errors[0] ?? '', /^\[W .*\] proxy error: ECONNREFUSED for \/user\/alice\/lab$/);
      assert.ok(!lines.some((line) => line.includes('secret')));
    });

    it('answers 503 JSON to API clients, by Accept or by an api path segment', async () => {
      const { url } = await proxyWith([['/user/alice', await deadTarget()]]);
      for (const [path, accept] of [
        ['/user/alice/lab', 'application/json, text/plain, */*'],
        ['/user/alice/api/kernels', '*/*'],
      ] as const) {
        const answer = await request(`${url}${path}`, { headers: { Accept: accept } });
        assert.equal(answer.status, 503, path);
        assert.equal(answer.headers['content-type'], 'application/json', path);
        assert.deepEqual(JSON.parse(answer.body), {
          status: 503,
          message: 'Your server is not running. It may be starting, or it may have stopped.',
        });
      }
    });

    it('uses the given error page renderer for browsers', async () => {
      const rendered: Array<[number, string]> = [];
      const { url } = await proxyWith([['/user/alice', await deadTarget()]], {
        renderErrorPage: (status, message) => {
          rendered.push([status, message]);
          return `<p>hub page ${status}</p>`;
        },
      });
      const answer = await request(`${url}/user/alice/lab`);
      assert.equal(answer.status, 503);
      assert.equal(answer.body, '<p>hub page 503</p>');
      assert.equal(rendered[0]?.[0], 503);
    });

    it('answers a websocket with a 503 status line and closes it', async () => {
      const { url } = await proxyWith([['/user/alice', await deadTarget()]]);
      const { statusLine, closed } = await rawUpgrade(url, '/user/alice/api/kernels/k/channels');
      assert.equal(statusLine, 'HTTP/1.1 503 Service Unavailable');
      assert.ok(closed);
    });

    it('gives a ws client an error naming the 503 rather than a hang', async () => {
      const { url } = await proxyWith([['/user/alice', await deadTarget()]]);
      const ws = new WebSocket(`${url.replace('http', 'ws')}/user/alice/api/kernels/k/channels`);
      const [error] = (await once(ws, 'error')) as [Error];
      assert.match(error.message, /Unexpected server response: 503/);
    });
  });

  it('answers a malformed escape with 400 and keeps serving', async () => {
    const { url } = await proxyWith([['/user/alice', alice.url]]);
    const bad = await request(url, { path: '/user/%E0%A4%A', headers: { Accept: 'application/json' } });
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.body) as { status: number }).status, 400);
    const upgrade = await rawUpgrade(url, '/user/%E0%A4%A');
    assert.equal(upgrade.statusLine, 'HTTP/1.1 400 Bad Request');
    assert.equal((await request(`${url}/user/alice/lab`)).status, 200);
  });

  it('answers 503 when the target hangs up before sending headers', async () => {
    const hangUp = net.createServer((socket) => socket.once('data', () => socket.destroy()));
    hangUp.listen(0, '127.0.0.1');
    await once(hangUp, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => hangUp.close(() => resolve())));
    const { url, lines } = await proxyWith([['/user/alice', `http://127.0.0.1:${(hangUp.address() as AddressInfo).port}`]]);
    const answer = await request(`${url}/user/alice/lab`, { headers: { Accept: 'application/json' } });
    assert.equal(answer.status, 503);
    assert.ok(lines.some((line) => / proxy error: ECONNRESET for \/user\/alice\/lab$/.test(line)));
  });

  it('ends the client connection when the target closes it mid-response', { timeout: 5000 }, async () => {
    const cutter = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000' });
      res.write('only part of it');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const cutterUrl = await listen(cutter);
    cleanups.push(() => stop(cutter));
    const { url, lines } = await proxyWith([['/user/alice', cutterUrl]]);
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get(`${url}/user/alice/big`, { agent: false }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve('ended'));
        res.on('error', () => resolve('error'));
        res.on('aborted', () => resolve('aborted'));
        res.on('close', () => resolve('closed'));
      });
      req.on('error', () => resolve('error'));
    });
    assert.notEqual(outcome, 'ended', 'a truncated body must not look complete');
    assert.ok(lines.some((line) => line.includes('proxy error: response cut short for /user/alice/big')));
  });

  it('counts responses by status, upstream errors and open websockets', async () => {
    const dead = await deadTarget();
    const { proxy, url } = await proxyWith([
      ['/user/alice', alice.url],
      ['/user/dead', dead],
    ]);
    assert.equal((await request(`${url}/user/alice/lab`)).status, 200);
    assert.equal((await request(`${url}/user/alice/missing`)).status, 404);
    assert.equal((await request(`${url}/nowhere`)).status, 404);
    assert.equal((await request(`${url}/user/dead/lab`)).status, 503);
    assert.deepEqual([...proxy.stats.requests].sort(([a], [b]) => a - b), [
      [200, 1],
      [404, 2],
      [503, 1],
    ]);
    assert.equal(proxy.stats.upstreamErrors, 1);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/user/alice/ws`);
    await once(ws, 'open');
    assert.equal(proxy.stats.activeWebsockets, 1);
    ws.close();
    await once(ws, 'close');
    const deadline = Date.now() + 2000;
    while (proxy.stats.activeWebsockets > 0 && Date.now() < deadline) await delay(10);
    assert.equal(proxy.stats.activeWebsockets, 0);
    assert.equal(proxy.stats.websocketsOpened, 1);
  });

  it('sends a request again when the target closed the pooled connection it was sent on', async () => {
    // A target that answers the first request on each connection with keep-alive, then drops the
    // connection when a second one arrives on it: the race of a keep-alive pool with a server's
    // idle timeout, made certain.
    let connections = 0;
    const fickle = net.createServer((socket) => {
      connections++;
      let requests = 0;
      socket.on('data', () => {
        requests++;
        if (requests === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
        else socket.destroy();
      });
      socket.on('error', () => undefined);
    });
    fickle.listen(0, '127.0.0.1');
    await once(fickle, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => fickle.close(() => resolve())));
    const { url, proxy } = await proxyWith([['/user/fickle', `http://127.0.0.1:${(fickle.address() as AddressInfo).port}`]]);
    assert.equal((await request(`${url}/user/fickle/a`)).body, 'ok');
    assert.equal((await request(`${url}/user/fickle/b`)).body, 'ok');
    assert.equal(connections, 2);
    assert.equal(proxy.stats.upstreamErrors, 0);
    // A POST is not sent twice: its body may already have been acted on.
    const post = await request(`${url}/user/fickle/c`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 503);
  });

  it('relays a target’s early answer and keeps the client’s upload going when the target hangs up after it', { timeout: 10000 }, async () => {
    // The target answers before reading the body, then drops the connection while the upload is
    // still coming: the answer stands, and the rest of the upload is read and dropped.
    const refusing = http.createServer((req, res) => {
      res.writeHead(413, { 'Content-Type': 'text/plain' });
      res.end('too big');
      setTimeout(() => req.socket.destroy(), 100);
    });
    const refusingUrl = await listen(refusing);
    cleanups.push(() => stop(refusing));
    const { url, proxy } = await proxyWith([['/user/alice', refusingUrl]]);
    const outcome = await new Promise<{ status: number; body: string; uploadError: string | undefined }>((resolve, reject) => {
      let uploadError: string | undefined;
      let answer: { status: number; body: string } | undefined;
      const req = http.request(`${url}/user/alice/api/contents/big`, { method: 'PUT', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (answer = { status: res.statusCode ?? 0, body }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => (uploadError = error.code ?? error.message));
      // Node's client lets go of its socket once the answer has ended, so on a busy machine the
      // rest of the upload may never be flushed: the request closing is the end either way.
      req.on('close', () => (answer ? resolve({ ...answer, uploadError }) : reject(new Error('no answer'))));
      let left = 40;
      const writeNext = (): void => {
        if (left-- === 0) {
          req.end();
          return;
        }
        if (!req.destroyed) req.write(Buffer.alloc(16 * 1024, 'u'), () => setTimeout(writeNext, 10));
      };
      writeNext();
    });
    assert.deepEqual(outcome, { status: 413, body: 'too big', uploadError: undefined });
    assert.equal(proxy.stats.upstreamErrors, 0);
  });

  it('closes the client side of a websocket when the target goes away', { timeout: 5000 }, async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const { url } = await proxyWith([['/user/gone', `http://127.0.0.1:${(wss.address() as AddressInfo).port}`]]);
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const ws = new WebSocket(`${url.replace('http', 'ws')}/user/gone/ws`);
    await once(ws, 'open');
    (await serverSide).terminate();
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, 1006, 'the connection dropped, no close frame');
  });

  it('gives up on a silent target after proxyTimeout: 503 before its headers', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => undefined));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    cleanups.push(() => {
      silent.close();
    });
    const target = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const { url, lines } = await proxyWith([['/user/silent', target]], { proxyTimeout: 200 });
    const answer = await request(`${url}/user/silent/lab`, { headers: { Accept: 'application/json' } });
    assert.equal(answer.status, 503);
    assert.match((JSON.parse(answer.body) as { message: string }).message, /did not answer in time/);
    assert.ok(lines.some((line) => / proxy error: ETIMEDOUT for \/user\/silent\/lab$/.test(line)));
    const upgrade = await rawUpgrade(url, '/user/silent/ws');
    assert.equal(upgrade.statusLine, 'HTTP/1.1 503 Service Unavailable');
    silent.close();
  });

  it('close() drops websockets and pooled connections, and is idempotent', async () => {
    // A target of its own, so no other test's connections are counted.
    const carol = await startEchoTarget('carol');
    cleanups.push(() => stop(carol.server));
    const { proxy, url } = await proxyWith([['/user/carol', carol.url]]);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/user/carol/api/kernels/k/channels`);
    await once(ws, 'open');
    // After the websocket, so the pool cannot hand this connection over to the upgrade. http-proxy-3
    // forwards the client's Connection header, so only a keep-alive request leaves it pooled.
    assert.equal((await request(`${url}/user/carol/lab`, { headers: { Connection: 'keep-alive' } })).status, 200);
    assert.equal(await connectionsOf(carol.server), 2, 'the websocket and a pooled connection');
    const closed = once(ws, 'close');
    proxy.close();
    proxy.close();
    await closed;
    const deadline = Date.now() + 2000;
    while ((await connectionsOf(carol.server)) > 0 && Date.now() < deadline) await delay(10);
    assert.equal(await connectionsOf(carol.server), 0);
  });
});

function connectionsOf(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

/** A client-to-server websocket text frame (clients must mask theirs). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
