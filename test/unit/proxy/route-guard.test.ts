// The proxy's guard hook, against a real loopback target: what the guard decides is what the client
// gets, and header rewrites reach the target over plain HTTP and websockets alike.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingHttpHeaders, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { createLogger } from '../../../server/logging/logger.js';
import { type GuardVerdict, Proxy, rewriteRequestHeaders, type RouteGuard } from '../../../server/proxy/proxy.js';
import { RouteTable } from '../../../server/proxy/route-table.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A request with headers exactly as given, repeated names included (a header object would merge them). */
function request(port: number, path: string, method: string, rawHeaders: string[] = []): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // Node adds no Host to a header list, and an HTTP/1.1 server refuses a request without one.
    const headers = ['Host', 'lectern.test', ...rawHeaders];
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The status line a websocket handshake gets, read off a raw socket. */
function upgradeStatus(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received.split('\r\n')[0] ?? ''));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: lectern.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

describe('Proxy guard', () => {
  let target: Server;
  let targetPort: number;
  /** The headers of every request and websocket handshake the target received. */
  const seen: IncomingHttpHeaders[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  before(async () => {
    target = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('from the target');
    });
    const websockets = new WebSocketServer({ server: target });
    websockets.on('connection', (socket, req) => {
      seen.push(req.headers);
      socket.on('message', (data) => socket.send(data));
    });
    targetPort = await listen(target);
  });

  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
    seen.length = 0;
  });

  after(() => stop(target));

  /** A proxy routing `/user/alice` to the target, behind `guard`, and what the guard was asked. */
  async function guardedProxy(guard: RouteGuard): Promise<{ proxy: Proxy; port: number; asked: string[] }> {
    const routes = new RouteTable();
    routes.add('/user/alice', `http://127.0.0.1:${targetPort}`);
    const asked: string[] = [];
    const proxy = new Proxy({
      log: createLogger({ level: 'error', sink: () => undefined }),
      routes,
      guard: (req, route) => {
        asked.push(`${req.url ?? ''} ${route.prefix}`);
        return guard(req, route);
      },
    });
    const server = http.createServer();
    server.on('request', proxy.handleRequest);
    server.on('upgrade', proxy.handleUpgrade);
    const port = await listen(server);
    cleanups.push(async () => {
      proxy.close();
      await stop(server);
    });
    return { proxy, port, asked };
  }

  const swapCredentials: RouteGuard = (req) => {
    rewriteRequestHeaders(req, { authorization: 'token server-secret', cookie: undefined });
    return { forward: true };
  };

  it('forwards with the headers the guard rewrote, every client copy replaced', async () => {
    const { port, asked } = await guardedProxy(swapCredentials);
    const answer = await request(port, '/user/alice/lab?x=1', 'GET', [
      'Authorization', 'token client-token',
      'authorization', 'token second-copy',
      'Cookie', 'lectern-session=abc',
      'X-Other', 'kept',
    ]);
    assert.deepEqual([answer.status, answer.body], [200, 'from the target']);
    assert.deepEqual(asked, ['/user/alice/lab?x=1 /user/alice']);
    assert.equal(seen[0]?.authorization, 'token server-secret');
    assert.equal(seen[0]?.cookie, undefined);
    assert.equal(seen[0]?.['x-other'], 'kept');
  });

  it('forwards a websocket with the rewritten headers, asked before the path is rewritten', async () => {
    const { port, asked } = await guardedProxy(swapCredentials);
    const socket = new WebSocket(`ws://127.0.0.1:${port}/user/alice/api/kernels/k1/channels`, {
      headers: { Authorization: 'token client-token', Cookie: 'lectern-session=abc' },
    });
    await once(socket, 'open');
    socket.send('ping');
    const [reply] = (await once(socket, 'message')) as [Buffer];
    assert.equal(reply.toString(), 'ping');
    socket.close();
    assert.deepEqual(asked, ['/user/alice/api/kernels/k1/channels /user/alice']);
    assert.equal(seen[0]?.authorization, 'token server-secret');
    assert.equal(seen[0]?.cookie, undefined);
  });

  it('answers a redirect verdict with Location, no-store and an empty body, and counts it', async () => {
    const { proxy, port } = await guardedProxy(() => ({ forward: false, status: 302, message: 'Log in.', location: '/hub/user/alice/lab' }));
    const answer = await request(port, '/user/alice/lab', 'GET');
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.location, '/hub/user/alice/lab');
    assert.equal(answer.headers['cache-control'], 'no-store');
    assert.equal(answer.body, '');
    assert.equal(seen.length, 0, 'the target saw nothing');
    assert.equal(proxy.stats.requests.get(302), 1);
  });

  it('answers a refusal as the proxy answers its own errors, and a websocket with a bare status', async () => {
    const refuse: RouteGuard = (): GuardVerdict => ({ forward: false, status: 403, message: 'Not from there.' });
    const { proxy, port } = await guardedProxy(refuse);
    const answer = await request(port, '/user/alice/api/contents', 'POST', ['Accept', 'application/json']);
    assert.equal(answer.status, 403);
    assert.match(answer.body, /Not from there\./);
    assert.equal(await upgradeStatus(port, '/user/alice/api/kernels/k1/channels'), 'HTTP/1.1 403 Forbidden');
    assert.equal(seen.length, 0, 'the target saw nothing');
    assert.equal(proxy.stats.requests.get(403), 2);
  });

  it('refuses with a 500 when the guard throws, rather than forwarding or crashing', async () => {
    const { port } = await guardedProxy(() => {
      throw new Error('database closed');
    });
    assert.equal((await request(port, '/user/alice/lab', 'GET')).status, 500);
    assert.equal(await upgradeStatus(port, '/user/alice/api/kernels/k1/channels'), 'HTTP/1.1 500 Internal Server Error');
    assert.equal(seen.length, 0);
  });

  it('is not asked about requests that match no route', async () => {
    const { port, asked } = await guardedProxy(() => ({ forward: false, status: 403, message: 'No.' }));
    assert.equal((await request(port, '/hub/home', 'GET')).status, 404);
    assert.deepEqual(asked, []);
  });
});
