/**
 * A group as a class (issue 6): "start class" and "end class" through
 * `/hub/api/lectern/groups/{name}/servers`, with small fake Jupyter servers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';
import { startServer } from '../helpers/student-server.js';

interface UserState {
  name: string;
  server: string | null;
  pending: string | null;
}

describe('starting and stopping a class', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({
      // Room for three servers: ann's and dan's run before class, so one classmate does not fit.
      ...fakeServer('ok', { activeServerLimit: 3 }),
      roles: [{ name: 'period-3-teacher', description: 'Runs period 3', scopes: ['servers!group=period-3'], users: ['tara'] }],
    });
    for (const name of ['ann', 'ben', 'cat', 'dan', 'tara']) await t.addUser(name, `${name}-password-1`);
    assert.equal((await t.api('/groups/period-3', { method: 'POST', body: JSON.stringify({ users: ['ann', 'ben', 'cat'] }) })).status, 201);
  });
  after(() => t.stop());

  const tokenOf = async (user: string): Promise<string> => {
    const created = await t.api(`/users/${user}/tokens`, { method: 'POST', body: '{}' });
    return ((await created.json()) as { token: string }).token;
  };
  const asToken = (token: string, path: string, method: string) =>
    fetch(`${t.hub.url}hub/api${path}`, { method, headers: { Authorization: `token ${token}` } });
  const users = async (): Promise<Map<string, UserState>> => {
    const list = (await (await t.api('/users')).json()) as UserState[];
    return new Map(list.map((user) => [user.name, user]));
  };
  /** Polls `GET /users` until every named user's server is in `state`. */
  const waitUntil = async (names: string[], state: 'running' | 'stopped') => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const now = await users();
      const done = names.every((name) => {
        const user = now.get(name);
        return state === 'running' ? user?.server !== null && user?.pending === null : user?.server === null && user?.pending === null;
      });
      if (done) return;
      if (Date.now() > deadline) throw new Error(`not all ${state}: ${JSON.stringify([...now.values()])}\n${t.logLines.filter((line) => /warn|error/i.test(line)).join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('refuses a caller who cannot start every member, starting no one', async () => {
    const ann = await tokenOf('ann');
    const refused = await asToken(ann, '/lectern/groups/period-3/servers', 'POST');
    assert.equal(refused.status, 403);
    const { message } = (await refused.json()) as { message: string };
    assert.match(message, /requires any of \[servers\] for every member of the class period-3\. Nothing was changed\./);
    assert.doesNotMatch(message, /ann|ben|cat/, 'names no member');
    assert.equal((await asToken(ann, '/lectern/groups/no-such-class/servers', 'POST')).status, 403, 'nor says which classes exist');
    assert.equal((await t.api('/lectern/groups/no-such-class/servers', { method: 'POST' })).status, 404);
    assert.equal((await asToken(ann, '/lectern/groups/period-3/servers', 'DELETE')).status, 403);
    await waitUntil(['ann', 'ben', 'cat'], 'stopped');
  });

  it('starts the class: queued at once, already running skipped, over the limit refused with a reason', async () => {
    for (const name of ['ann', 'dan']) await startServer(t.api, `/users/${name}/server`);
    const tara = await tokenOf('tara');
    const started = await asToken(tara, '/lectern/groups/period-3/servers', 'POST');
    assert.equal(started.status, 202);
    const body = (await started.json()) as { started: string[]; alreadyRunning: string[]; refused: { name: string; reason: string }[] };
    assert.deepEqual(body.started, ['ben']);
    assert.deepEqual(body.alreadyRunning, ['ann']);
    assert.deepEqual(body.refused.map((refusal) => refusal.name), ['cat']);
    assert.match(body.refused[0]?.reason ?? '', /The class is full.*Try again/);
    await waitUntil(['ann', 'ben', 'dan'], 'running');
    assert.equal((await users()).get('cat')?.server, null);
  });

  it('ends the class: every member’s server stops, and no one else’s', async () => {
    const tara = await tokenOf('tara');
    const stopped = await asToken(tara, '/lectern/groups/period-3/servers', 'DELETE');
    assert.equal(stopped.status, 202);
    assert.deepEqual(await stopped.json(), { stopping: ['ann', 'ben'], alreadyStopped: ['cat'] });
    await waitUntil(['ann', 'ben', 'cat'], 'stopped');
    await waitUntil(['dan'], 'running');

    // Their places are free again: the class starts as far as the limit allows.
    const again = (await (await t.api('/lectern/groups/period-3/servers', { method: 'POST' })).json()) as { started: string[] };
    assert.deepEqual(again.started, ['ann', 'ben']);
    await waitUntil(['ann', 'ben'], 'running');
  });

  it('starts and stops the students the teacher chose, by name', async () => {
    const json = (method: string, users: unknown) => ({ method, body: JSON.stringify({ users }) });
    const ann = await tokenOf('ann');
    const refused = await fetch(`${t.hub.url}hub/api/lectern/servers`, {
      method: 'POST',
      headers: { Authorization: `token ${ann}` },
      body: JSON.stringify({ users: ['ben'] }),
    });
    assert.equal(refused.status, 403, 'a student cannot start a classmate’s server');
    const missing = await t.api('/lectern/servers', json('POST', ['cat', 'nobody-here']));
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { message: string }).message, /No such user: nobody-here\. Nothing was changed\./);
    assert.equal((await t.api('/lectern/servers', json('POST', []))).status, 400);
    assert.equal((await t.api('/lectern/servers', json('POST', 'ann'))).status, 400);

    // ann, ben and dan run (the limit is three): stop ann and cat, then start cat and ben.
    const stopped = await t.api('/lectern/servers', json('DELETE', ['ann', 'cat']));
    assert.equal(stopped.status, 202);
    assert.deepEqual(await stopped.json(), { stopping: ['ann'], alreadyStopped: ['cat'] });
    await waitUntil(['ann'], 'stopped');
    const started = await t.api('/lectern/servers', json('POST', ['cat', 'ben']));
    assert.equal(started.status, 202);
    assert.deepEqual(await started.json(), { started: ['cat'], alreadyRunning: ['ben'], refused: [] });
    await waitUntil(['ben', 'cat', 'dan'], 'running');
  });
});
