/**
 * `lectern proxy` as a black box against configurable-http-proxy 5.3's behaviour
 * (`reference/configurable-http-proxy.md`): the cases of CHP's own test suite (api_spec, cli_spec,
 * proxy_spec and the trie rules they rely on) and the behaviour that spec records from running CHP,
 * over HTTP and websockets, through CHP's command line and REST API only.
 *
 * Each proxy is a separate process on free loopback ports, as JupyterHub runs it. Tests named
 * "deviation: …" check where Lectern is deliberately better than CHP (and say what CHP does);
 * `LECTERN_PROXY_UNDER_TEST=chp` runs everything else against the real CHP, which is how these
 * expectations were checked, and skips the deviations.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import { freePorts, proxyUnderTest, startProxyProcess, type ProxyProcess, type ProxyProcessOptions } from '../helpers/proxy-process.js';

const UNDER_TEST = proxyUnderTest();
const IS_CHP = UNDER_TEST.name === 'configurable-http-proxy';
/** For tests of Lectern's deliberate deviations from CHP. */
const deviation = { skip: IS_CHP ? 'a deliberate deviation from CHP' : false };

/** What the echo target saw of one request. */
interface Echo {
  target: string;
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** CHP's test backend: echoes each request as JSON; websockets say "connected" and echo. */
class EchoTarget {
  readonly server: Server;
  url = '';
  constructor(
    readonly name: string,
    tls?: https.ServerOptions,
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    const wss = new WebSocketServer({ server: this.server });
    wss.on('connection', (ws, req) => {
      ws.on('error', () => undefined);
      ws.send('connected');
      ws.on('message', (data) => ws.send(JSON.stringify({ target: name, url: req.url, headers: req.headers, message: data.toString() })));
    });
  }

