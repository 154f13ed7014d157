/**
 * The REST API's Lectern-specific behaviour and the guarantees around it: roles from the config
 * file, all-or-nothing changes, the password extension, named servers, renames and deletes that keep
 * a student's work, proxy resync and shutdown.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readEvents } from '../helpers/http-client.js';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';
import { startServer } from '../helpers/student-server.js';

const json = (body: unknown): RequestInit => ({ body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

async function tokenFor(t: TestHub, user: string, body: unknown = {}): Promise<string> {
  const response = await t.api(`/users/${user}/tokens`, { method: 'POST', ...json(body) });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { token: string }).token;
}

function as(t: TestHub, token: string) {
  return (path: string, init: RequestInit = {}) =>
    fetch(`${t.hub.url}hub/api${path}`, { ...init, headers: { Authorization: `token ${token}`, ...(init.headers as object) } });
}

describe('REST API', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({
      ...fakeServer('ok', { allowNamedServers: true, namedServerLimitPerUser: 2 }),
      roles: [{ name: 'class-helper', description: 'Reads the students of class 7b', scopes: ['read:users!group=7b', 'list:users!group=7b'], users: ['tara'] }],
    });
    for (const name of ['alice', 'bob', 'tara']) await t.addUser(name, `${name}-password-1`);
    assert.equal((await t.api('/groups/7b', { method: 'POST', ...json({ users: ['alice'] }) })).status, 201);
  });
  after(() => t.stop());

  it('refuses a token lifetime no date can hold with a 400 that says how long a token may last', async () => {
    const refused = await t.api('/users/alice/tokens', { method: 'POST', ...json({ expires_in: 1e308 }) });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { message: string }).message, /expires_in.*at most 3153600000 seconds \(100 years\); send null for one that never expires/);
    assert.equal((await t.api('/users/alice/tokens', { method: 'POST', ...json({ expires_in: 3153600000 }) })).status, 201);
  });

  it('grants a config role’s scopes: a helper sees only the members of their class', async () => {
    const tara = as(t, await tokenFor(t, 'tara'));
    const listed = (await (await tara('/users')).json()) as { name: string }[];
    assert.deepEqual(listed.map((user) => user.name), ['alice']);
    assert.equal((await tara('/users/alice')).status, 200);
    assert.equal((await tara('/users/bob')).status, 404);
    const model = (await (await t.api('/users/tara')).json()) as { roles: string[] };
    assert.deepEqual(model.roles.sort(), ['class-helper', 'user']);
  });

  it('changes nothing when part of a request is bad', async () => {
    const bulk = await t.api('/users', { method: 'POST', ...json({ usernames: ['newa', 'bad/name', 'newb'] }) });
    assert.equal(bulk.status, 400);
    assert.match(((await bulk.json()) as { message: string }).message, /Invalid username: bad\/name/);
    assert.equal((await t.api('/users/newa')).status, 404);

    const group = await t.api('/groups', { method: 'POST', ...json({ groups: ['g-new'], users: ['alice', 'nobody'] }) });
    assert.equal(group.status, 400);
    assert.equal((await t.api('/groups/g-new')).status, 404);

    const patch = await t.api('/users/bob', { method: 'PATCH', ...json({ admin: true, groups: ['no-such-group'] }) });
    assert.equal(patch.status, 400);
    assert.equal(((await (await t.api('/users/bob')).json()) as { admin: boolean }).admin, false);
  });

  it('sets a password (Lectern extension) and ends the sessions made with the old one', async () => {
    const client = t.client();
    await client.logIn('bob', 'bob-password-1');
    assert.equal((await client.request('/hub/home')).status, 200);
    const changed = await t.api('/lectern/users/bob/password', { method: 'PUT', ...json({ password: 'bob-password-2' }) });
    assert.equal(changed.status, 204);
    assert.equal((await client.request('/hub/home')).status, 302, 'the old session is gone');
    assert.equal((await t.client().logIn('bob', 'bob-password-1')).status, 403);
    assert.equal((await t.client().logIn('bob', 'bob-password-2')).status, 302);
    const short = await t.api('/lectern/users/bob/password', { method: 'PUT', ...json({ password: 'x' }) });
    assert.equal(short.status, 400);
    const bob = as(t, await tokenFor(t, 'bob'));
    assert.equal((await bob('/lectern/users/alice/password', { method: 'PUT', ...json({ password: 'alice-password-9' }) })).status, 403);
  });

  it('runs named servers side by side, within the limit, and removes them', async () => {
    const first = await t.api('/users/alice/servers/nb1', { method: 'POST', ...json({ course: 'physics' }) });
    assert.ok([201, 202].includes(first.status), `${first.status} ${await first.text()}`);
    await startServer(t.api, '/users/alice/servers/nb2');
    const third = await t.api('/users/alice/servers/nb3', { method: 'POST' });
    assert.equal(third.status, 400);
    assert.match(((await third.json()) as { message: string }).message, /maximum of 2 named servers/);

    const alice = t.client();
    await alice.logIn('alice', 'alice-password-1');
    const nb1 = alice.at(await alice.serverOrigin('alice', 'nb1'));
    assert.notEqual(nb1.origin, await alice.serverOrigin('alice', 'nb2'), 'each named server has an origin of its own');
    assert.match(await (await nb1.request('/user/alice/nb1/lab')).text(), /at \/user\/alice\/nb1\/lab/);
    const model = (await (await t.api('/users/alice')).json()) as { servers: Record<string, { url: string; user_options: object; ready: boolean }> };
    assert.deepEqual(Object.keys(model.servers), ['nb1', 'nb2']);
    assert.equal(model.servers.nb1?.url, '/user/alice/nb1/');
    assert.deepEqual(model.servers.nb1?.user_options, { course: 'physics' });
    const progress = await t.api('/users/alice/servers/nb1/progress');
    assert.equal((await readEvents(progress, (event) => Boolean(event.ready))).at(-1)?.url, '/user/alice/nb1/');

    assert.equal((await t.api('/users/alice/servers/nb1', { method: 'DELETE', ...json({ remove: true }) })).status, 204);
    const after = (await (await t.api('/users/alice?include_stopped_servers=1')).json()) as { servers: object };
    assert.deepEqual(Object.keys(after.servers), ['', 'nb2'], 'nb1 is gone; the default server is always listed');
    const listed = (await (await t.api('/users?include_stopped_servers=1&name_filter=alice')).json()) as { servers: object }[];
    assert.deepEqual(Object.keys(listed[0]?.servers ?? {}), ['', 'nb2'], 'the list honours include_stopped_servers too');
    assert.equal((await t.api('/users/alice/servers/nb1', { method: 'DELETE' })).status, 404);
    assert.equal((await t.api('/users/alice/servers/bad.name', { method: 'POST' })).status, 400);
    assert.equal((await t.api('/users/alice/server', { method: 'DELETE', ...json({ remove: true }) })).status, 400);
    assert.equal((await t.api('/users/alice/servers/nb2', { method: 'DELETE' })).status, 204);
  });

  it('lists the proxy routes and keeps running servers routed through a resync', async () => {
    await startServer(t.api, '/users/bob/server');
    const routes = (await (await t.api('/proxy')).json()) as Record<string, { target: string; data: { user?: string; hub?: boolean } }>;
    assert.equal(routes['/user/bob/']?.data.user, 'bob');
    assert.equal(routes['/']?.data.hub, true, 'the hub is listed as JupyterHub lists it');
    assert.equal((await t.api('/proxy', { method: 'POST' })).status, 200);
    const bobClient = t.client();
    await bobClient.logIn('bob', 'bob-password-2');
    assert.equal((await bobClient.at(await bobClient.serverOrigin('bob')).request('/user/bob/lab')).status, 200);
    assert.equal((await t.api('/users/bob/server', { method: 'DELETE' })).status, 204);
  });

  it('moves a renamed student’s notebooks with them, and keeps a deleted student’s work on disk', async () => {
    const folder = join(t.dataDir, 'users', 'bob', 'home');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'homework.ipynb'), '{}');
    const renamed = await t.api('/users/bob', { method: 'PATCH', ...json({ name: 'robert' }) });
    assert.equal(renamed.status, 200);
    assert.equal(((await renamed.json()) as { name: string }).name, 'robert');
    assert.ok(existsSync(join(t.dataDir, 'users', 'robert', 'home', 'homework.ipynb')));
    assert.equal((await t.client().logIn('robert', 'bob-password-2')).status, 302);

    assert.equal((await t.api('/users/robert', { method: 'DELETE' })).status, 204);
    assert.equal((await t.api('/users/robert')).status, 404);
    assert.ok(existsSync(join(t.dataDir, 'users', 'robert', 'home', 'homework.ipynb')), 'deleting an account never deletes work');
  });
});

describe('shutdown through the API', () => {
  it('answers 202, then stops every server and the hub', async () => {
    const t = await startTestHub(fakeServer('ok'));
    await t.addUser('alice', 'alice-password-1');
    await startServer(t.api, '/users/alice/server');
    const response = await t.api('/shutdown', { method: 'POST' });
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { message: 'Shutting down Hub' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await fetch(`${t.origin}/hub/health`).then(() => true, () => false))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await fetch(`${t.origin}/hub/health`).then(() => true, () => false), false, 'the hub has stopped');
    await t.stop();
  });
});
