/**
 * The hub's proxy seen from outside: configurable-http-proxy's route API on its optional loopback
 * listener (so tools written for CHP can read and change Lectern's routes), and the Prometheus
 * metrics at /hub/metrics.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { freeLoopbackPort } from '../../server/spawner/free-port.js';
import { ADMIN_TOKEN, fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';
import { startServer } from '../helpers/student-server.js';

const ROUTE_TOKEN = 'route-api-token-0123456789abcdef';

describe('the hub’s proxy', () => {
  let t: TestHub;
  let apiPort: number;
  const extra = createServer((req, res) => res.end(`extra saw ${req.url}`));

  before(async () => {
    apiPort = await freeLoopbackPort();
    t = await startTestHub({ ...fakeServer('ok'), proxy: { apiPort, apiToken: ROUTE_TOKEN } });
    await t.addUser('alice', 'alice-password-1');
    await startServer(t.api, '/users/alice/server');
    await new Promise<void>((resolve) => extra.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    extra.close();
    await t.stop();
  });

  const routeApi = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${apiPort}/api/routes${path}`, { ...init, headers: { Authorization: `token ${ROUTE_TOKEN}` } });

  it('lists its routes through configurable-http-proxy’s API, with JupyterHub’s route data', async () => {
    const routes = (await (await routeApi('')).json()) as Record<string, { target: string; user: string; last_activity: string }>;
    assert.equal(routes['/user/alice']?.user, 'alice');
    assert.match(routes['/user/alice']?.last_activity ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal((await fetch(`http://127.0.0.1:${apiPort}/api/routes`)).status, 403, 'no token, no routes');
  });

  it('forwards to a route added through the API', async () => {
    const { port } = extra.address() as { port: number };
    assert.equal((await routeApi('/extra', { method: 'POST', body: JSON.stringify({ target: `http://127.0.0.1:${port}` }) })).status, 201);
    assert.equal(await (await fetch(`${t.origin}/extra/page?x=1`)).text(), 'extra saw /extra/page?x=1');
    assert.equal((await routeApi('/extra', { method: 'DELETE' })).status, 204);
  });

  it('serves metrics for the hub and the proxy to read:metrics holders only', async () => {
    const alice = t.client();
    await alice.logIn('alice', 'alice-password-1');
    assert.equal((await alice.at(await alice.serverOrigin('alice')).request('/user/alice/lab')).status, 200);
    const metrics = await fetch(`${t.origin}/hub/metrics`, { headers: { Authorization: `token ${ADMIN_TOKEN}` } });
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    for (const series of [
      /^jupyterhub_total_users 2$/m, // alice and the first-run teacher account
      /^jupyterhub_running_servers 1$/m,
      /^jupyterhub_server_spawn_duration_seconds_count\{status="success"\} 1$/m,
      /^requests_proxy\{status="200"\} [1-9]\d*$/m,
      /^websockets_active 0$/m,
      /^upstream_errors 0$/m,
      /^routes 1$/m,
    ]) {
      assert.match(text, series);
    }
    assert.equal((await fetch(`${t.origin}/hub/metrics`)).status, 403);
  });
});
