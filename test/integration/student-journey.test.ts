/**
 * The walking skeleton, end to end with the real `jupyterhub-singleuser` (Debian's JupyterHub 3.0):
 * a student logs in over HTTP with a cookie jar, follows the redirects through the spawn, the
 * progress stream and the OAuth exchange to their own server, lists their files, starts a kernel and
 * runs code over its websocket through the proxy; another student is refused; the server stops and
 * its route is gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readEvents, type HttpClient } from '../helpers/http-client.js';
import { runCode } from '../helpers/kernel.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

describe('a student and their real Jupyter server', () => {
  let t: TestHub;
  let alice: HttpClient;

  before(async () => {
    t = await startTestHub();
    await t.addUser('alice', 'alice-password-1');
    await t.addUser('bob', 'bob-password-1');
    await t.addUser('teach', 'teacher-password-1', true);
    alice = t.client();
  });
  after(() => t.stop());

  it('sends an anonymous visitor of the hub URL to the login page', async () => {
    const { response, hops } = await t.client().follow('/');
    assert.equal(response.status, 200);
    assert.equal(hops.at(-1)?.url, `${t.origin}/hub/login?next=%2Fhub%2F`);
    const page = await response.text();
    assert.match(page, /name="username"/);
    assert.match(page, /name="password"/);
    assert.match(page, /name="viewport"/, 'the login page is usable on a phone');
    const css = await fetch(`${t.origin}/hub/static/lectern.css`);
    assert.equal(css.status, 200, 'the page has its stylesheet');
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
  });

  it('refuses a wrong password with the same page and no cookie', async () => {
    const client = t.client();
    const response = await client.logIn('alice', 'not-her-password');
    assert.equal(response.status, 403);
    assert.match(await response.text(), /Invalid username or password/);
    assert.equal(client.cookie('lectern-session'), undefined);
  });

  it('logs alice in with a scoped, HttpOnly, SameSite=Lax session cookie', async () => {
    const response = await alice.logIn('alice', 'alice-password-1', '/hub/');
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/hub/');
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('lectern-session='));
    assert.ok(setCookie);
    assert.match(setCookie, /Path=\/hub\//);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP: a Secure cookie would never be sent back');
  });

  it('starts her server, shows live progress, and lands her in Jupyter after the OAuth exchange', async () => {
    const spawn = await alice.follow('/hub/');
    const pending = spawn.hops.find((hop) => hop.url.includes('/hub/spawn-pending/alice'));
    if (pending) {
      // The progress page follows the event stream, as its script does in a browser.
      const stream = await alice.request('/hub/api/users/alice/server/progress', { referer: '/hub/spawn-pending/alice' });
      assert.equal(stream.status, 200);
      assert.equal(stream.headers.get('content-type'), 'text/event-stream');
      const events = await readEvents(stream, (event) => Boolean(event.ready || event.failed));
      assert.deepEqual(events.at(-1), {
        progress: 100,
        ready: true,
        message: 'Server ready at /user/alice/',
        html_message: 'Server ready at <a href="/user/alice/">/user/alice/</a>',
        url: '/user/alice/',
      });
    }
    const { response, hops } = await alice.follow('/hub/spawn-pending/alice');
    // A fast start lands her in her server on the first journey (within /hub/spawn's one-second
    // wait), so the OAuth exchange may be on either.
    const visited = [...spawn.hops, ...hops].map((hop) => new URL(hop.url).pathname);
    assert.ok(visited.includes('/hub/api/oauth2/authorize'), `went through OAuth: ${visited.join(' → ')}`);
    assert.ok(visited.includes('/user/alice/oauth_callback'));
    assert.equal(response.status, 200, `landed on ${hops.at(-1)?.url}`);
    const landed = new URL(hops.at(-1)!.url);
    assert.match(landed.pathname, /^\/user\/alice\/tree/);
    assert.notEqual(landed.origin, t.origin, 'her server is at an origin of its own');
    assert.equal(landed.hostname, new URL(t.origin).hostname, 'on the address she used, another port');
    assert.equal(landed.origin, await alice.serverOrigin('alice'));
    assert.ok(alice.cookie('jupyterhub-user-alice'), 'the server set its own login cookie');
  });

  it('lets her list her files and run code in a kernel over the websocket, through the proxy', async () => {
    const server = alice.at(await alice.serverOrigin('alice'));
    const contents = await server.request('/user/alice/api/contents');
    assert.equal(contents.status, 200);
    assert.equal(((await contents.json()) as { type: string }).type, 'directory');

    const xsrf = alice.cookie('_xsrf');
    assert.ok(xsrf, 'Jupyter issued an XSRF cookie');
    const started = await server.request('/user/alice/api/kernels', {
      method: 'POST',
      headers: { 'X-XSRFToken': xsrf, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'python3' }),
    });
    assert.equal(started.status, 201, await started.clone().text());
    const kernel = (await started.json()) as { id: string };

    const output = await runCode(server, `/user/alice/api/kernels/${kernel.id}/channels`, 'print(6*7)');
    assert.equal(output.trim(), '42');
  });

  it('refuses bob on alice’s server', async () => {
    const bob = t.client();
    await bob.logIn('bob', 'bob-password-1');
    const { response, hops } = await bob.follow('/user/alice/tree');
    assert.equal(response.status, 403, hops.map((h) => `${h.status} ${h.url}`).join('\n'));
    assert.ok(hops.some((hop) => hop.url.includes('/hub/api/oauth2/authorize')));
    const api = await bob.at(await bob.serverOrigin('alice')).request('/user/alice/api/contents');
    assert.equal(api.status, 403);
  });

  it('lets an admin open alice’s server after confirming, as JupyterHub asks', async () => {
    const teacher = t.client();
    await teacher.logIn('teach', 'teacher-password-1');
    const { response, hops } = await teacher.follow('/user/alice/tree');
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Open Server at \/user\/alice\/\?/);
    const confirmUrl = hops.at(-1)!.url;
    const confirmed = await teacher.request(confirmUrl, { method: 'POST', headers: { Origin: t.origin }, referer: confirmUrl });
    assert.equal(confirmed.status, 302);
    const landed = await teacher.follow(confirmed.headers.get('location')!);
    assert.equal(landed.response.status, 200, landed.hops.map((h) => `${h.status} ${h.url}`).join('\n'));
    assert.match(new URL(landed.hops.at(-1)!.url).pathname, /^\/user\/alice\/tree/);
  });

  it('records the activity alice’s server reports to the hub', async () => {
    const model = (await (await t.api('/users/alice')).json()) as { last_activity: string | null };
    assert.match(model.last_activity ?? '', /^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it('sends an anonymous browser on alice’s server to log in, and refuses an anonymous API call', async () => {
    const anonymous = t.client();
    const { hops } = await anonymous.follow('/user/alice/tree');
    assert.ok(hops.some((hop) => hop.location?.startsWith('/hub/login?next=')));
    assert.equal((await anonymous.at(await anonymous.serverOrigin('alice')).request('/user/alice/api/contents')).status, 403);
  });

  it('stops her server: the route goes and her URL says the server is not running', async () => {
    const stopped = await t.api('/users/alice/server', { method: 'DELETE' });
    assert.equal(stopped.status, 204);
    const model = (await (await t.api('/users/alice')).json()) as { server: string | null; servers: object };
    assert.equal(model.server, null);
    assert.deepEqual(model.servers, {});
    const { response } = await alice.follow('/user/alice/tree');
    assert.equal(response.status, 424);
    assert.match(await response.text(), /Your server is not running/);
  });
});
