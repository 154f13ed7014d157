/**
 * The hub's login and API defences, from the security catalogue: session fixation (13), CSRF on
 * cookie-authenticated API calls and on login (4, 5), open redirects (1, 2), tokens only in
 * headers (20), and no secrets in the log (17).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';

describe('hub security', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub(fakeServer('ok'));
    await t.addUser('alice', 'alice-password-1');
    await t.addUser('teach', 'teacher-password-1', true);
  });
  after(() => t.stop());

  it('issues a new session id at every login and ignores a planted one', async () => {
    const client = t.client();
    client.cookies.set('lectern-session', { value: 'planted-by-attacker', path: '/hub/', attributes: '' });
    await client.logIn('alice', 'alice-password-1');
    const first = client.cookie('lectern-session');
    assert.ok(first && first !== 'planted-by-attacker');
    await client.logIn('alice', 'alice-password-1');
    const second = client.cookie('lectern-session');
    assert.ok(second && second !== first);

    const replay = t.client();
    replay.cookies.set('lectern-session', { value: first, path: '/hub/', attributes: '' });
    const home = await replay.request('/hub/home');
    assert.equal(home.status, 302, 'the session replaced at the second login no longer works');
    assert.match(home.headers.get('location') ?? '', /^\/hub\/login/);
  });

  it('refuses cookie-authenticated API writes from another site, and accepts them from its own pages', async () => {
    const teacher = t.client();
    await teacher.logIn('teach', 'teacher-password-1');
    const create = (name: string, headers: Record<string, string>) =>
      teacher.request(`/hub/api/users/${name}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: '{"admin":true}' });

    assert.equal((await create('mallory1', { Origin: 'http://evil.example' })).status, 403);
    assert.equal((await create('mallory2', { 'Sec-Fetch-Site': 'cross-site' })).status, 403);
    assert.equal((await create('mallory3', {})).status, 403, 'no evidence of origin: not trusted');
    assert.equal((await t.api('/users/mallory1')).status, 404, 'nothing was created');
    assert.equal((await create('carol', { Origin: t.origin })).status, 201);
  });

  it('refuses a login form posted from another site', async () => {
    const response = await t.client().request('/hub/login', {
      method: 'POST',
      headers: { Origin: 'http://evil.example', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'alice-password-1' }),
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.getSetCookie().length, 0);
  });

  it('never redirects off the hub after login', async () => {
    for (const next of ['https://evil', '//evil', '///evil/x', '\\\\evil/x', `${t.origin}//evil/`, '/\\evil']) {
      const response = await t.client().logIn('alice', 'alice-password-1', next);
      assert.equal(response.status, 302);
      assert.equal(response.headers.get('location'), '/hub/spawn', next);
    }
    const kept = await t.client().logIn('alice', 'alice-password-1', '/hub/home');
    assert.equal(kept.headers.get('location'), '/hub/home');
  });

  it('keeps trailing-slash and user-redirect paths on the hub', async () => {
    const slashes = await fetch(`${t.origin}//evil.com/`, { redirect: 'manual' });
    assert.match(slashes.headers.get('location') ?? '', /^\/hub\//);
    const alice = t.client();
    await alice.logIn('alice', 'alice-password-1');
    const redirect = await alice.request('/hub/user-redirect///evil');
    assert.equal(redirect.headers.get('location'), '/hub/spawn/alice?next=%2Fuser%2Falice%2Fevil');
  });

  it('escapes a hostile next parameter on the login page', async () => {
    const page = await (await fetch(`${t.origin}/hub/login?next=${encodeURIComponent('/hub/"><script>alert(1)</script>')}`)).text();
    assert.doesNotMatch(page, /<script>alert\(1\)/);
  });

  it('accepts API tokens only in the Authorization header', async () => {
    assert.equal((await fetch(`${t.origin}/hub/api/user?token=${ADMIN_TOKEN}`)).status, 403);
    assert.equal((await fetch(`${t.origin}/hub/api/user`, { headers: { Authorization: `bearer ${ADMIN_TOKEN}` } })).status, 200);
  });

  it('answers bad API input with a 4xx message, never a 500', async () => {
    const bad = await t.api('/users/dave', { method: 'POST', body: '{"admin": tru' });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { status: 400, message: 'Invalid JSON in body of request' });
    const unknown = await t.api('/users/dave', { method: 'POST', body: '{"admn": true}' });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { message: string }).message, /admn/);
    const huge = await t.api('/users/dave', { method: 'POST', body: JSON.stringify({ password: 'x'.repeat(2_000_000) }) });
    assert.equal(huge.status, 413);
    const badName = await t.api(`/users/${encodeURIComponent('<img src=x>')}`, { method: 'POST' });
    assert.equal(badName.status, 400);
    assert.equal((await t.api('/users/dave')).status, 404, 'nothing half-created');
  });

  it('logs no token, password or cookie', async () => {
    const alice = t.client();
    await alice.logIn('alice', 'alice-password-1');
    await fetch(`${t.origin}/hub/api/users?token=${ADMIN_TOKEN}`, { headers: { Referer: `${t.origin}/x?token=secret-in-referer` } });
    const log = t.logLines.join('\n');
    for (const secret of [ADMIN_TOKEN, 'alice-password-1', 'teacher-password-1', alice.cookie('lectern-session') ?? 'none', 'secret-in-referer']) {
      assert.equal(log.includes(secret), false, `the log contains ${secret.slice(0, 6)}…`);
    }
  });
});

describe('activity reports', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub();
    await t.addUser('alice', 'alice-password-1');
  });
  after(() => t.stop());

  const post = (body: unknown) =>
    t.api('/users/alice/activity', { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

  it('accepts JupyterHub’s report and only moves last_activity forward', async () => {
    const later = '2026-01-02T03:04:05.000Z';
    const response = await post({ last_activity: later, servers: { '': { last_activity: later } } });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '');
    assert.equal((await post({ last_activity: '2025-01-01T00:00:00Z' })).status, 200);
    const model = (await (await t.api('/users/alice')).json()) as { last_activity: string };
    assert.equal(model.last_activity, later);
  });

  it('refuses reports it cannot use, naming the problem', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /last_activity or servers/],
      [{ servers: { nope: { last_activity: '2026-01-01T00:00:00Z' } } }, /No such server 'nope' for user alice/],
      [{ last_activity: 'yesterday' }, /last_activity/],
      [{ last_activity: '2999-01-01T00:00:00Z' }, /more than an hour in the future/],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(((await response.json()) as { message: string }).message, message);
    }
  });
});
