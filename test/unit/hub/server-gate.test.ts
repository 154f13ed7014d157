// The gate in front of plain-mode servers, over a real database, real logins and tokens, and the
// real identity resolver; requests are small stand-ins carrying what the gate reads.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { IncomingMessage, type IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SESSION_COOKIE, startSession } from '../../../server/auth/sessions.js';
import { issueToken } from '../../../server/auth/tokens.js';
import { type Identity, IdentityResolver } from '../../../server/hub/identity.js';
import { SERVER_COOKIE, ServerGate } from '../../../server/hub/server-gate.js';
import { HubUrls } from '../../../server/hub/urls.js';
import { silentLogger } from '../../../server/logging/logger.js';
import type { GuardVerdict } from '../../../server/proxy/proxy.js';
import type { Route } from '../../../server/proxy/route-table.js';
import { Database } from '../../../server/store/database.js';
import { GroupRepository } from '../../../server/store/groups.js';
import { OAuthClientRepository } from '../../../server/store/oauth-clients.js';
import { SessionRepository } from '../../../server/store/sessions.js';
import { TokenRepository } from '../../../server/store/tokens.js';
import { type UserRecord, UserRepository } from '../../../server/store/users.js';

const HOST = 'hub.test:8000';
const ALICE = '/user/alice/';
const BOB = '/user/bob/';

/** What the gate reads of a request, and the raw header list the proxy forwards from. */
interface FakeRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

function fakeRequest(method: string, url: string, headers: Record<string, string> = {}): FakeRequest {
  const all = { host: HOST, ...headers };
  return { method, url, headers: { ...all }, rawHeaders: Object.entries(all).flat() };
}

function routeFor(prefix: string): Route {
  return { prefix: prefix.replace(/\/$/, ''), target: 'http://127.0.0.1:1', data: {}, lastActivity: 0 };
}

function newResponse(): ServerResponse {
  return new ServerResponse(new IncomingMessage(new Socket()));
}

function setCookies(res: ServerResponse): string[] {
  const header = res.getHeader('Set-Cookie');
  return Array.isArray(header) ? header : header === undefined ? [] : [String(header)];
}

/** The value of the gate cookie a response sets. */
function gateCookie(res: ServerResponse): string {
  const cookie = setCookies(res).find((line) => line.startsWith(`${SERVER_COOKIE}=`));
  assert.ok(cookie, 'a gate cookie was set');
  return (cookie.split(';')[0] as string).slice(SERVER_COOKIE.length + 1);
}

