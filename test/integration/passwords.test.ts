/**
 * Getting a student back in (issue 6): the teacher resets a forgotten password, which locks out
 * whoever knew the old one; the student logs in with the temporary password and must choose their
 * own. Also `lectern users reset-password`, through a running hub and with none, and reserved names.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { HttpClient } from '../helpers/http-client.js';
import { projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';

const CLI = join(projectRoot(), 'dist/server/cli/main.js');
const TEMPORARY = /^[a-z]+-[a-z]+-[a-z]+-\d\d$/;

/** Runs `lectern …` without blocking this process, which may be hosting the hub it talks to. */
async function lectern(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, LECTERN_CONFIG: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const json = (method: string, body?: unknown): RequestInit => ({
  method,
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  headers: { 'Content-Type': 'application/json' },
});

/** Sends the change-password form as the page would. */
function changePassword(client: HttpClient, fields: Record<string, string>, next = '/hub/home'): Promise<Response> {
  return client.request(`/hub/change-password?next=${encodeURIComponent(next)}`, {
    method: 'POST',
    body: new URLSearchParams(fields),
    headers: { Origin: client.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
  });
}

describe('password resets and changes', () => {
  let t: TestHub;
  before(async () => {
    // An admin called `admin`, as JupyterHub configs often have: a reserved name, from before.
    t = await startTestHub({ adminUsers: ['admin'] });
    await t.addUser('alice', 'alice-password-1');
    await t.addUser('bob', 'bob-password-1');
  });
  after(() => t.stop());

  async function tokenOf(user: string): Promise<string> {
    const created = await t.api(`/users/${user}/tokens`, json('POST', { note: 'laptop script' }));
    assert.equal(created.status, 201);
    return ((await created.json()) as { token: string }).token;
  }
  const asToken = (token: string, path: string, init: RequestInit = {}) =>
    fetch(`${t.hub.url}hub/api${path}`, { ...init, headers: { Authorization: `token ${token}`, ...(init.headers as object) } });

  it('a reset locks out the old password, her open session and her token; the temporary password leads to the change page', async () => {
    const open = t.client();
    assert.equal((await open.logIn('alice', 'alice-password-1')).status, 302);
    assert.equal((await open.request('/hub/home')).status, 200);
    const token = await tokenOf('alice');
    assert.equal((await asToken(token, '/user')).status, 200);

    const reset = await t.api('/lectern/users/alice/password-reset', { method: 'POST' });
    assert.equal(reset.status, 200);
    assert.equal(reset.headers.get('cache-control'), 'no-store');
    const { name, password, mustChange } = (await reset.json()) as { name: string; password: string; mustChange: boolean };
    assert.deepEqual([name, mustChange], ['alice', true]);
    assert.match(password, TEMPORARY);
    assert.equal(t.logLines.some((line) => line.includes(password)), false, 'the temporary password is never logged');

    const next = await open.request('/hub/home');
    assert.equal(next.status, 302);
    assert.match(next.headers.get('location') ?? '', /^\/hub\/login\?next=/, 'the open session has ended');
    assert.equal((await asToken(token, '/user')).status, 403, 'her API token is revoked');
    assert.equal((await t.client().logIn('alice', 'alice-password-1')).status, 403, 'the old password fails');

    const student = t.client();
    const login = await student.logIn('alice', password);
    assert.equal(login.status, 302);
    assert.match(login.headers.get('location') ?? '', /^\/hub\/change-password\?next=/);
    const elsewhere = t.client();
    assert.equal((await elsewhere.logIn('alice', password)).status, 302);

    for (const page of ['/hub/home', '/hub/spawn', '/hub/']) {
      const answer = await student.request(page);
      assert.equal(answer.status, 302, page);
      assert.equal(answer.headers.get('location'), `/hub/change-password?next=${encodeURIComponent(page)}`, page);
    }
    // Nor does a running jupyterhub-singleuser let her in through its OAuth exchange.
    const authorize = await student.request('/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice&response_type=code');
    assert.equal(authorize.status, 302);
    assert.match(authorize.headers.get('location') ?? '', /^\/hub\/change-password\?next=%2Fhub%2Fapi%2Foauth2%2Fauthorize/);
    const api = await student.request('/hub/api/user', { headers: { 'Sec-Fetch-Site': 'same-origin' }, referer: '/hub/home' });
    assert.equal(api.status, 200, 'API calls are not pages: they are not redirected');
    const form = await student.request('/hub/change-password?next=%2Fhub%2Fhome');
    assert.equal(form.status, 200);
    const page = await form.text();
    assert.match(page, /Your teacher gave you a temporary password/);
    assert.doesNotMatch(page, /name="current"/, 'she has just typed the temporary password: it is not asked again');

    const typo = await changePassword(student, { password: 'alice-own-pass', confirm: 'alice-own-pas' });
    assert.equal(typo.status, 400);
    assert.match(await typo.text(), /not the same/);
    const same = await changePassword(student, { password, confirm: password });
    assert.equal(same.status, 400, 'keeping the temporary password is not choosing one');
    assert.match(await same.text(), /must be different from the one you have now/);
    const forged = await student.request('/hub/change-password', {
      method: 'POST',
      body: new URLSearchParams({ password: 'chosen-by-evil', confirm: 'chosen-by-evil' }),
      headers: { Origin: 'http://evil.example', 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(forged.status, 403, 'another site cannot send the form');

    const changed = await changePassword(student, { password: 'alice-own-pass', confirm: 'alice-own-pass' });
    assert.equal(changed.status, 303);
    assert.equal(changed.headers.get('location'), '/hub/home');
    assert.equal((await student.request('/hub/home')).status, 200, 'this session stays, and pages open again');
    assert.equal((await elsewhere.request('/hub/home')).status, 302, 'her other sessions have ended');
    assert.equal((await t.client().logIn('alice', password)).status, 403, 'the temporary password is gone');
    const again = await t.client().logIn('alice', 'alice-own-pass');
    assert.equal(again.headers.get('location'), '/hub/spawn', 'no more detour through the change page');
  });

  it('a student changes their own password from the home page', async () => {
    const bob = t.client();
    await bob.logIn('bob', 'bob-password-1');
    assert.match(await (await bob.request('/hub/home')).text(), /href="\/hub\/change-password"/);
    const form = await (await bob.request('/hub/change-password')).text();
    assert.match(form, /Current password/);
    assert.doesNotMatch(form, /Your teacher reset/);
    const changed = await changePassword(bob, { current: 'bob-password-1', password: 'bob-password-2', confirm: 'bob-password-2' }, '/hub/spawn');
    assert.equal(changed.headers.get('location'), '/hub/spawn');
    assert.equal((await t.client().logIn('bob', 'bob-password-2')).status, 302);
  });

  it('only someone who may change the account resets its password', async () => {
    const bob = await tokenOf('bob');
    assert.equal((await asToken(bob, '/lectern/users/alice/password-reset', { method: 'POST' })).status, 403);
    assert.equal((await asToken(bob, '/lectern/users/bob/password-reset', { method: 'POST' })).status, 403, 'not even their own');
    assert.equal((await t.api('/lectern/users/nobody-here/password-reset', { method: 'POST' })).status, 404);
    assert.equal((await t.api('/lectern/users/bob/password-reset', json('POST', { mustChange: 'yes' }))).status, 400);
  });

  it('refuses reserved names for new accounts; an existing account with one still logs in', async () => {
    const root = await t.api('/users/root', { method: 'POST' });
    assert.equal(root.status, 400);
    assert.match(((await root.json()) as { message: string }).message, /"root" is reserved/);
    const admin = t.hub.initialAccounts.find((account) => account.name === 'admin');
    assert.ok(admin);
    const teacher = t.client();
    assert.equal((await teacher.logIn('admin', admin.password)).status, 302);
    assert.equal((await teacher.request('/hub/home')).status, 200);
  });

  it('`lectern users reset-password` goes through the running hub', async () => {
    const result = await lectern(['users', 'reset-password', 'Bob', '--data-dir', t.dataDir]);
    assert.equal(result.code, 0, result.stderr);
    const password = /^New password for bob: (\S+)$/m.exec(result.stdout)?.[1] ?? '';
    assert.match(password, TEMPORARY);
    assert.match((await t.client().logIn('bob', password)).headers.get('location') ?? '', /^\/hub\/change-password/);
  });
});

describe('`lectern users reset-password` with no hub running', () => {
  it('resets the password in the data dir, for a teacher locked out of the admin account', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lectern-reset-'));
    const missing = await lectern(['users', 'reset-password', 'teacher', '--data-dir', dataDir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such user: teacher\. See the accounts with: lectern users list/);

    // The hub's first start creates `teacher`, whose password the teacher then loses.
    await (await startTestHub({ dataDir })).hub.dispose();
    const result = await lectern(['users', 'reset-password', 'teacher', '--data-dir', dataDir]);
    assert.equal(result.code, 0, result.stderr);
    const password = /^New password for teacher: (\S+)$/m.exec(result.stdout)?.[1] ?? '';
    assert.match(password, TEMPORARY);
    assert.match(result.stdout, /shown only this once/);

    const t = await startTestHub({ dataDir });
    try {
      const login = await t.client().logIn('teacher', password);
      assert.equal(login.status, 302);
      assert.match(login.headers.get('location') ?? '', /^\/hub\/change-password/);
    } finally {
      await t.stop();
    }
  });
});
