/**
 * The users API's hot reads, `GET /hub/api/users` and `GET /hub/api/users/{name}`: the hub answers
 * them ahead of express (server/hub/api/fast-lane.ts) and keeps their answers until something they
 * are made of changes (answer-cache.ts). Neither may be visible to a client:
 *
 * - Every request is answered exactly as express answers it, whoever asks and however. A conditional
 *   request (`If-Modified-Since`) is one the fast lane leaves to express, so each row is sent both
 *   ways and the two answers compared: status, headers (but `Date`) and body.
 * - A change shows in the very next answer: each row of the second table reads the answers once (so
 *   they are kept), makes one change through the API, and checks the next answers show it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';
import { startServer } from '../helpers/student-server.js';

const json = (body: unknown): RequestInit => ({ body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
const WRAPPED = { Accept: 'application/jupyterhub-pagination+json' };
/** Express serves conditional requests; with no `Last-Modified` to compare, it answers them in full. */
const VIA_EXPRESS = { 'If-Modified-Since': 'Wed, 21 Oct 2015 07:28:00 GMT' };

interface UserModel {
  name: string;
  admin?: boolean;
  last_activity?: string | null;
  server?: string | null;
  servers?: Record<string, { ready: boolean }>;
}

describe('the users API’s hot reads', () => {
  let t: TestHub;
  /** Tokens by caller; each reaches the API as `Authorization: token …`. */
  const tokens: Record<string, string> = {};
  let loginCookie = '';

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.hub.url}hub/api${path}`, { headers });
  const as = (caller: string, extra: Record<string, string> = {}) => ({ Authorization: `token ${tokens[caller]}`, ...extra });
  const names = async (path: string, headers: Record<string, string>) => ((await (await get(path, headers)).json()) as UserModel[]).map((user) => user.name);
  const model = async (path: string, headers: Record<string, string> = as('admin')) => {
    const response = await get(path, headers);
    return { status: response.status, body: (await response.json()) as UserModel };
  };

  before(async () => {
    t = await startTestHub({
      ...fakeServer('ok'),
      roles: [{ name: 'class-helper', description: 'Reads the students of class 7b', scopes: ['read:users!group=7b', 'list:users!group=7b'], users: ['tara'] }],
    });
    // gil's token is used once only, by the activity row.
    for (const name of ['alice', 'bob', 'tara', 'gil']) await t.addUser(name, `${name}-password-1`);
    await t.addUser('teach', 'teach-password-1', true);
    assert.equal((await t.api('/groups/7b', { method: 'POST', ...json({ users: ['alice'] }) })).status, 201);
    for (const name of ['alice', 'tara', 'teach', 'gil']) {
      const response = await t.api(`/users/${name}/tokens`, { method: 'POST', ...json({}) });
      tokens[name] = ((await response.json()) as { token: string }).token;
    }
    const limited = await t.api('/users/alice/tokens', { method: 'POST', ...json({ scopes: ['read:users:name!user=alice'] }) });
    tokens.limited = ((await limited.json()) as { token: string }).token;
    tokens.admin = ADMIN_TOKEN;
    const teacher = t.client();
    await teacher.logIn('teach', 'teach-password-1');
    loginCookie = teacher.cookieHeader('/hub/api/users');
    assert.notEqual(loginCookie, '');
  });
  after(() => t.stop());

  describe('answers as express does, whoever asks and however', () => {
    const cookie = () => ({ Cookie: loginCookie });
    const rows: [why: string, path: string, headers: () => Record<string, string>][] = [
      ['the admin service lists everyone', '/users', () => as('admin')],
      ['pages, wrapped, with the next page’s address', '/users?offset=1&limit=2', () => as('admin', WRAPPED)],
      ['the last page has no next one', '/users?offset=4', () => as('admin', WRAPPED)],
      ['a page as a bare list', '/users?offset=2&limit=1', () => as('admin')],
      ['a limit past the most a page holds', '/users?limit=500', () => as('admin')],
      ['offset and limit must be integers (400)', '/users?limit=ten', () => as('admin')],
      ['by state', '/users?state=inactive', () => as('admin')],
      ['an unknown state (400)', '/users?state=sleeping', () => as('admin')],
      ['a state given twice (400)', '/users?state=active&state=ready', () => as('admin')],
      ['by name', '/users?name_filter=AL', () => as('admin')],
      ['with stopped servers', '/users?include_stopped_servers=1', () => as('admin')],
      ['a helper lists only their class', '/users', () => as('tara')],
      ['a student may not list (403)', '/users', () => as('alice')],
      ['a token limited to names may not list (403)', '/users', () => as('limited')],
      ['no credentials (403)', '/users', () => ({})],
      ['a token that is not one (403)', '/users', () => ({ Authorization: 'token not-a-real-token-0123456789' })],
      ['a teacher’s cookie from the hub’s own page', '/users', () => ({ ...cookie(), Origin: t.origin })],
      ['a teacher’s cookie, referred by a hub page', '/users', () => ({ ...cookie(), Referer: `${t.origin}/hub/admin` })],
      ['a teacher’s cookie sent by another site (403)', '/users', () => ({ ...cookie(), Origin: 'http://evil.example' })],
      ['a teacher’s cookie with no sign of where it came from (403)', '/users', () => cookie()],
      ['two login cookies: logged out, both cleared (403)', '/users', () => ({ Cookie: `${loginCookie}; lectern-session=planted`, Origin: t.origin })],
      ['one user, to the admin', '/users/alice', () => as('admin')],
      ['one user with stopped servers', '/users/alice?include_stopped_servers=true', () => as('admin')],
      ['a user who does not exist (404)', '/users/nobody', () => as('admin')],
      ['a name with an encoded slash (404)', '/users/a%2Fb', () => as('admin')],
      ['a name that does not decode (400)', '/users/%E0%A4%A', () => as('admin')],
      ['a student reads themselves', '/users/alice', () => as('alice')],
      ['a student reading a classmate (404)', '/users/bob', () => as('alice')],
      ['a helper reads a student of their class', '/users/alice', () => as('tara')],
      ['a helper reading a student of another class (404)', '/users/bob', () => as('tara')],
      ['a token limited to a name gets the name only', '/users/alice', () => as('limited')],
      ['a teacher’s cookie from the hub’s own page, one user', '/users/bob', () => ({ ...cookie(), Origin: t.origin })],
      ['no credentials, one user (403)', '/users/alice', () => ({})],
    ];
    for (const [why, path, headers] of rows) {
      it(`${why}: GET ${path}`, async () => {
        // Express's answer second: a caller's first request may move their last_activity, which both then show.
        const fast = await get(path, headers());
        const viaExpress = await get(path, { ...headers(), ...VIA_EXPRESS });
        const shown = (response: Response) => [...response.headers].filter(([name]) => name !== 'date');
        assert.equal(fast.status, viaExpress.status);
        assert.deepEqual(shown(fast), shown(viaExpress));
        assert.equal(await fast.text(), await viaExpress.text());
      });
    }
  });

  describe('shows every change in the very next answer', () => {
    const rows: [change: string, make: () => Promise<unknown>, check: () => Promise<void>][] = [
      [
        'an account created',
        () => t.api('/users/carol', { method: 'POST', ...json({}) }),
        async () => {
          assert.ok((await names('/users', as('admin'))).includes('carol'));
          assert.equal((await model('/users/carol')).status, 200);
        },
      ],
      [
        'accounts created together',
        () => t.api('/users', { method: 'POST', ...json({ usernames: ['dan', 'erin'] }) }),
        async () => assert.deepEqual((await names('/users', as('admin'))).slice(-2), ['dan', 'erin']),
      ],
      [
        'an account renamed',
        () => t.api('/users/carol', { method: 'PATCH', ...json({ name: 'caroline' }) }),
        async () => {
          const listed = await names('/users', as('admin'));
          assert.ok(listed.includes('caroline') && !listed.includes('carol'));
          assert.equal((await model('/users/carol')).status, 404);
          assert.equal((await model('/users/caroline')).status, 200);
        },
      ],
      [
        'an account made a teacher',
        () => t.api('/users/dan', { method: 'PATCH', ...json({ admin: true }) }),
        async () => assert.equal((await model('/users/dan')).body.admin, true),
      ],
      [
        'a student added to the helper’s class',
        () => t.api('/groups/7b/users', { method: 'POST', ...json({ users: ['bob'] }) }),
        async () => {
          assert.deepEqual(await names('/users', as('tara')), ['alice', 'bob']);
          assert.equal((await model('/users/bob', as('tara'))).status, 200);
        },
      ],
      [
        'an account deleted',
        () => t.api('/users/erin', { method: 'DELETE' }),
        async () => {
          assert.ok(!(await names('/users', as('admin'))).includes('erin'));
          assert.equal((await model('/users/erin')).status, 404);
        },
      ],
      [
        'a server started',
        () => startServer(t.api, '/users/bob/server'),
        async () => {
          const { body } = await model('/users/bob');
          assert.equal(body.server, '/user/bob/');
          assert.equal(body.servers?.['']?.ready, true);
          assert.deepEqual(await names('/users?state=ready', as('admin')), ['bob']);
        },
      ],
      [
        'a server stopped',
        () => t.api('/users/bob/server', { method: 'DELETE' }),
        async () => {
          assert.equal((await model('/users/bob')).body.server, null);
          assert.deepEqual(await names('/users?state=active', as('admin')), []);
        },
      ],
      [
        'a student’s first request through the API (activity)',
        async () => {
          assert.equal((await model('/users/gil')).body.last_activity, null);
          await get('/users/gil', as('gil'));
        },
        async () => {
          assert.notEqual((await model('/users/gil')).body.last_activity, null);
          assert.notEqual((await model('/users/gil', as('gil'))).body.last_activity, null);
        },
      ],
    ];
    for (const [change, make, check] of rows) {
      it(change, async () => {
        // Read first, so each answer is kept and the change has a kept answer to replace.
        for (const [path, caller] of [['/users', 'admin'], ['/users', 'tara'], ['/users?state=ready', 'admin'], ['/users?state=active', 'admin']] as const) {
          await get(path, as(caller));
        }
        for (const name of ['alice', 'bob', 'carol', 'caroline', 'dan', 'erin', 'gil']) {
          await get(`/users/${name}`, as('admin'));
          await get(`/users/${name}`, as('tara'));
        }
        await make();
        await check();
      });
    }
  });
});
