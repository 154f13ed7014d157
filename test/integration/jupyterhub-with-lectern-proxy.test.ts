/**
 * `lectern proxy` as a drop-in configurable-http-proxy: the real JupyterHub 3.0 (Debian's, dummy
 * authenticator, simple local process spawner) starts it through `c.ConfigurableHTTPProxy.command`
 * and drives it through CHP's REST API, and a user goes the whole way through it: login, spawn of
 * the real `jupyterhub-singleuser`, OAuth, the contents API, and code run in a kernel over a
 * websocket. Then JupyterHub stops the server and removes the route, and stopping the hub leaves no
 * process behind. `LECTERN_PROXY_UNDER_TEST=chp` runs the same against CHP 5.3, to check the test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient } from '../helpers/http-client.js';
import { runCode } from '../helpers/kernel.js';
import { startJupyterHub, type RunningJupyterHub } from '../helpers/jupyterhub.js';
import { proxyUnderTest } from '../helpers/proxy-process.js';

/** A route as CHP's API lists it: the data JupyterHub posted, plus the proxy's `last_activity`. */
interface RouteData {
  target?: string;
  user?: string;
  server_name?: string;
  jupyterhub?: boolean;
  last_activity?: string;
}

const USER = 'alice';

describe(`JupyterHub 3.0 with ${proxyUnderTest().name} as its proxy`, () => {
  const command = proxyUnderTest();
  let hub: RunningJupyterHub;
  let alice: HttpClient;
  let proxyPid = 0;
  let serverPids: number[] = [];

  const routes = async (): Promise<Record<string, RouteData>> => {
    const response = await fetch(`${hub.proxyApiUrl}/api/routes`, { headers: { Authorization: `token ${hub.proxyToken}` } });
    assert.equal(response.status, 200);
    return (await response.json()) as Record<string, RouteData>;
  };
  const adminApi = (path: string, init: RequestInit = {}) =>
    fetch(`${hub.apiUrl}${path}`, { ...init, headers: { Authorization: `token ${hub.token}` } });

  before(async () => {
    hub = await startJupyterHub({
      proxyCommand: command.argv,
      // Debian's Python has the classic Notebook 6 but neither JupyterLab nor nbclassic, so the
      // default jupyter_server app serves no page to land on (Lectern's spawner makes this choice
      // itself; JupyterHub needs telling).
      spawnerEnvironment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' },
      startTimeoutMs: 90_000,
    });
    alice = new HttpClient(hub.url.replace(/\/$/, ''));
  });

  after(async () => {
    if (!hub) return;
    await hub.stop();
    assert.deepEqual(hub.processes(), [], 'no process of the hub is left');
    assert.ok(proxyPid === 0 || !running(proxyPid), `the proxy (pid ${proxyPid}) is gone`);
    for (const pid of serverPids) assert.ok(!running(pid), `the singleuser server (pid ${pid}) is gone`);
  });

  it('is the proxy JupyterHub started, serving the hub as its default route', async () => {
    const wanted = command.argv.slice(1).join(' ');
    const proxy = hub.processes().find((p) => p.argv.join(' ').includes(wanted));
    assert.ok(proxy, `a process running ${wanted}: ${JSON.stringify(hub.processes())}`);
    proxyPid = proxy.pid;
    assert.ok(proxy.argv.includes('--error-target'), 'JupyterHub passed CHP’s options');
    assert.ok(!proxy.argv.join(' ').includes(hub.proxyToken), 'the token is not on the command line');
    const table = await routes();
    assert.ok(table['/'], `the hub's route: ${JSON.stringify(table)}`);
    assert.match(table['/']?.target ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('logs a user in through the proxy’s public port', async () => {
    const response = await alice.logIn(USER, 'any-password-will-do');
    assert.equal(response.status, 302, await response.text());
    assert.ok(alice.cookie('jupyterhub-session-id'), 'JupyterHub set its session cookie');
  });

  it('spawns her jupyterhub-singleuser and lands her in it after the OAuth exchange', async () => {
    const spawned = await alice.follow('/hub/spawn');
    assert.ok([200, 302].includes(spawned.response.status), spawned.hops.map((h) => `${h.status} ${h.url}`).join('\n'));
    await waitFor('her server to be ready', 60_000, async () => {
      const model = (await (await adminApi(`/users/${USER}`)).json()) as { servers?: Record<string, { ready?: boolean }> };
      return model.servers?.['']?.ready === true;
    });
    const { response, hops } = await alice.follow(`/user/${USER}/`);
    // A fast start lands her in her server on the spawn request itself: the OAuth exchange is then
    // on that first journey, not this one.
    const visited = [...spawned.hops, ...hops].map((hop) => new URL(hop.url).pathname);
    assert.equal(response.status, 200, hops.map((h) => `${h.status} ${h.url}`).join('\n'));
    assert.ok(visited.includes('/hub/api/oauth2/authorize'), `went through OAuth: ${visited.join(' → ')}`);
    assert.ok(visited.includes(`/user/${USER}/oauth_callback`), visited.join(' → '));
    assert.match(visited.at(-1) ?? '', new RegExp(`^/user/${USER}/`));
    await response.arrayBuffer();
    serverPids = hub.processes().filter((p) => p.argv.some((arg) => arg.includes('jupyterhub-singleuser'))).map((p) => p.pid);
    assert.equal(serverPids.length, 1, JSON.stringify(hub.processes()));
  });

  it('lists her files and runs print(6*7) in a kernel over a websocket, through the proxy', async () => {
    const startedAt = Date.now();
    const contents = await alice.request(`/user/${USER}/api/contents`);
    assert.equal(contents.status, 200);
    assert.equal(((await contents.json()) as { type: string }).type, 'directory');

    const xsrf = alice.cookie('_xsrf');
    assert.ok(xsrf, 'Jupyter issued an XSRF cookie');
    const started = await alice.request(`/user/${USER}/api/kernels`, {
      method: 'POST',
      headers: { 'X-XSRFToken': xsrf, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'python3' }),
    });
    assert.equal(started.status, 201, await started.clone().text());
    const kernel = (await started.json()) as { id: string };
    const output = await runCode(alice, `/user/${USER}/api/kernels/${kernel.id}/channels`, 'print(6*7)');
    assert.equal(output.trim(), '42');

    const route = (await routes())[`/user/${USER}`];
    assert.ok(route, 'her route is in the table');
    // A proxy that counts activity on successful responses has moved it since the route was added.
    const activity = Date.parse(route.last_activity ?? '');
    assert.ok(activity >= startedAt - 1, `last_activity ${route.last_activity} moved with her requests`);
  });

  it('lists her route with the data JupyterHub gave it', async () => {
    const route = (await routes())[`/user/${USER}`];
    assert.ok(route);
    assert.equal(route.user, USER);
    assert.equal(route.server_name, '');
    assert.equal(route.jupyterhub, true);
    assert.match(route.target ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(route.last_activity ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ms precision and Z, as JupyterHub parses it');
  });

  it('loses her route when JupyterHub stops her server', async () => {
    const stopped = await adminApi(`/users/${USER}/server`, { method: 'DELETE' });
    assert.ok([202, 204].includes(stopped.status), `DELETE answered ${stopped.status}`);
    await waitFor('her route to be removed', 30_000, async () => !(`/user/${USER}` in (await routes())));
    await waitFor('her server process to exit', 30_000, async () => serverPids.every((pid) => !running(pid)));
    const { response } = await alice.follow(`/user/${USER}/api/contents`);
    assert.notEqual(response.status, 200, 'her server no longer answers through the proxy');
    await response.arrayBuffer();
  });
});

/**
 * Whether `pid` is a live process. A zombie counts as gone: the proxy and the servers are
 * JupyterHub's children, and once it has exited nobody may be left to reap them.
 */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `check` every 250 ms until it is true, or fails after `timeoutMs`. */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}