describe('ServerGate', () => {
  let root: string;
  let db: Database;
  let users: UserRepository;
  let sessions: SessionRepository;
  let tokens: TokenRepository;
  let groups: GroupRepository;
  let identities: IdentityResolver;
  let gate: ServerGate;
  const people = {} as Record<'alice' | 'bob' | 'teacher' | 'helper', UserRecord>;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lectern-gate-'));
    db = await Database.open(join(root, 'lectern.db'));
    users = new UserRepository(db);
    sessions = new SessionRepository(db);
    tokens = new TokenRepository(db);
    groups = new GroupRepository(db);
    identities = new IdentityResolver({
      users,
      groups,
      tokens,
      sessions,
      oauthClients: new OAuthClientRepository(db),
      // A teaching assistant may use the servers of the students in their group, and only those.
      roles: [{ name: 'helper', scopes: ['access:servers!group=class-a'], users: ['helper'], groups: [], services: [] }],
      secure: false,
      markDirty: () => db.markDirty(),
    });
    people.alice = users.create({ name: 'alice', admin: false, passwordHash: null });
    people.bob = users.create({ name: 'bob', admin: false, passwordHash: null });
    people.teacher = users.create({ name: 'teacher', admin: true, passwordHash: null });
    people.helper = users.create({ name: 'helper', admin: false, passwordHash: null });
    groups.addMember(groups.create('class-a').id, people.alice.id);
  });

  after(async () => {
    await db.close();
    await rm(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    gate = new ServerGate({ sessions, users, identities, urls: new HubUrls('/'), secure: false, log: silentLogger });
    gate.protect(ALICE, { owner: 'alice', serverName: '', token: 'alice-server-token' });
    gate.protect(BOB, { owner: 'bob', serverName: '', token: 'bob-server-token' });
  });

  /** A logged-in viewer, as the hub's pages see them. */
  function logIn(user: UserRecord): Identity {
    const { cookieValue } = startSession(sessions, user.id, 1);
    const identity = identities.fromCookie(fakeRequest('GET', '/hub/home', { cookie: `${SESSION_COOKIE}=${cookieValue}` }) as unknown as IncomingMessage);
    assert.ok(identity?.session);
    return identity;
  }

  /** Admits `viewer` to the server at `path` and returns the cookie the browser would get. */
  function admitted(viewer: Identity, path = `${ALICE}lab`): string {
    const res = newResponse();
    assert.equal(gate.admit(res, viewer, path), true);
    return gateCookie(res);
  }

  function ask(req: FakeRequest, prefix = ALICE): GuardVerdict {
    return gate.guard(req as unknown as IncomingMessage, routeFor(prefix));
  }

  const refused = (status: number, message: RegExp) => (verdict: GuardVerdict) =>
    !verdict.forward && verdict.status === status && verdict.location === undefined && message.test(verdict.message);

  it('leaves a route it does not protect alone', () => {
    const req = fakeRequest('POST', '/user/carol/api/contents', { cookie: 'lectern-session=x', authorization: 'token mine', origin: 'http://evil.example' });
    assert.deepEqual(ask(req, '/user/carol/'), { forward: true });
    assert.equal(req.headers.cookie, 'lectern-session=x');
    assert.equal(req.headers.authorization, 'token mine');
    assert.equal(gate.isProtected('/user/carol/'), false);
    assert.equal(gate.isProtected(ALICE), true);
    assert.equal(gate.isProtected('/user/alice'), true, 'with or without the trailing slash');
  });

  it('sends a browser without a cookie to the hub page for the same path', () => {
    assert.deepEqual(ask(fakeRequest('GET', '/user/alice/lab?a=1')), { forward: false, status: 302, message: 'Log in to the hub first.', location: '/hub/user/alice/lab?a=1' });
    assert.equal((ask(fakeRequest('HEAD', '/user/alice')) as { location?: string }).location, '/hub/user/alice/');
    assert.equal((ask(fakeRequest('GET', '/user/alice/tree/api/x')) as { location?: string }).location, '/hub/user/alice/tree/api/x', 'only api right after the prefix is the API');
  });

  it('refuses API calls, other methods and websockets without a cookie with a 403', () => {
    const logInFirst = refused(403, /^Log in to the hub first\.$/);
    assert.ok(logInFirst(ask(fakeRequest('GET', '/user/alice/api/kernels'))));
    assert.ok(logInFirst(ask(fakeRequest('GET', '/user/alice/api?x=1'))));
    assert.ok(logInFirst(ask(fakeRequest('POST', '/user/alice/lab'))));
    assert.ok(logInFirst(ask(fakeRequest('GET', '/user/alice/api/kernels/k/channels', { upgrade: 'websocket' }))));
    assert.ok(logInFirst(ask(fakeRequest('POST', '/user/alice/api/contents', { cookie: `${SERVER_COOKIE}=made-up` }))));
  });

  it('forwards with a valid cookie: the server token as Authorization, Lectern’s cookies gone, others kept', () => {
    const cookie = admitted(logIn(people.alice));
    const req = fakeRequest('GET', '/user/alice/lab', {
      cookie: `_xsrf=abc; lectern-session=s3cret; ${SERVER_COOKIE}=${cookie}; theme=dark`,
      authorization: 'token something-else',
    });
    assert.deepEqual(ask(req), { forward: true });
    assert.equal(req.headers.authorization, 'token alice-server-token');
    assert.equal(req.headers.cookie, '_xsrf=abc; theme=dark');
    assert.deepEqual(req.rawHeaders, ['host', HOST, 'cookie', '_xsrf=abc; theme=dark', 'authorization', 'token alice-server-token']);

    const onlyOurs = fakeRequest('GET', '/user/alice/api/kernels', { cookie: `lectern-session=s3cret; ${SERVER_COOKIE}=${cookie}` });
    assert.deepEqual(ask(onlyOurs), { forward: true });
    assert.equal(onlyOurs.headers.cookie, undefined, 'an empty Cookie header is dropped');
    assert.deepEqual(onlyOurs.rawHeaders, ['host', HOST, 'authorization', 'token alice-server-token']);
  });

  it('accepts one valid cookie among several of the same name, but not a cookie for another server', () => {
    const viewer = logIn(people.teacher);
    const forBob = admitted(viewer, `${BOB}lab`);
    const forAlice = admitted(viewer);
    assert.deepEqual(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${forBob}; ${SERVER_COOKIE}=${forAlice}` })), { forward: true });
    assert.equal(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${forBob}` })).forward, false);
  });

  it('refuses a cookie once its login has ended', () => {
    const viewer = logIn(people.alice);
    const cookie = admitted(viewer);
    sessions.delete((viewer.session as { id: number }).id);
    assert.equal(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${cookie}` })).forward, false);
  });

  it('refuses a cookie once its user no longer has access to the server', () => {
    const viewer = logIn(people.helper);
    const cookie = admitted(viewer);
    const request = () => fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${cookie}` });
    assert.deepEqual(ask(request()), { forward: true });
    const classA = groups.find('class-a');
    assert.ok(classA);
    groups.removeMember(classA.id, people.alice.id);
    try {
      assert.equal(ask(request()).forward, false);
    } finally {
      groups.addMember(classA.id, people.alice.id);
    }
  });

  it('refuses cross-origin state changes and websockets even with a valid cookie', () => {
    const cookie = `${SERVER_COOKIE}=${admitted(logIn(people.alice))}`;
    const crossOrigin = refused(403, /^Cross-origin requests to a student's server are refused\.$/);
    assert.ok(crossOrigin(ask(fakeRequest('POST', '/user/alice/api/contents', { cookie, origin: 'http://evil.example' }))));
    assert.ok(crossOrigin(ask(fakeRequest('DELETE', '/user/alice/api/kernels/k', { cookie, 'sec-fetch-site': 'cross-site' }))));
    assert.ok(crossOrigin(ask(fakeRequest('GET', '/user/alice/api/kernels/k/channels', { cookie, upgrade: 'websocket', origin: 'http://evil.example' }))));
    // A link from elsewhere may still open the page.
    assert.deepEqual(ask(fakeRequest('GET', '/user/alice/lab', { cookie, 'sec-fetch-site': 'cross-site' })), { forward: true });
  });

  it('forwards same-origin state changes and websockets with a valid cookie', () => {
    const cookie = `${SERVER_COOKIE}=${admitted(logIn(people.alice))}`;
    assert.deepEqual(ask(fakeRequest('POST', '/user/alice/api/contents', { cookie, origin: `http://${HOST}` })), { forward: true });
    assert.deepEqual(ask(fakeRequest('PUT', '/user/alice/api/contents/a.ipynb', { cookie, 'sec-fetch-site': 'same-origin' })), { forward: true });
    assert.deepEqual(ask(fakeRequest('GET', '/user/alice/api/kernels/k/channels', { cookie, upgrade: 'websocket', origin: `http://${HOST}` })), { forward: true });
  });

  it('accepts a Lectern API token with access to the server, and no other', () => {
    const own = issueToken(tokens, { kind: 'api', userId: people.alice.id, scopes: ['inherit'], note: 'test' }).token;
    const teachers = issueToken(tokens, { kind: 'api', userId: people.teacher.id, scopes: ['inherit'], note: 'test' }).token;
    const bobs = issueToken(tokens, { kind: 'api', userId: people.bob.id, scopes: ['inherit'], note: 'test' }).token;
    const narrow = issueToken(tokens, { kind: 'api', userId: people.alice.id, scopes: ['read:users:name!user=alice'], note: 'test' }).token;

    const withToken = (token: string, scheme = 'token') => fakeRequest('POST', '/user/alice/api/contents', { authorization: `${scheme} ${token}` });
    const req = withToken(own);
    assert.deepEqual(ask(req), { forward: true });
    assert.equal(req.headers.authorization, 'token alice-server-token', 'the Lectern token does not reach the server');
    assert.deepEqual(ask(withToken(teachers, 'bearer')), { forward: true });
    assert.ok(refused(403, /Log in/)(ask(withToken(bobs))));
    assert.ok(refused(403, /Log in/)(ask(withToken(narrow))));
    assert.ok(refused(403, /Log in/)(ask(withToken('alice-server-token'))), "the server's own token is not a Lectern credential");
  });

  it('admit sets a session cookie scoped to the server, next to the other cookies being set', () => {
    const res = newResponse();
    res.setHeader('Set-Cookie', 'other=1; Path=/');
    assert.equal(gate.admit(res, logIn(people.alice), '/user/alice/lab?x=1'), true);
    const [other, cookie] = setCookies(res);
    assert.equal(other, 'other=1; Path=/');
    assert.match(cookie ?? '', /^lectern-server=[A-Za-z0-9_-]{43}; Path=\/user\/alice\/; HttpOnly; SameSite=Lax$/);

    const secureGate = new ServerGate({ sessions, users, identities, urls: new HubUrls('/class/'), secure: true, log: silentLogger });
    secureGate.protect('/class/user/alice/nb 1/', { owner: 'alice', serverName: 'nb 1', token: 't' });
    const secureRes = newResponse();
    assert.equal(secureGate.admit(secureRes, logIn(people.alice), '/class/user/alice/nb%201/lab'), true);
    assert.match(setCookies(secureRes)[0] ?? '', /; Path=\/class\/user\/alice\/nb%201\/; HttpOnly; SameSite=Lax; Secure$/);
  });

  it('admit replaces the viewer’s previous cookie for the same server', () => {
    const viewer = logIn(people.alice);
    const first = admitted(viewer);
    const second = admitted(viewer, `${ALICE}tree`);
    assert.notEqual(first, second);
    assert.equal(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${first}` })).forward, false);
    assert.deepEqual(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${second}` })), { forward: true });
    // Another login of the same user keeps its own.
    const elsewhere = admitted(logIn(people.alice));
    assert.deepEqual(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${second}` })), { forward: true });
    assert.deepEqual(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${elsewhere}` })), { forward: true });
  });

  it('admit sets nothing for a path to no protected server, or for a viewer without access or login', () => {
    const alice = logIn(people.alice);
    for (const [viewer, path] of [
      [alice, '/user/carol/lab'],
      [alice, '/user/alice'],
      [alice, '/hub/home'],
      [logIn(people.bob), '/user/alice/lab'],
      [identities.forUser(people.alice), '/user/alice/lab'],
    ] as const) {
      const res = newResponse();
      assert.equal(gate.admit(res, viewer, path), false, `${viewer.name} to ${path}`);
      assert.deepEqual(setCookies(res), []);
    }
  });

  it('admit picks the longest protected prefix', () => {
    gate.protect('/user/alice/nb1/', { owner: 'alice', serverName: 'nb1', token: 'nb1-token' });
    const res = newResponse();
    assert.equal(gate.admit(res, logIn(people.alice), '/user/alice/nb1/lab'), true);
    assert.match(setCookies(res)[0] ?? '', /; Path=\/user\/alice\/nb1\/;/);
  });

  it('unprotect forgets the server and every cookie issued for it', () => {
    const cookie = admitted(logIn(people.alice));
    gate.unprotect(ALICE);
    assert.equal(gate.isProtected(ALICE), false);
    gate.protect(ALICE, { owner: 'alice', serverName: '', token: 'new-token' });
    assert.equal(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${cookie}` })).forward, false);
  });

  it('forgetDeadGrants drops the cookies of ended logins and keeps the rest', () => {
    const ended = logIn(people.alice);
    const endedCookie = admitted(ended);
    const liveCookie = admitted(logIn(people.alice));
    sessions.delete((ended.session as { id: number }).id);
    gate.forgetDeadGrants();
    assert.equal(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${endedCookie}` })).forward, false);
    assert.deepEqual(ask(fakeRequest('GET', '/user/alice/lab', { cookie: `${SERVER_COOKIE}=${liveCookie}` })), { forward: true });
  });
});
