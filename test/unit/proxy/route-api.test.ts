import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createLogger } from '../../../server/logging/logger.js';
import { createRouteApi } from '../../../server/proxy/route-api.js';
import { RouteTable } from '../../../server/proxy/route-table.js';

const TOKEN = 'secret';

interface Answer {
  status: number;
  type: string | undefined;
  body: string;
}

/** A raw request, so paths reach the server exactly as written (no client-side normalising). */
function call(port: number, method: string, path: string, options: { token?: string | null; body?: string; auth?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.auth !== undefined) headers.Authorization = options.auth;
    else if (options.token !== null) headers.Authorization = `token ${options.token ?? TOKEN}`;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('createRouteApi', () => {
  let server: Server;
  let port: number;
  let routes: RouteTable;

  before(async () => {
    routes = new RouteTable();
    server = http.createServer((req, res) => api(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  let api: http.RequestListener;
  beforeEach(() => {
    for (const route of routes.list()) routes.delete(route.prefix);
    api = createRouteApi({ routes, authToken: TOKEN, log: createLogger({ level: 'error', sink: () => undefined }) });
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('lists the table, root route included, with last_activity as ISO with ms and Z', async () => {
    routes.add('/', 'http://127.0.0.1:1', { target: 'http://127.0.0.1:1' });
    const answer = await call(port, 'GET', '/api/routes');
    assert.equal(answer.status, 200);
    assert.equal(answer.type, 'application/json');
    const table = JSON.parse(answer.body) as Record<string, { target: string; last_activity: string }>;
    assert.deepEqual(Object.keys(table), ['/']);
    assert.match(table['/']?.last_activity ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(JSON.parse((await call(port, 'GET', '/api/routes/')).body), table);
  });

  it('stores the whole POST body as the route data and replaces it on a second POST', async () => {
    const first = await call(port, 'POST', '/api/routes/user/foo', { body: JSON.stringify({ target: 'http://127.0.0.1:2', user: 'foo', nested: { a: [1] }, last_activity: 'x' }) });
    assert.deepEqual([first.status, first.body], [201, '']);
    const route = JSON.parse((await call(port, 'GET', '/api/routes/user/foo/')).body) as Record<string, unknown>;
    assert.equal(route.target, 'http://127.0.0.1:2');
    assert.deepEqual(route.nested, { a: [1] });
    assert.notEqual(route.last_activity, 'x');
    await call(port, 'POST', '/api/routes/user/foo', { body: JSON.stringify({ target: 'http://127.0.0.1:3' }) });
    assert.deepEqual(Object.keys(JSON.parse((await call(port, 'GET', '/api/routes/user/foo')).body) as object), ['target', 'last_activity']);
  });

  it('decodes keys, and treats POST /api/routes and /api/routes/ as the root', async () => {
    await call(port, 'POST', '/api/routes/user/foo%40bar', { body: '{"target":"http://127.0.0.1:2"}' });
    assert.ok(routes.get('/user/foo@bar'));
    await call(port, 'POST', '/api/routes', { body: '{"target":"http://127.0.0.1:4"}' });
    assert.equal(routes.get('/')?.target, 'http://127.0.0.1:4');
    assert.equal((await call(port, 'GET', '/api/routes//')).status, 200, '/api/routes// is the root route alone');
    assert.equal((await call(port, 'GET', '/api/routes//trail')).status, 404);
  });

  it('filters by inactive_since (strictly older) and inactiveSince, and rejects bad dates', async () => {
    const yesterday = routes.add('/yesterday', 'http://127.0.0.1:1');
    yesterday.lastActivity = Date.now() - 24 * 3600_000;
    routes.add('/today', 'http://127.0.0.1:1').lastActivity = Date.now() - 60_000;
    const since = async (query: string): Promise<string[]> => Object.keys(JSON.parse((await call(port, 'GET', `/api/routes?${query}`)).body) as object).sort();
    assert.deepEqual(await since(`inactive_since=${new Date(1).toISOString()}`), []);
    assert.deepEqual(await since(`inactive_since=${new Date(Date.now() - 3600_000).toISOString()}`), ['/yesterday']);
    assert.deepEqual(await since(`inactiveSince=${new Date(Date.now() + 3600_000).toISOString()}`), ['/today', '/yesterday']);
    assert.deepEqual(await since(`inactive_since=${encodeURIComponent(new Date(yesterday.lastActivity).toISOString())}`), [], 'strict');
    assert.deepEqual(await since('inactive_since='), ['/today', '/yesterday']);
    const bad = await call(port, 'GET', '/api/routes?inactive_since=endoftheuniverse');
    assert.deepEqual([bad.status, bad.body], [400, "Invalid datestamp 'endoftheuniverse' must be ISO8601."]);
  });

  it('matches the token as CHP does and answers 403 with an empty body otherwise', async () => {
    for (const auth of ['token secret', 'token   secret extra', 'Bearer token secret', 'mytoken secret']) {
      assert.equal((await call(port, 'GET', '/api/routes', { auth })).status, 200, auth);
    }
    for (const auth of ['Token secret', 'Bearer secret', 'token wrong', '']) {
      const answer = await call(port, 'GET', '/api/routes', { auth });
      assert.deepEqual([answer.status, answer.body], [403, ''], auth);
    }
    assert.equal((await call(port, 'GET', '/api/routes', { token: null })).status, 403);
  });

  it('answers 405 before auth, and 404 Not Found outside /api/routes', async () => {
    const put = await call(port, 'PUT', '/api/routes/x', { token: null });
    assert.deepEqual([put.status, put.body], [405, 'Method not supported']);
    for (const path of ['/api', '/api/', '/api/routesX', '/metrics', '/_chp_healthz']) {
      const answer = await call(port, 'GET', path, { token: null });
      assert.deepEqual([answer.status, answer.body, answer.type], [404, 'Not Found', undefined], path);
    }
  });

  it('rejects bodies that are not JSON or have no string target, and (deviation) targets that are not URLs', async () => {
    const notJson = await call(port, 'POST', '/api/routes/x', { body: 'nope' });
    assert.equal(notJson.status, 400);
    assert.match(notJson.body, /^Body not valid JSON: SyntaxError/);
    for (const body of ['', '{}', '{"target": 5}', '[1]', 'null']) {
      const answer = await call(port, 'POST', '/api/routes/x', { body });
      assert.equal(answer.status, 400, body);
    }
    const notUrl = await call(port, 'POST', '/api/routes/x', { body: '{"target": "not a url"}' });
    assert.equal(notUrl.status, 400);
    assert.match(notUrl.body, /Invalid proxy target/);
    assert.equal(routes.size, 0);
  });

  it('deletes routes: 204, then 404; DELETE /api/routes/ is the root', async () => {
    routes.add('/user/bar', 'http://127.0.0.1:1');
    routes.add('/', 'http://127.0.0.1:1');
    assert.deepEqual(await call(port, 'DELETE', '/api/routes/user/bar/'), { status: 204, type: undefined, body: '' });
    assert.equal((await call(port, 'DELETE', '/api/routes/user/bar')).status, 404);
    assert.equal((await call(port, 'DELETE', '/api/routes/')).status, 204);
    assert.equal(routes.size, 0);
  });

  it('deviation: answers a malformed escape and a bare DELETE /api/routes with 400 (CHP hangs)', async () => {
    assert.equal((await call(port, 'GET', '/api/routes/%E0%A4%A')).status, 400);
    const bare = await call(port, 'DELETE', '/api/routes');
    assert.equal(bare.status, 400);
    assert.match(bare.body, /DELETE \/api\/routes\/<path>/);
  });

  it('deviation: checks the token before reading a POST body (CHP answers 400 for bad JSON first)', async () => {
    assert.equal((await call(port, 'POST', '/api/routes/x', { token: 'wrong', body: 'nope' })).status, 403);
  });

  it('records the host of host-routing keys', async () => {
    api = createRouteApi({ routes, authToken: TOKEN, log: createLogger({ level: 'error', sink: () => undefined }), hostRouting: true });
    await call(port, 'POST', '/api/routes/a.example.com/sub', { body: '{"target":"http://127.0.0.1:1"}' });
    assert.equal((JSON.parse((await call(port, 'GET', '/api/routes/a.example.com/sub')).body) as { host: string }).host, 'a.example.com');
  });

  it('is open to anyone without a token, as CHP is', async () => {
    api = createRouteApi({ routes, authToken: undefined, log: createLogger({ level: 'error', sink: () => undefined }) });
    assert.equal((await call(port, 'GET', '/api/routes', { token: null })).status, 200);
  });
});
