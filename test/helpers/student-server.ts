/**
 * A student's way into their own server, as a browser takes it: the hub starts it (the progress
 * page's event stream while it starts), the browser follows the redirects into it (OAuth with
 * jupyterhub-singleuser, the gate's cookie for a plain server), then starts kernels as a notebook
 * page does.
 */
import assert from 'node:assert/strict';
import { readEvents, type HttpClient, type Hop } from './http-client.js';

/** Calls the hub's REST API at a path under /hub/api (a test hub's `api`, or one with another token). */
type ApiCall = (path: string, init?: RequestInit) => Promise<Response>;

/**
 * Starts a server through the REST API and waits until it is ready, accepting what a correct hub
 * may answer: 201 (ready), or 202 (still starting, as JupyterHub answers after its slow-spawn
 * timeout on a loaded machine), then its progress until it is ready.
 */
export async function startServer(api: ApiCall, serverPath: string): Promise<void> {
  const started = await api(serverPath, { method: 'POST' });
  assert.ok([201, 202].includes(started.status), `POST ${serverPath}: ${started.status} ${await started.text()}`);
  if (started.status === 201) return;
  const events = await readEvents(await api(`${serverPath}/progress`), (event) => Boolean(event.ready || event.failed));
  assert.equal(events.at(-1)?.ready, true, JSON.stringify(events.at(-1)));
}

/**
 * Starts the user's server from the hub (at `base`, the hub's base URL) and follows the browser's
 * way into it. `server` is the same browser at the server's own origin, where its pages and API are.
 */
export async function startAndOpen(client: HttpClient, user: string, base = '/'): Promise<{ response: Response; hops: Hop[]; server: HttpClient }> {
  let hops: Hop[];
  let response: Response;
  const spawn = await client.follow(`${base}hub/spawn`);
  if (spawn.hops.some((hop) => hop.url.includes(`${base}hub/spawn-pending/${user}`))) {
    const stream = await client.request(`${base}hub/api/users/${user}/server/progress`, { referer: `${base}hub/spawn-pending/${user}` });
    const events = await readEvents(stream, (event) => Boolean(event.ready || event.failed));
    assert.equal(events.at(-1)?.ready, true, JSON.stringify(events.at(-1)));
    const opened = await client.follow(`${base}hub/spawn-pending/${user}`);
    ({ response } = opened);
    hops = [...spawn.hops, ...opened.hops];
  } else {
    ({ response, hops } = spawn);
  }
  return { response, hops, server: client.at(await client.serverOrigin(user)) };
}

/**
 * Starts a python3 kernel in the server at `prefix` (`/user/alice/`), as a notebook page does: with
 * its Origin, and with Jupyter's XSRF token when the server issued one (jupyterhub-singleuser does).
 */
export async function startKernel(client: HttpClient, prefix: string): Promise<string> {
  const xsrf = client.cookie('_xsrf');
  const response = await client.request(`${prefix}api/kernels`, {
    method: 'POST',
    headers: { Origin: client.origin, 'Content-Type': 'application/json', ...(xsrf ? { 'X-XSRFToken': xsrf } : {}) },
    body: JSON.stringify({ name: 'python3' }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { id: string }).id;
}
