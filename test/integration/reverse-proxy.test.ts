/**
 * The seed's deployment: the hub behind a real nginx at `/jupyter/`, which forwards one address, so
 * students' servers share the hub's (`network.serverOrigins: shared`, chosen knowingly). A student
 * logs in through nginx, her real jupyterhub-singleuser starts, and code runs in a kernel over its
 * websocket through both proxies; the hub judges origins as the browser sees them (nginx's
 * X-Forwarded-Proto and Host).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../helpers/http-client.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { runCode } from '../helpers/kernel.js';
import { FRONT_HOST, freePortRange, frontPath, type Nginx } from '../helpers/nginx.js';
import { startAndOpen, startKernel } from '../helpers/student-server.js';

describe('behind nginx at /jupyter/', () => {
  let t: TestHub;
  let nginx: Nginx;
  let front: string;

  before(async () => {
    t = await startTestHub({ network: { baseUrl: '/jupyter/', serverOrigins: 'shared' }, culler: { enabled: false } });
    const port = await freePortRange(1);
    nginx = await frontPath(port, '/jupyter/', t.hub.port);
    front = `http://${FRONT_HOST}:${port}`;
    await t.addUser('alice', 'alice-password-1');
  });
  after(async () => {
    await nginx.stop();
    await t.stop();
  });

  it('logs a student in, starts her server and runs her code, all through nginx', async () => {
    const alice = new HttpClient(front);
    const login = await alice.request('/jupyter/hub/login', {
      method: 'POST',
      body: new URLSearchParams({ username: 'alice', password: 'alice-password-1' }),
      headers: { Origin: front, 'Content-Type': 'application/x-www-form-urlencoded' },
      referer: '/jupyter/hub/login',
    });
    assert.equal(login.status, 302, await login.text());
    const { response, hops } = await startAndOpen(alice, 'alice', '/jupyter/');
    assert.equal(response.status, 200, hops.map((hop) => `${hop.status} ${hop.url}`).join('\n'));
    assert.match(new URL(hops.at(-1)?.url ?? '').pathname, /^\/jupyter\/user\/alice\/tree/);
    assert.ok(alice.cookie('jupyterhub-user-alice'), 'through the OAuth exchange');
    const kernel = await startKernel(alice, '/jupyter/user/alice/');
    assert.equal((await runCode(alice, `/jupyter/user/alice/api/kernels/${kernel}/channels`, 'print(6*7)')).trim(), '42');
  });

  it('refuses a cookie-authenticated API call that another origin sends through nginx', async () => {
    const alice = new HttpClient(front);
    await alice.request('/jupyter/hub/login', {
      method: 'POST',
      body: new URLSearchParams({ username: 'alice', password: 'alice-password-1' }),
      headers: { Origin: front, 'Content-Type': 'application/x-www-form-urlencoded' },
      referer: '/jupyter/hub/login',
    });
    const own = await alice.request('/jupyter/hub/api/user', { referer: '/jupyter/hub/home' });
    assert.equal(own.status, 200, 'from the hub’s own page, as nginx serves it');
    const other = await alice.request('/jupyter/hub/api/users/alice/tokens', { method: 'POST', headers: { Origin: 'http://evil.example' }, body: '{}' });
    assert.equal(other.status, 403);
  });
});
