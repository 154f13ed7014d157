import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../server/logging/logger.js';
import { Proxy } from '../../../server/proxy/proxy.js';
import { createPublicListener } from '../../../server/proxy/public-listener.js';
import { RouteTable } from '../../../server/proxy/route-table.js';
import { ServerOrigins } from '../../../server/proxy/server-origins.js';

interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

function ask(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { Host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('an origin of its own for each student’s server', () => {
  const log = createLogger({ level: 'error', sink: () => {} });
  const routes = new RouteTable();
  let target: Server;
  let hub: Server;
  let origins: ServerOrigins;
  let hubPort = 0;
  let annPort = 0;

  before(async () => {
    target = createServer((req, res) => res.end(`ann's server: ${req.url}`));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    routes.add('/user/ann/', `http://127.0.0.1:${(target.address() as AddressInfo).port}`, { user: 'ann', server_name: '' });
    routes.add('/user/bob/', `http://127.0.0.1:${(target.address() as AddressInfo).port}`, { user: 'bob', server_name: '' });
    const proxy = new Proxy({
      log,
      routes,
      fallback: (req, res) => origins.fallback((_req, hubRes) => hubRes.end('the hub'))(req, res),
      guard: (req, route) => origins.guard(req, route) ?? { forward: true },
    });
    origins = new ServerOrigins({ proxy, ip: '127.0.0.1', tls: undefined, hubPort: () => hubPort, log });
    hub = createPublicListener(proxy);
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    hubPort = (hub.address() as AddressInfo).port;
    annPort = await origins.open('/user/ann/', 0);
  });
  after(async () => {
    await origins.closeAll();
    hub.closeAllConnections();
    hub.close();
    target.close();
  });

  it('serves the server’s own paths at its port', async () => {
    assert.deepEqual(await ask(annPort, '/user/ann/lab?x=1'), { status: 200, location: undefined, body: "ann's server: /user/ann/lab?x=1" });
  });

  it('sends a browser asking its port for the hub or a classmate’s server to the hub’s port, and answers nothing else there', async () => {
    assert.equal((await ask(annPort, '/hub/home')).location, `http://127.0.0.1:${hubPort}/hub/home`);
    assert.equal((await ask(annPort, '/user/bob/tree')).location, `http://127.0.0.1:${hubPort}/user/bob/tree`);
    const post = await ask(annPort, '/hub/api/users/ann', { method: 'PATCH' });
    assert.deepEqual([post.status, post.location], [404, undefined], 'a page’s script gets no hub at this origin');
    assert.equal((await ask(annPort, '/hub/api/user', { method: 'POST' })).status, 404);
  });

  it('sends a browser asking the hub for her server to its own origin, at the address it used', async () => {
    const page = await ask(hubPort, '/user/ann/tree?reset', { headers: { Host: `192.168.1.20:${hubPort}` } });
    assert.deepEqual([page.status, page.location], [302, `http://192.168.1.20:${annPort}/user/ann/tree?reset`]);
    const ipv6 = await ask(hubPort, '/user/ann/', { headers: { Host: `[fd00::2]:${hubPort}` } });
    assert.equal(ipv6.location, `http://[fd00::2]:${annPort}/user/ann/`);
    assert.equal((await ask(hubPort, '/user/ann/api/contents', { method: 'PUT' })).status, 403, 'a script at the hub’s origin cannot write to her server');
    assert.equal((await ask(hubPort, '/user/ann/', { headers: { Host: 'evil"host' } })).status, 400);
  });

  it('still forwards an API client with a token at the hub’s address, as JupyterHub’s clients call it', async () => {
    const api = await ask(hubPort, '/user/ann/api/status', { headers: { Authorization: 'token t' } });
    assert.equal(api.status, 200);
  });

  it('leaves a server without an origin of its own to the hub’s address', async () => {
    assert.equal((await ask(hubPort, '/user/bob/tree')).status, 200);
    assert.equal((await ask(hubPort, '/nowhere')).body, 'the hub');
  });
});