  async start(scheme = 'http'): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `${scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (url.includes('/status/')) {
      res.writeHead(Number(/\/status\/(\d+)/.exec(url)?.[1] ?? 200), { 'Content-Type': 'text/plain' });
      req.resume();
      req.on('end', () => res.end('status'));
      return;
    }
    if (url.includes('/redirect')) {
      res.writeHead(301, { Location: new URL(url, 'http://x').searchParams.get('to') ?? '/' });
      res.end();
      return;
    }
    if (url.includes('/slow-headers')) {
      setTimeout(() => res.end('late'), 3_000).unref();
      return;
    }
    if (url.includes('/stall-body')) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '100' });
      res.write('the beginning');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const echo: Echo = { target: this.name, url, method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(echo));
    });
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path and headers go out exactly as written (no client-side normalising). */
function request(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent; ca?: Buffer } = {},
): Promise<Answer> {
  const url = new URL(base);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
        ca: options.ca,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function echoOf(answer: Answer): Echo {
  assert.equal(answer.status, 200, `expected the target's echo, got ${answer.status}: ${answer.body.slice(0, 200)}`);
  return JSON.parse(answer.body) as Echo;
}

/** Sends a raw upgrade request; resolves with the first line of the answer once the socket closed. */
function rawUpgrade(base: string, path: string, extra = ''): Promise<{ statusLine: string; received: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ statusLine: received.split('\r\n')[0] ?? '', received }));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`,
    );
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}

/** Opens a websocket, waits for the target's "connected", sends `message` and returns the echo. */
async function websocketEcho(url: string, message: string, headers?: Record<string, string>): Promise<Echo & { message: string }> {
  const ws = new WebSocket(url, { headers });
  try {
    const messages: string[] = [];
    const next = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const take = (): void => {
          const first = messages.shift();
          if (first !== undefined) resolve(first);
          else ws.once('message', () => take());
        };
        ws.once('error', reject);
        take();
      });
    ws.on('message', (data: Buffer) => messages.push(data.toString()));
    await once(ws, 'open');
    assert.equal(await next(), 'connected');
    ws.send(message);
    return JSON.parse(await next()) as Echo & { message: string };
  } finally {
    ws.terminate();
  }
}

/** The route table, from the API. */
async function routesOf(proxy: ProxyProcess): Promise<Record<string, Record<string, unknown> & { target: string; last_activity: string }>> {
  const response = await proxy.api('/api/routes');
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, Record<string, unknown> & { target: string; last_activity: string }>;
}

async function lastActivity(proxy: ProxyProcess, key: string): Promise<number> {
  const route = (await routesOf(proxy))[key];
  assert.ok(route, `route ${key} exists`);
  return Date.parse(route.last_activity);
}

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const [port] = await freePorts();
  return port;
}

/** Runs the proxy command with these arguments and no readiness wait (for start-up failures). */
function runCommand(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const [executable, ...leading] = UNDER_TEST.argv;
  const child = spawn(executable, [...leading, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  // 'close', not 'exit': on a busy machine 'exit' can come before the last of stdout and stderr.
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function exitWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timer = sleep(ms).then(() => {
    throw new Error(`${what} did not happen within ${ms} ms`);
  });
  return Promise.race([promise, timer]);
}

describe(`${UNDER_TEST.name} conforms to configurable-http-proxy 5.3`, { timeout: 120_000 }, () => {
  const cleanups: Array<() => unknown> = [];
  let backend: EchoTarget;
  let other: EchoTarget;
  let proxy: ProxyProcess;
  let certDir: string;
  let cert: Buffer;
  let key: Buffer;

  /** Starts a proxy with the default route to the echo target, plus these options. */
  async function startProxy(extraArgs: string[] = [], options: Partial<ProxyProcessOptions> = {}): Promise<ProxyProcess> {
    const started = await startProxyProcess({ command: UNDER_TEST, defaultTarget: backend.url, logLevel: 'info', extraArgs, ...options });
    cleanups.push(() => started.stop());
    return started;
  }

  before(async () => {
    backend = await new EchoTarget('default').start();
    other = await new EchoTarget('other').start();
    cleanups.push(() => backend.stop(), () => other.stop());
    certDir = mkdtempSync(join(tmpdir(), 'lectern-proxy-tls-'));
    cleanups.push(() => rmSync(certDir, { recursive: true, force: true }));
    // One self-signed certificate serves as server certificate, client certificate and CA.
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
    ], { stdio: 'ignore' });
    cert = readFileSync(join(certDir, 'cert.pem'));
    key = readFileSync(join(certDir, 'key.pem'));
    proxy = await startProxy();
  });

  after(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });

  describe('REST API (api_spec)', () => {
    it('GET /api/routes lists the table, the default route / included', async () => {
      const routes = await routesOf(proxy);
      assert.equal(routes['/']?.target, backend.url);
      assert.match(routes['/']?.last_activity ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it('POST /api/routes/<path> creates a route that stores the whole body, and GET returns it', async () => {
      const response = await proxy.api('/api/routes/user/foo', { method: 'POST', body: JSON.stringify({ target: other.url, user: 'foo', jupyterhub: true, nested: { a: 1 } }) });
      assert.equal(response.status, 201);
      assert.equal(await response.text(), '');
      const route = (await (await proxy.api('/api/routes/user/foo')).json()) as Record<string, unknown>;
      assert.deepEqual({ ...route, last_activity: undefined }, { target: other.url, user: 'foo', jupyterhub: true, nested: { a: 1 }, last_activity: undefined });
      assert.equal(echoOf(await request(proxy.url, '/user/foo/tree')).target, 'other');
      await proxy.api('/api/routes/user/foo', { method: 'DELETE' });
    });

    it('GET /api/routes/<path> of a missing route is a 404 with an empty body', async () => {
      const response = await proxy.api('/api/routes/path');
      assert.equal(response.status, 404);
      assert.equal(await response.text(), '');
    });

    it('POST /api/routes/<path> handles URI escapes: keys are stored decoded and route matching requests', async () => {
      assert.equal((await proxy.api('/api/routes/user/foo%40bar', { method: 'POST', body: JSON.stringify({ target: other.url }) })).status, 201);
      assert.ok((await routesOf(proxy))['/user/foo@bar']);
      const echo = echoOf(await request(proxy.url, '/user/foo@bar/path'));
      assert.equal(echo.target, 'other');
      assert.equal(echo.url, '/user/foo@bar/path');
      await proxy.api('/api/routes/user/foo@bar', { method: 'DELETE' });
    });

    it('POST /api/routes with no path creates the root route', async () => {
      const root = await startProxy([], { defaultTarget: undefined });
      assert.deepEqual(await routesOf(root), {});
      assert.equal((await root.api('/api/routes', { method: 'POST', body: JSON.stringify({ target: other.url }) })).status, 201);
      assert.deepEqual(Object.keys(await routesOf(root)), ['/']);
      assert.equal(echoOf(await request(root.url, '/any/random/url')).target, 'other');
    });

    it('DELETE /api/routes/<path> deletes a route (204), then 404', async () => {
      await proxy.addRoute('/user/bar', other.url);
      const first = await proxy.api('/api/routes/user/bar', { method: 'DELETE' });
      assert.deepEqual([first.status, await first.text()], [204, '']);
      assert.equal((await routesOf(proxy))['/user/bar'], undefined);
      assert.equal((await proxy.api('/api/routes/user/bar', { method: 'DELETE' })).status, 404);
    });

    it('GET /api/routes?inactiveSince= with a bad value is a 400', async () => {
      const response = await proxy.api('/api/routes?inactiveSince=endoftheuniverse');
      assert.equal(response.status, 400);
      assert.equal(await response.text(), "Invalid datestamp 'endoftheuniverse' must be ISO8601.");
    });

    it('GET /api/routes?inactive_since= filters the routes idle since before the date', async () => {
      await proxy.addRoute('/idle', other.url);
      const added = await lastActivity(proxy, '/idle');
      const keys = async (since: number, name = 'inactive_since'): Promise<string[]> =>
        Object.keys((await (await proxy.api(`/api/routes?${name}=${new Date(since).toISOString()}`)).json()) as object);
      assert.ok(!(await keys(1)).includes('/idle'));
      assert.ok(!(await keys(added)).includes('/idle'), 'strictly older');
      assert.ok((await keys(added + 1)).includes('/idle'));
      assert.ok((await keys(added + 3600_000, 'inactiveSince')).includes('/idle'));
      await proxy.api('/api/routes/idle', { method: 'DELETE' });
    });

    it('accepts the token as CHP matches it, and answers 403 with an empty body otherwise', async () => {
      const get = (authorization?: string) => fetch(`${proxy.apiUrl}/api/routes`, { headers: authorization === undefined ? {} : { authorization } });
      for (const form of [`token ${proxy.token}`, `Bearer token ${proxy.token}`, `token   ${proxy.token} extra`]) {
        assert.equal((await get(form)).status, 200, form);
      }
      for (const form of [`Token ${proxy.token}`, `Bearer ${proxy.token}`, 'token wrong', undefined]) {
        const response = await get(form);
        assert.deepEqual([response.status, await response.text()], [403, ''], String(form));
      }
    });

    it('answers other methods with 405 before checking the token, and other paths with 404 Not Found', async () => {
      for (const method of ['PUT', 'PATCH']) {
        const response = await fetch(`${proxy.apiUrl}/api/routes/x`, { method });
        assert.deepEqual([response.status, await response.text()], [405, 'Method not supported'], method);
      }
      for (const path of ['/api', '/api/routesX', '/_chp_healthz']) {
        const response = await fetch(`${proxy.apiUrl}${path}`);
        assert.deepEqual([response.status, await response.text()], [404, 'Not Found'], path);
      }
    });

    it("rejects a body that is not JSON, or has no string 'target'", async () => {
      const notJson = await proxy.api('/api/routes/x', { method: 'POST', body: 'not json' });
      assert.equal(notJson.status, 400);
      assert.match(await notJson.text(), /^Body not valid JSON: SyntaxError/);
      const noTarget = await proxy.api('/api/routes/x', { method: 'POST', body: '{"target": 5}' });
      assert.deepEqual([noTarget.status, await noTarget.text()], [400, "Must specify 'target' as string"]);
    });

    it('deviation: a target that is not a URL is refused with a 400 (CHP stores it and answers 500 later)', deviation, async () => {
      const response = await proxy.api('/api/routes/x', { method: 'POST', body: '{"target": "not a url"}' });
      assert.equal(response.status, 400);
      assert.equal((await routesOf(proxy))['/x'], undefined);
    });

    it('deviation: a malformed escape and a bare DELETE /api/routes are 400s (CHP never answers)', deviation, async () => {
      assert.equal((await proxy.api('/api/routes/%E0%A4%A')).status, 400);
      assert.equal((await proxy.api('/api/routes', { method: 'DELETE' })).status, 400);
      assert.ok((await routesOf(proxy))['/'], 'the root route is still there');
    });
  });

  describe('routing and forwarding (proxy_spec, trie_spec)', () => {
    before(async () => {
      await proxy.addRoute('/bar', `${other.url}/foo`);
      await proxy.addRoute('/b@r/b r', `${other.url}/foo`);
      await proxy.addRoute('/user/foo', other.url);
      await proxy.addRoute('/pq', `${other.url}/base?tq=1`);
    });

    it('basic HTTP request: the default target gets / and the route’s activity moves', async () => {
      const before = await lastActivity(proxy, '/');
      await sleep(5);
      const echo = echoOf(await request(proxy.url, '/'));
      assert.deepEqual([echo.target, echo.url], ['default', '/']);
      assert.ok((await lastActivity(proxy, '/')) > before);
    });

    it('the default target is used for /any/random/url', async () => {
      const echo = echoOf(await request(proxy.url, '/any/random/url?x=1'));
      assert.deepEqual([echo.target, echo.url], ['default', '/any/random/url?x=1']);
    });

    it('keeps connections alive', async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        const answer = await request(proxy.url, '/', { agent });
        assert.equal(answer.headers.connection, 'keep-alive');
      } finally {
        agent.destroy();
      }
    });

    it('prepends the target path: /bar/rest/of/it → /foo/bar/rest/of/it', async () => {
      assert.equal(echoOf(await request(proxy.url, '/bar/rest/of/it')).url, '/foo/bar/rest/of/it');
    });

    it('/prefix?query is proxied correctly', async () => {
      assert.equal(echoOf(await request(proxy.url, '/bar?query=foo')).url, '/foo/bar?query=foo');
    });

    it('merges the target’s query with the request’s', async () => {
      assert.equal(echoOf(await request(proxy.url, '/pq/a?q=2')).url, '/base/pq/a?tq=1&q=2');
    });

    it('handles URI encoding: /b%40r/b%20r matches the route /b@r/b r, the path is forwarded as sent', async () => {
      assert.equal(echoOf(await request(proxy.url, '/b%40r/b%20r/rest/of/it')).url, '/foo/b%40r/b%20r/rest/of/it');
    });

    it('handles @ in URI the same as %40', async () => {
      assert.equal(echoOf(await request(proxy.url, '/b@r/b%20r/rest/of/it')).url, '/foo/b@r/b%20r/rest/of/it');
    });

    it('matches whole segments only, longest first, case-sensitively', async () => {
      assert.equal(echoOf(await request(proxy.url, '/user/foo')).target, 'other');
      assert.equal(echoOf(await request(proxy.url, '/user/foo/')).target, 'other');
      assert.equal(echoOf(await request(proxy.url, '/user/foo/x?y')).target, 'other');
      assert.equal(echoOf(await request(proxy.url, '/user/foobar')).target, 'default');
      assert.equal(echoOf(await request(proxy.url, '/user/foob')).target, 'default');
      assert.equal(echoOf(await request(proxy.url, '/User/foo')).target, 'default');
    });

    it('resolves dot segments (also encoded) before routing, and forwards the resolved path', async () => {
      const plain = echoOf(await request(proxy.url, '/user/x/../foo/y'));
      assert.deepEqual([plain.target, plain.url], ['other', '/user/foo/y']);
      const encoded = echoOf(await request(proxy.url, '/user/x/%2e%2e/foo/y'));
      assert.deepEqual([encoded.target, encoded.url], ['other', '/user/foo/y']);
    });

    it('decodes %2F before matching', async () => {
      assert.equal(echoOf(await request(proxy.url, '/user%2Ffoo/x')).target, 'other');
    });

    it('keeps the client’s Host and adds X-Forwarded-For/-Port/-Proto (appended) and -Host (when absent)', async () => {
      const echo = echoOf(
        await request(proxy.url, '/user/foo/h', { headers: { Host: 'class.example:8123', 'X-Forwarded-For': '1.2.3.4', 'X-Forwarded-Proto': 'https' } }),
      );
      assert.equal(echo.headers.host, 'class.example:8123');
      assert.equal(echo.headers['x-forwarded-for'], '1.2.3.4,127.0.0.1');
      assert.equal(echo.headers['x-forwarded-proto'], 'https,http');
      assert.equal(echo.headers['x-forwarded-port'], '8123');
      assert.equal(echo.headers['x-forwarded-host'], 'class.example:8123');
      const kept = echoOf(await request(proxy.url, '/user/foo/h', { headers: { 'X-Forwarded-Host': 'outer.example' } }));
      assert.equal(kept.headers['x-forwarded-host'], 'outer.example');
    });

    it('streams a POST body through, chunked or not', async () => {
      const echo = echoOf(await request(proxy.url, '/user/foo/api/contents', { method: 'POST', body: '{"a": 1}', headers: { 'Content-Type': 'application/json' } }));
      assert.deepEqual([echo.method, echo.body], ['POST', '{"a": 1}']);
    });

    it('passes a redirect’s Location through untouched', async () => {
      const answer = await request(proxy.url, `/redirect?to=${encodeURIComponent('http://foo.com:12345/whatever')}`);
      assert.equal(answer.status, 301);
      assert.equal(answer.headers.location, 'http://foo.com:12345/whatever');
    });

    it('answers the health check itself, and routes it with a query string', async () => {
      const answer = await request(proxy.url, '/_chp_healthz');
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(answer.body), { status: 'OK' });
      assert.equal(echoOf(await request(proxy.url, '/_chp_healthz?x=1')).url, '/_chp_healthz?x=1');
    });

    it('moves last_activity on a response below 300, not on a 3xx or 4xx', async () => {
      await proxy.addRoute('/activity', other.url);
      const added = await lastActivity(proxy, '/activity');
      await sleep(5);
      assert.equal((await request(proxy.url, '/activity/status/404')).status, 404);
      assert.equal((await request(proxy.url, '/activity/status/302')).status, 302);
      assert.equal(await lastActivity(proxy, '/activity'), added);
      assert.equal((await request(proxy.url, '/activity/status/204')).status, 204);
      assert.ok((await lastActivity(proxy, '/activity')) > added);
    });

    it('moves last_activity on a request body even when the answer is a 404', async () => {
      await proxy.addRoute('/upload', other.url);
      const added = await lastActivity(proxy, '/upload');
      await sleep(5);
      assert.equal((await request(proxy.url, '/upload/status/404', { method: 'POST', body: 'some data' })).status, 404);
      assert.ok((await lastActivity(proxy, '/upload')) > added);
    });

    it('answers 503 for a dead target and does not count it as activity', async () => {
      await proxy.addRoute('/missing', `http://127.0.0.1:${await deadPort()}`);
      const added = await lastActivity(proxy, '/missing');
      await sleep(5);
      assert.equal((await request(proxy.url, '/missing/prefix')).status, 503);
      assert.equal(await lastActivity(proxy, '/missing'), added);
    });

    it('default error pages are HTML: 404 without a route, 503 for a dead target', async () => {
      const noRoot = await startProxy([], { defaultTarget: undefined });
      await noRoot.addRoute('/missing', `http://127.0.0.1:${await deadPort()}`);
      const notFound = await request(noRoot.url, '/nope');
      assert.equal(notFound.status, 404);
      assert.match(String(notFound.headers['content-type']), /^text\/html/);
      assert.match(notFound.body, /404/);
      const unavailable = await request(noRoot.url, '/missing/prefix');
      assert.equal(unavailable.status, 503);
      assert.match(String(unavailable.headers['content-type']), /^text\/html/);
      assert.match(unavailable.body, /503/);
      // A websocket with no route, or to a dead target, gets a bare status line and a closed socket.
      assert.match((await rawUpgrade(noRoot.url, '/nope')).statusLine, /^HTTP\/1\.1 404\b/);
      assert.match((await rawUpgrade(noRoot.url, '/missing/ws')).statusLine, /^HTTP\/1\.1 503\b/);
    });

    it('deviation: a malformed escape in a request path is a 400 (CHP: 500 from an uncaught URIError)', deviation, async () => {
      const answer = await request(proxy.url, '/%');
      assert.equal(answer.status, 400);
      assert.equal(echoOf(await request(proxy.url, '/still/serving')).target, 'default');
    });

    it('leaves a route added or deleted alone for connections already open', async () => {
      await proxy.addRoute('/user/ws-stays', other.url);
      const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/user/ws-stays/x`);
      try {
        await once(ws, 'message');
        await proxy.api('/api/routes/user/ws-stays', { method: 'DELETE' });
        await proxy.addRoute('/user/other-route', other.url);
        ws.send('still here');
        const [data] = (await once(ws, 'message')) as [Buffer];
        assert.equal((JSON.parse(data.toString()) as { message: string }).message, 'still here');
      } finally {
        ws.terminate();
      }
    });
  });

  describe('websockets (proxy_spec)', () => {
    it('basic WebSocket request: connected, echo, and client frames move last_activity', async () => {
      await proxy.addRoute('/wsroute', other.url);
      const before = await lastActivity(proxy, '/wsroute');
      await sleep(5);
      const echo = await websocketEcho(`${proxy.url.replace('http', 'ws')}/wsroute/api/kernels/k/channels?token=x`, 'hi');
      assert.deepEqual([echo.target, echo.message, echo.url], ['other', 'hi', '/wsroute/api/kernels/k/channels?token=x']);
      assert.ok((await lastActivity(proxy, '/wsroute')) > before);
    });

    it('adds X-Forwarded-For/-Port and proto ws, but no X-Forwarded-Host, and keeps Host', async () => {
      const echo = await websocketEcho(`${proxy.url.replace('http', 'ws')}/user/foo/ws`, 'x', { 'X-Forwarded-For': '1.2.3.4' });
      assert.equal(echo.headers['x-forwarded-for'], '1.2.3.4,127.0.0.1');
      assert.equal(echo.headers['x-forwarded-proto'], 'ws');
      assert.equal(echo.headers['x-forwarded-port'], new URL(proxy.url).port);
      assert.equal(echo.headers['x-forwarded-host'], undefined);
      assert.equal(echo.headers.host, new URL(proxy.url).host);
    });

    it('drops upgrades that are not websockets without an answer', async () => {
      const h2c = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(new URL(proxy.url).port), '127.0.0.1');
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n');
      });
      assert.equal(h2c, '');
    });

    it('a websocket to a dead target is refused with a 503 status line', async () => {
      await proxy.addRoute('/deadws', `http://127.0.0.1:${await deadPort()}`);
      const { statusLine } = await rawUpgrade(proxy.url, '/deadws/x');
      assert.match(statusLine, /^HTTP\/1\.1 503\b/);
    });
  });

  describe('error target and error path', { concurrency: true }, () => {
    let errors: Server;
    let errorsUrl = '';
    let errorDir: string;
    before(async () => {
      // CHP's test error server: answers 200 with the url query as text.
      errors = http.createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Not-Relayed': 'yes' });
        res.end(`${url.pathname} ${url.searchParams.get('url') ?? ''}`);
      });
      errors.listen(0, '127.0.0.1');
      await once(errors, 'listening');
      errorsUrl = `http://127.0.0.1:${(errors.address() as AddressInfo).port}/errors`;
      cleanups.push(() => {
        errors.closeAllConnections();
        errors.close();
      });
      errorDir = mkdtempSync(join(tmpdir(), 'lectern-proxy-errors-'));
      writeFileSync(join(errorDir, '404.html'), "404'D");
      writeFileSync(join(errorDir, 'error.html'), 'UNKNOWN');
      cleanups.push(() => rmSync(errorDir, { recursive: true, force: true }));
    });

    it('custom error target: the proxy’s status, the page’s Content-Type and body, the URL in ?url=', async () => {
      const withTarget = await startProxy(['--error-target', errorsUrl], { defaultTarget: undefined });
      await withTarget.addRoute('/missing', `http://127.0.0.1:${await deadPort()}`);
      const notFound = await request(withTarget.url, '/foo/bar?x=1&y=%2F');
      assert.equal(notFound.status, 404);
      assert.equal(notFound.headers['content-type'], 'text/plain');
      assert.equal(notFound.headers['x-not-relayed'], undefined);
      assert.equal(notFound.body, '/errors/404 /foo/bar?x=1&y=%2F');
      const unavailable = await request(withTarget.url, '/missing/prefix');
      assert.deepEqual([unavailable.status, unavailable.body], [503, '/errors/503 /missing/prefix']);
      // Websockets never go to the error target.
      assert.match((await rawUpgrade(withTarget.url, '/nope/ws')).statusLine, /^HTTP\/1\.1 404\b/);
    });

    it('an unreachable error target falls back to the bare reason phrase', async () => {
      const unreachable = await startProxy(['--error-target', `http://127.0.0.1:${await deadPort()}`], { defaultTarget: undefined });
      const answer = await request(unreachable.url, '/nope');
      assert.deepEqual([answer.status, answer.body, answer.headers['content-type']], [404, 'Not Found', undefined]);
    });

    it('custom error path: <code>.html, else error.html, as text/html', async () => {
      const withPath = await startProxy(['--error-path', errorDir], { defaultTarget: undefined });
      await withPath.addRoute('/missing', `http://127.0.0.1:${await deadPort()}`);
      const notFound = await request(withPath.url, '/nope');
      assert.deepEqual([notFound.status, notFound.headers['content-type'], notFound.body], [404, 'text/html', "404'D"]);
      const unavailable = await request(withPath.url, '/missing/prefix');
      assert.deepEqual([unavailable.status, unavailable.headers['content-type'], unavailable.body], [503, 'text/html', 'UNKNOWN']);
    });
  });

  // Each of these starts its own proxy, so they run side by side.
  describe('proxy options', { concurrency: true }, () => {
    it('--no-prepend-path, --no-include-prefix and both', async () => {
      const cases: Array<[string[], string]> = [
        [['--no-prepend-path'], '/bar/rest/of/it'],
        [['--no-include-prefix'], '/foo/rest/of/it'],
        [['--no-prepend-path', '--no-include-prefix'], '/rest/of/it'],
      ];
      for (const [flags, expected] of cases) {
        const started = await startProxy(flags);
        await started.addRoute('/bar', `${other.url}/foo`);
        assert.equal(echoOf(await request(started.url, '/bar/rest/of/it')).url, expected, flags.join(' '));
        await started.stop();
      }
    });

    it('--host-routing routes by Host first, and does not forward the host in the path', async () => {
      const byHost = await startProxy(['--host-routing']);
      await byHost.addRoute('/test.localhost.jovyan.org', other.url);
      const port = new URL(byHost.url).port;
      const echo = echoOf(await request(byHost.url, '/some/path', { headers: { Host: `test.localhost.jovyan.org:${port}` } }));
      assert.deepEqual([echo.target, echo.url], ['other', '/some/path']);
      assert.equal(echoOf(await request(byHost.url, '/some/path', { headers: { Host: 'elsewhere.example' } })).target, 'default');
      assert.equal(((await routesOf(byHost))['/test.localhost.jovyan.org'] as { host?: string }).host, 'test.localhost.jovyan.org');
    });

    it('deviation: --host-routing compares host names case-insensitively (CHP: A.EXAMPLE.COM falls through to /)', deviation, async () => {
      const byHost = await startProxy(['--host-routing']);
      await byHost.addRoute('/a.example.com', other.url);
      assert.equal(echoOf(await request(byHost.url, '/x', { headers: { Host: 'A.EXAMPLE.COM' } })).target, 'other');
    });

    it('deviation: --host-routing with --no-include-prefix keeps the path (CHP cuts the host’s length off it)', deviation, async () => {
      const byHost = await startProxy(['--host-routing', '--no-include-prefix']);
      await byHost.addRoute('/a.example.com', `${other.url}/base`);
      assert.equal(echoOf(await request(byHost.url, '/x/y?q', { headers: { Host: 'a.example.com' } })).url, '/base/x/y?q');
    });

    it('--custom-header is added to web and websocket requests, replacing the client’s', async () => {
      const custom = await startProxy(['--custom-header', 'k1: v1', '--custom-header', ' k2 : host:123 ']);
      const echo = echoOf(await request(custom.url, '/', { headers: { k1: 'from the client' } }));
      assert.equal(echo.headers.k1, 'v1');
      assert.equal(echo.headers.k2, 'host:123');
      const ws = await websocketEcho(`${custom.url.replace('http', 'ws')}/ws`, 'x');
      assert.equal(ws.headers.k1, 'v1');
    });

    it('--no-x-forward adds no X-Forwarded headers', async () => {
      const plain = await startProxy(['--no-x-forward']);
      const echo = echoOf(await request(plain.url, '/'));
      assert.equal(echo.headers['x-forwarded-for'], undefined);
      assert.equal(echo.headers['x-forwarded-host'], undefined);
    });

    it('--auto-rewrite and --protocol-rewrite rewrite redirects to the target', async () => {
      const rewriting = await startProxy(['--auto-rewrite', '--protocol-rewrite', 'https']);
      const host = new URL(rewriting.url).host;
      const answer = await request(rewriting.url, `/redirect?to=${encodeURIComponent(`${backend.url.replace('http:', 'https:')}/whatever`)}`);
      assert.equal(answer.headers.location, `https://${host}/whatever`);
    });

    it('proxies to an http+unix target', { skip: process.platform === 'win32' }, async () => {
      const socketDir = mkdtempSync(join(tmpdir(), 'lectern-proxy-unix-'));
      cleanups.push(() => rmSync(socketDir, { recursive: true, force: true }));
      const unixTarget = new EchoTarget('unix');
      unixTarget.server.listen(join(socketDir, 'target.sock'));
      await once(unixTarget.server, 'listening');
      cleanups.push(() => unixTarget.stop());
      await proxy.addRoute('/unix', `http+unix://${encodeURIComponent(join(socketDir, 'target.sock'))}`);
      assert.equal(echoOf(await request(proxy.url, '/unix/x')).target, 'unix');
      assert.equal((await websocketEcho(`${proxy.url.replace('http', 'ws')}/unix/ws`, 'u')).target, 'unix');
    });

    it('--timeout drops a client connection left idle during a request, without an answer', async () => {
      const impatient = await startProxy(['--timeout', '300']);
      await impatient.addRoute('/slow', other.url);
      const outcome = await new Promise<string>((resolve) => {
        const req = http.get(`${impatient.url}/slow/slow-headers`, { agent: false }, (res) => resolve(`status ${res.statusCode}`));
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
      assert.equal(outcome, 'ECONNRESET');
    });

    it('refuses a request whose headers exceed 16 KiB with a 431', async () => {
      const answer = await request(proxy.url, '/', { headers: { 'X-Big': 'x'.repeat(20_000) } });
      assert.equal(answer.status, 431);
      assert.equal(echoOf(await request(proxy.url, '/after')).url, '/after');
    });

    it('deviation: a client that never finishes its headers is cut off after --headers-timeout (CHP: Node’s 60 s)', deviation, async () => {
      const strict = await startProxy(['--headers-timeout', '500']);
      const started = Date.now();
      const received = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(new URL(strict.url).port), '127.0.0.1');
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        // A slowloris: the request line and one header, then nothing.
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
      });
      assert.match(received, /^HTTP\/1\.1 408 /);
      assert.ok(Date.now() - started < 5_000, `cut off after ${Date.now() - started} ms`);
    });

    it('--proxy-timeout answers 503 when the target sends no headers in time', async () => {
      const bounded = await startProxy(['--proxy-timeout', '300']);
      await bounded.addRoute('/slow', other.url);
      assert.equal((await request(bounded.url, '/slow/slow-headers')).status, 503);
    });

    it('deviation: --proxy-timeout aborts the client response when the target stalls mid-body (CHP leaves it hanging)', deviation, async () => {
      const bounded = await startProxy(['--proxy-timeout', '300']);
      await bounded.addRoute('/slow', other.url);
      const outcome = await exitWithin(
        new Promise<string>((resolve) => {
          const req = http.get(`${bounded.url}/slow/stall-body`, { agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve('ended'));
            res.on('error', () => resolve('aborted'));
            res.on('close', () => resolve(res.complete ? 'ended' : 'aborted'));
          });
          req.on('error', () => resolve('aborted'));
        }),
        5_000,
        'the client seeing the end of the stalled response',
      );
      assert.equal(outcome, 'aborted');
    });
  });

  describe('command line (cli_spec)', { concurrency: true }, () => {
    it('logs "Route added /" for --default-target, on standard output', async () => {
      const run = runCommand(['--ip', '127.0.0.1', '--port', '0', '--api-ip', '127.0.0.1', '--api-port', '0', '--default-target', backend.url], {
        CONFIGPROXY_AUTH_TOKEN: 'x',
      });
      cleanups.push(() => run.child.kill('SIGKILL'));
      let stdout = '';
      run.child.stdout?.on('data', (chunk: string) => (stdout += chunk));
      const deadline = Date.now() + 10_000;
      while (!stdout.includes('Route added /') && Date.now() < deadline) await sleep(50);
      assert.match(stdout, /Route added \/ -> http:\/\/127\.0\.0\.1:\d+/);
      run.child.kill('SIGTERM');
      await run.exit;
    });

    it('warns that the API is not authenticated without CONFIGPROXY_AUTH_TOKEN', async () => {
      const [port, apiPort] = await freePorts();
      const run = runCommand(['--ip', '127.0.0.1', '--port', String(port), '--api-ip', '127.0.0.1', '--api-port', String(apiPort)]);
      cleanups.push(() => run.child.kill('SIGKILL'));
      const deadline = Date.now() + 10_000;
      while (!run.output().includes('REST API is not authenticated.') && Date.now() < deadline) await sleep(50);
      assert.match(run.output(), /REST API is not authenticated\./);
      assert.equal((await fetch(`http://127.0.0.1:${apiPort}/api/routes`).catch(() => undefined))?.status ?? 200, 200);
      run.child.kill('SIGTERM');
      await run.exit;
    });

    it('basic HTTPS request, with --redirect-port sending plain HTTP to https on the proxy’s port', async () => {
      const [redirectPort] = await freePorts();
      const secure = await startProxy(['--ssl-key', join(certDir, 'key.pem'), '--ssl-cert', join(certDir, 'cert.pem'), '--redirect-port', String(redirectPort)]);
      const httpsUrl = secure.url.replace('http:', 'https:');
      assert.equal(echoOf(await request(httpsUrl, '/x', { ca: cert })).url, '/x');
      const redirect = await request(`http://127.0.0.1:${redirectPort}`, '/some/path?q=1');
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.location, `https://127.0.0.1:${new URL(secure.url).port}/some/path?q=1`);
    });

    it('--redirect-to names the https port to redirect to', async () => {
      const [redirectPort] = await freePorts();
      const secure = await startProxy(['--ssl-key', join(certDir, 'key.pem'), '--ssl-cert', join(certDir, 'cert.pem'), '--redirect-port', String(redirectPort), '--redirect-to', '8914']);
      assert.ok(secure);
      const redirect = await request(`http://127.0.0.1:${redirectPort}`, '/');
      assert.equal(redirect.headers.location, 'https://127.0.0.1:8914/');
    });

    it('deviation: --redirect-to 443 leaves the port out of the Location (CHP writes :443)', deviation, async () => {
      const [redirectPort] = await freePorts();
      await startProxy(['--ssl-key', join(certDir, 'key.pem'), '--ssl-cert', join(certDir, 'cert.pem'), '--redirect-port', String(redirectPort), '--redirect-to', '443']);
      assert.equal((await request(`http://127.0.0.1:${redirectPort}`, '/x')).headers.location, 'https://127.0.0.1/x');
    });

    it('--client-ssl-* presents a client certificate to an https target that requires one', async () => {
      const mutual = await new EchoTarget('mtls', { key, cert, ca: cert, requestCert: true, rejectUnauthorized: true }).start('https');
      cleanups.push(() => mutual.stop());
      const withClientCert = await startProxy([
        '--client-ssl-key', join(certDir, 'key.pem'), '--client-ssl-cert', join(certDir, 'cert.pem'), '--client-ssl-ca', join(certDir, 'cert.pem'),
        '--client-ssl-request-cert', '--client-ssl-reject-unauthorized',
      ]);
      await withClientCert.addRoute('/internal', mutual.url);
      assert.equal(echoOf(await request(withClientCert.url, '/internal/x')).target, 'mtls');
      assert.equal((await websocketEcho(`${withClientCert.url.replace('http', 'ws')}/internal/ws`, 'm')).target, 'mtls');
    });

    it('verifies https targets: a self-signed one is a 503 without --insecure', async () => {
      const selfSigned = await new EchoTarget('self-signed', { key, cert }).start('https');
      cleanups.push(() => selfSigned.stop());
      await proxy.addRoute('/selfsigned', selfSigned.url);
      assert.equal((await request(proxy.url, '/selfsigned/x')).status, 503);
    });

    it('deviation: --insecure reaches a self-signed https target (CHP 5.1+ ignores the flag: 503)', deviation, async () => {
      const selfSigned = await new EchoTarget('self-signed', { key, cert }).start('https');
      cleanups.push(() => selfSigned.stop());
      const insecure = await startProxy(['--insecure']);
      await insecure.addRoute('/selfsigned', selfSigned.url);
      assert.equal(echoOf(await request(insecure.url, '/selfsigned/x')).target, 'self-signed');
      assert.equal((await websocketEcho(`${insecure.url.replace('http', 'ws')}/selfsigned/ws`, 's')).target, 'self-signed');
    });

    it('an invalid --custom-header exits with "colon was expected"', async () => {
      const run = runCommand(['--custom-header', 'invalid']);
      const code = await exitWithin(run.exit, 10_000, 'exit');
      assert.notEqual(code, 0);
      assert.match(run.output(), /A colon was expected in custom header: invalid/);
    });

    it('an unknown option exits 1 naming it', async () => {
      const run = runCommand(['--no-such-option']);
      assert.equal(await exitWithin(run.exit, 10_000, 'exit'), 1);
      assert.match(run.output(), /--no-such-option/);
    });

    it('--error-target with --error-path exits 1', async () => {
      const run = runCommand(['--error-target', 'http://127.0.0.1:1', '--error-path', tmpdir()]);
      assert.equal(await exitWithin(run.exit, 10_000, 'exit'), 1);
      assert.match(run.output(), /Cannot specify both error-target and error-path\. Pick one\./);
    });

    it('deviation: a taken proxy or API port exits non-zero at once, naming it (CHP runs on without its API, or exits 0)', deviation, async () => {
      const blocker = net.createServer();
      blocker.listen(0, '127.0.0.1');
      await once(blocker, 'listening');
      cleanups.push(() => blocker.close());
      const taken = (blocker.address() as AddressInfo).port;
      // A free port for each run: the two run at once, and one must not find the other's.
      const [freeA, freeB] = await freePorts();
      const attempts = [
        [taken, freeA],
        [freeB, taken],
      ].map(async ([port, apiPort]) => {
        const run = runCommand(['--ip', '127.0.0.1', '--port', String(port), '--api-ip', '127.0.0.1', '--api-port', String(apiPort)], { CONFIGPROXY_AUTH_TOKEN: 'x' });
        const code = await exitWithin(run.exit, 10_000, 'exit');
        assert.notEqual(code, 0);
        assert.match(run.output(), new RegExp(`127\\.0\\.0\\.1:${taken}: address already in use \\(EADDRINUSE\\)`));
      });
      await Promise.all(attempts);
    });

    it('deviation: --pid-file is written, and SIGTERM removes it and exits 0 (CHP exits 2)', deviation, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lectern-proxy-pid-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const pidFile = join(dir, 'proxy.pid');
      const withPid = await startProxy(['--pid-file', pidFile]);
      assert.equal(readFileSync(pidFile, 'utf8'), String(withPid.pid));
      await withPid.stop();
      assert.ok(!existsSync(pidFile), 'the pid file is gone');
      const again = runCommand(['--ip', '127.0.0.1', '--port', '0', '--api-ip', '127.0.0.1', '--api-port', '0'], { CONFIGPROXY_AUTH_TOKEN: 'x' });
      const deadline = Date.now() + 10_000;
      while (!again.output().includes('Proxy API at') && Date.now() < deadline) await sleep(50);
      again.child.kill('SIGTERM');
      assert.equal(await exitWithin(again.exit, 5_000, 'exit after SIGTERM'), 0);
    });
  });
});
