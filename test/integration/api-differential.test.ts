/**
 * One REST API scenario, step by step, against the real JupyterHub 3.0 and against Lectern. For
 * each step the two answers must agree: status code, the `X-JupyterHub-Version` header, the media
 * type, and the JSON body's shape key by key (same keys, same JSON types, arrays item by item) and
 * every value a client acts on (names, admin, kind, roles, groups, scopes, pending, ready,
 * pagination numbers...). Values that differ between any two runs (timestamps, ids, tokens, pids,
 * ports) are compared by format only. The differences Lectern means to have are listed in
 * INTENDED_DIFFERENCES with the reason; anything else fails the step with a readable diff.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_TOKEN, startTestHub, type TestHub } from '../helpers/hub.js';
import { startJupyterHub, type RunningJupyterHub } from '../helpers/jupyterhub.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const PAGINATION = 'application/jupyterhub-pagination+json';

/**
 * Where Lectern answers differently from JupyterHub on purpose. `step` and `path` are matched
 * against the step's name and the JSON path of the difference (as printed in a failure).
 */
const INTENDED_DIFFERENCES: { step: RegExp; path: RegExp; reason: string }[] = [
  {
    step: /^GET \/info$/,
    path: /^\.(python|sys_executable)$/,
    reason: 'Lectern runs on Node, not Python: these name its runtime',
  },
  {
    step: /^GET \/info$/,
    path: /^\.(spawner|authenticator)\.(class|version)$/,
    reason: "Lectern's own spawner and authenticator, with Lectern's version",
  },
  {
    step: /\(JupyterHub 3\.0 crashes\)$/,
    path: /^status$/,
    reason: 'JupyterHub 3.0 answers 500 (an uncaught exception); Lectern refuses the request with a 4xx',
  },
  {
    step: /^GET \/authorizations\/token\/\{token\} \(deprecated\)$/,
    path: /^status$/,
    reason: 'Lectern does not serve the deprecated token lookup: it puts a token in the URL',
  },
  {
    step: /groups/,
    path: /(^|\.|\])properties$/,
    reason: "groups carry free-form `properties`, as in JupyterHub after 3.0; a 3.0 client ignores the extra key",
  },
  {
    step: /.*/,
    path: /\.servers\.(""|\w+)\.state\.\w+$/,
    reason: 'spawner state is whatever each spawner keeps to find its server again',
  },
  {
    step: /.*/,
    path: /(^|\.|\])lectern_display_name$/,
    reason: "Lectern extension: a user's full name from the class list or the join page; JupyterHub clients ignore extra keys",
  },
  {
    step: /.*/,
    path: /\.servers\.(""|\w+)\.lectern_(usage|sandbox|notice)$/,
    reason: "Lectern extensions: a server's CPU and memory, its sandbox and a notice for its student; JupyterHub clients ignore extra keys",
  },
];

/** Keys whose values change from run to run: compared by JSON type, and timestamps by format. */
const VOLATILE_KEYS = new Set(['created', 'last_activity', 'started', 'expires_at', 'id', 'token', 'target', 'pid']);
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

type Caller = 'admin' | 'nobody' | 'alice' | 'limited';

interface Step {
  /** `METHOD /path` plus an optional note; also the test's name. */
  name: string;
  method?: string;
  /**
   * Under `/hub/api`. `{alice}` and `{limited}` become the id of that side's token of that name,
   * `{token:alice}` the token itself.
   */
  path: string;
  /** JSON-encoded unless it is a string, which is sent as is. */
  body?: unknown;
  as?: Caller;
  /** Sends the admin token as `?token=` instead of a header. */
  tokenInQuery?: boolean;
  /** The Authorization scheme; `token` unless given. */
  scheme?: string;
  accept?: string;
  /** What JupyterHub answers; checked first, so a scenario mistake is not blamed on Lectern. */
  jupyterhub: number | number[];
  /** Lists (by JSON path) whose order carries no meaning. */
  unordered?: RegExp;
  /** Keeps what later steps need (a token and its id) from this side's answer. */
  keep?: (side: Side, body: Json | undefined) => void;
}

interface Side {
  label: 'JupyterHub' | 'Lectern';
  apiUrl: string;
  origin: string;
  tokens: Partial<Record<Caller, string>>;
  tokenIds: Partial<Record<Caller, string>>;
}

interface Answer {
  status: number;
  version: string | null;
  mediaType: string | null;
  text: string;
  json: Json | undefined;
}

interface Difference {
  path: string;
  jupyterhub: string;
  lectern: string;
}

const USERS = ['alice', 'bob', 'carol', 'dave'];

const keepToken = (caller: Caller) => (side: Side, body: Json | undefined) => {
  if (isObject(body) && typeof body.token === 'string' && typeof body.id === 'string') {
    side.tokens[caller] = body.token;
    side.tokenIds[caller] = body.id;
  }
};

/** The scenario, in order; later steps rely on the state earlier ones leave on both hubs. */
const HUB_STEPS: Step[] = [
  { name: 'GET /', path: '/', jupyterhub: 200 },
  { name: 'GET /info', path: '/info', jupyterhub: 200 },
  { name: 'GET /user (the admin service)', path: '/user', jupyterhub: 200 },
];

const USER_STEPS: Step[] = [
  { name: 'POST /users (four new users)', method: 'POST', path: '/users', body: { usernames: USERS }, jupyterhub: 201 },
  { name: 'POST /users (all exist)', method: 'POST', path: '/users', body: { usernames: USERS }, jupyterhub: 409 },
  { name: 'POST /users/erin', method: 'POST', path: '/users/erin', jupyterhub: 201 },
  { name: 'POST /users/erin (exists)', method: 'POST', path: '/users/erin', jupyterhub: 409 },
  { name: 'POST /users/a%2Fb (slash in the name)', method: 'POST', path: '/users/a%2Fb', jupyterhub: 400 },
  { name: 'POST /users (slash in a name)', method: 'POST', path: '/users', body: { usernames: ['a/b'] }, jupyterhub: 400 },
  { name: 'POST /users (no usernames)', method: 'POST', path: '/users', body: { usernames: [] }, jupyterhub: 400 },
  {
    name: 'POST /users (Frank lower-cased, alice skipped)',
    method: 'POST',
    path: '/users',
    body: { usernames: ['Frank', 'alice'] },
    jupyterhub: 201,
  },
  { name: 'POST /users (an admin)', method: 'POST', path: '/users', body: { usernames: ['gus'], admin: true }, jupyterhub: 201 },
  { name: 'POST /users/ivy (an admin)', method: 'POST', path: '/users/ivy', body: { admin: true }, jupyterhub: 201 },
  { name: 'GET /users', path: '/users', jupyterhub: 200 },
  { name: 'GET /users?offset=1&limit=2', path: '/users?offset=1&limit=2', jupyterhub: 200 },
  { name: 'GET /users?offset=1&limit=2 (paginated)', path: '/users?offset=1&limit=2', accept: PAGINATION, jupyterhub: 200 },
  { name: 'GET /users?limit=0 (paginated)', path: '/users?limit=0', accept: PAGINATION, jupyterhub: 200 },
  { name: 'GET /users?limit=500 (paginated: at most 200)', path: '/users?limit=500', accept: PAGINATION, jupyterhub: 200 },
  { name: 'GET /users?offset=-1&limit=-2 (paginated)', path: '/users?offset=-1&limit=-2', accept: PAGINATION, jupyterhub: 200 },
  { name: 'GET /users?offset=10 (paginated: past the end)', path: '/users?offset=10', accept: PAGINATION, jupyterhub: 200 },
  { name: 'GET /users?offset=abc', path: '/users?offset=abc', jupyterhub: 400 },
  { name: 'GET /users?state=active (nobody running)', path: '/users?state=active', jupyterhub: 200 },
  { name: 'GET /users?state=bogus', path: '/users?state=bogus', jupyterhub: 400 },
  { name: 'GET /users/alice', path: '/users/alice', jupyterhub: 200 },
  { name: 'GET /users/nobody', path: '/users/nobody', jupyterhub: 404 },
  { name: 'GET /users/alice (Authorization: BEARER)', path: '/users/alice', scheme: 'BEARER', jupyterhub: 200 },
  { name: 'PATCH /users/nobody', method: 'PATCH', path: '/users/nobody', body: { admin: true }, jupyterhub: 404 },
  { name: 'DELETE /users/nobody', method: 'DELETE', path: '/users/nobody', jupyterhub: 404 },
  { name: 'PATCH /users/bob (admin not a boolean)', method: 'PATCH', path: '/users/bob', body: { admin: 'yes' }, jupyterhub: 400 },
  { name: 'PATCH /users/bob (admin)', method: 'PATCH', path: '/users/bob', body: { admin: true }, jupyterhub: 200 },
  { name: 'PATCH /users/bob (unknown key)', method: 'PATCH', path: '/users/bob', body: { nme: 1 }, jupyterhub: 400 },
  { name: 'PATCH /users/bob (rename to robert)', method: 'PATCH', path: '/users/bob', body: { name: 'robert' }, jupyterhub: 200 },
  { name: 'GET /users/bob (renamed away)', path: '/users/bob', jupyterhub: 404 },
  { name: 'PATCH /users/robert (rename onto alice)', method: 'PATCH', path: '/users/robert', body: { name: 'alice' }, jupyterhub: 400 },
  { name: 'GET /users/robert (still admin after the rename)', path: '/users/robert', jupyterhub: 200 },
  { name: 'GET /users?name_filter=AR', path: '/users?name_filter=AR', jupyterhub: 200 },
];

const GROUP_STEPS: Step[] = [
  { name: 'POST /groups/physics', method: 'POST', path: '/groups/physics', body: { users: ['alice'] }, jupyterhub: 201 },
  { name: 'GET /groups', path: '/groups', jupyterhub: 200 },
  { name: 'GET /groups/physics', path: '/groups/physics', jupyterhub: 200 },
  { name: 'POST /groups/physics/users (add carol)', method: 'POST', path: '/groups/physics/users', body: { users: ['carol'] }, jupyterhub: 200 },
  { name: 'DELETE /groups/physics/users (remove alice)', method: 'DELETE', path: '/groups/physics/users', body: { users: ['alice'] }, jupyterhub: 200 },
  { name: 'POST /groups/physics/users (unknown user)', method: 'POST', path: '/groups/physics/users', body: { users: ['nobody'] }, jupyterhub: 400 },
  { name: 'POST /groups (a and b)', method: 'POST', path: '/groups', body: { groups: ['a', 'b'] }, jupyterhub: 201 },
  { name: 'POST /groups/physics (exists)', method: 'POST', path: '/groups/physics', jupyterhub: 409 },
  { name: 'POST /groups (one exists)', method: 'POST', path: '/groups', body: { groups: ['a', 'c'] }, jupyterhub: 409 },
  { name: 'DELETE /groups/b', method: 'DELETE', path: '/groups/b', jupyterhub: 204 },
  { name: 'GET /groups/nope', path: '/groups/nope', jupyterhub: 404 },
  { name: 'GET /groups (paginated)', path: '/groups', accept: PAGINATION, jupyterhub: 200 },
  { name: "GET /users/carol (physics in carol's groups)", path: '/users/carol', jupyterhub: 200 },
];

const TOKEN_STEPS: Step[] = [
  {
    name: 'POST /users/alice/tokens (expires in an hour)',
    method: 'POST',
    path: '/users/alice/tokens',
    body: { note: 't1', expires_in: 3600 },
    jupyterhub: 201,
    keep: keepToken('alice'),
  },
  { name: 'GET /users/alice/tokens', path: '/users/alice/tokens', jupyterhub: 200 },
  { name: 'GET /users/alice/tokens/{id}', path: '/users/alice/tokens/{alice}', jupyterhub: 200 },
  {
    name: 'POST /users/alice/tokens (only read:users:name)',
    method: 'POST',
    path: '/users/alice/tokens',
    body: { note: 'limited', scopes: ['read:users:name!user=alice'] },
    jupyterhub: 201,
    keep: keepToken('limited'),
  },
  {
    name: 'POST /users/alice/tokens (default note)',
    method: 'POST',
    path: '/users/alice/tokens',
    body: { scopes: ['read:users!user=alice'] },
    jupyterhub: 201,
  },
  {
    name: 'POST /users/alice/tokens (scopes alice lacks)',
    method: 'POST',
    path: '/users/alice/tokens',
    body: { scopes: ['admin:users'] },
    jupyterhub: 400,
  },
  {
    name: 'POST /users/alice/tokens (roles and scopes)',
    method: 'POST',
    path: '/users/alice/tokens',
    body: { scopes: ['read:users!user=alice'], roles: ['user'] },
    jupyterhub: 400,
  },
  {
    name: 'POST /users/alice/tokens (no such role)',
    method: 'POST',
    path: '/users/alice/tokens',
    body: { roles: ['nosuchrole'] },
    jupyterhub: 400,
  },
  {
    name: 'POST /users/alice/tokens (unknown scope) (JupyterHub 3.0 crashes)',
    method: 'POST',
    path: '/users/alice/tokens',
    body: { scopes: ['nonsense:scope'] },
    jupyterhub: 500,
  },
  {
    name: 'POST /users/alice/tokens (negative expires_in) (JupyterHub 3.0 crashes)',
    method: 'POST',
    path: '/users/alice/tokens',
    body: { expires_in: -5 },
    jupyterhub: 500,
  },
  { name: 'GET /users/alice/tokens (three tokens)', path: '/users/alice/tokens', unordered: /^\.api_tokens$/, jupyterhub: 200 },
  { name: 'GET /users/alice/tokens/a999999 (unknown)', path: '/users/alice/tokens/a999999', jupyterhub: 404 },
  { name: "GET /users/carol/tokens/{id} (alice's token)", path: '/users/carol/tokens/{alice}', jupyterhub: 404 },
];

const AS_ALICE_STEPS: Step[] = [
  { name: "GET /user (alice's token)", path: '/user', as: 'alice', jupyterhub: 200 },
  { name: "GET /users/carol (alice's token: filtered out)", path: '/users/carol', as: 'alice', jupyterhub: 404 },
  { name: "GET /users/nobody (alice's token)", path: '/users/nobody', as: 'alice', jupyterhub: 404 },
  { name: "GET /users (alice's token: no list:users)", path: '/users', as: 'alice', jupyterhub: 403 },
  { name: "POST /users/alice/tokens (alice's token, default note)", method: 'POST', path: '/users/alice/tokens', as: 'alice', body: {}, jupyterhub: 201 },
  { name: "POST /users/carol/tokens (alice's token)", method: 'POST', path: '/users/carol/tokens', as: 'alice', body: {}, jupyterhub: 403 },
  { name: 'GET /authorizations/token/{token} (deprecated)', path: '/authorizations/token/{token:alice}', jupyterhub: 200 },
  { name: 'GET /authorizations/token/{token} (unknown token)', path: '/authorizations/token/not-a-token-0123456789', jupyterhub: 404 },
  { name: "GET /users/alice/tokens (alice's token)", path: '/users/alice/tokens', as: 'alice', unordered: /^\.api_tokens$/, jupyterhub: 200 },
  { name: 'GET /users/alice (name-level token)', path: '/users/alice', as: 'limited', jupyterhub: 200 },
  { name: 'GET /user (name-level token)', path: '/user', as: 'limited', jupyterhub: 200 },
  { name: 'GET /users/alice/tokens (name-level token: no read:tokens)', path: '/users/alice/tokens', as: 'limited', jupyterhub: 403 },
  { name: 'DELETE /users/alice/tokens/{id}', method: 'DELETE', path: '/users/alice/tokens/{limited}', jupyterhub: 204 },
  { name: 'GET /users/alice (deleted token)', path: '/users/alice', as: 'limited', jupyterhub: 403 },
  { name: 'DELETE /users/alice/tokens/{id} (again)', method: 'DELETE', path: '/users/alice/tokens/{limited}', jupyterhub: 404 },
];

const SERVER_STEPS: Step[] = [
  { name: 'GET /users/alice/server/progress (never started)', path: '/users/alice/server/progress', jupyterhub: 404 },
  { name: 'GET /users/alice/servers/nb9/progress (no such server)', path: '/users/alice/servers/nb9/progress', jupyterhub: 404 },
  {
    name: 'POST /users/alice/activity (not a timestamp)',
    method: 'POST',
    path: '/users/alice/activity',
    body: { last_activity: 'x' },
    jupyterhub: 400,
  },
  { name: 'POST /users/alice/server', method: 'POST', path: '/users/alice/server', jupyterhub: [201, 202] },
];

const RUNNING_STEPS: Step[] = [
  { name: 'GET /users/alice (server ready)', path: '/users/alice', jupyterhub: 200 },
  { name: 'GET /users?state=active (alice running)', path: '/users?state=active', jupyterhub: 200 },
  { name: 'GET /users?state=inactive', path: '/users?state=inactive', jupyterhub: 200 },
  { name: 'GET /users/alice/server/progress (ready)', path: '/users/alice/server/progress', jupyterhub: 200 },
  { name: 'POST /users/alice/server (already running)', method: 'POST', path: '/users/alice/server', jupyterhub: 400 },
  { name: 'GET /proxy', path: '/proxy', jupyterhub: 200 },
  { name: 'GET /proxy (paginated)', path: '/proxy', accept: PAGINATION, jupyterhub: 200 },
  { name: 'GET /proxy?limit=1 (paginated)', path: '/proxy?limit=1', accept: PAGINATION, jupyterhub: 200 },
  { name: 'POST /proxy', method: 'POST', path: '/proxy', jupyterhub: 200 },
  { name: 'DELETE /users/alice/server (invalid JSON)', method: 'DELETE', path: '/users/alice/server', body: 'remove', jupyterhub: 400 },
  {
    name: 'DELETE /users/alice/server (remove the default server)',
    method: 'DELETE',
    path: '/users/alice/server',
    body: { remove: true },
    jupyterhub: 400,
  },
  { name: 'DELETE /users/alice/server', method: 'DELETE', path: '/users/alice/server', jupyterhub: [204, 202] },
];

const STOPPED_STEPS: Step[] = [
  // JupyterHub forgets a stopped server's spawner, so its progress is "not found", not "not starting".
  { name: 'GET /users/alice/server/progress (stopped)', path: '/users/alice/server/progress', jupyterhub: 404 },
  // After the progress check: this refusal leaves a spawner in JupyterHub's memory, and with it a
  // stopped server's progress becomes 400 "not starting" instead of 404.
  { name: 'POST /users/alice/servers/a%2Fb (slash in the name)', method: 'POST', path: '/users/alice/servers/a%2Fb', jupyterhub: 400 },
  { name: 'GET /users/alice (stopped)', path: '/users/alice', jupyterhub: 200 },
  { name: 'POST /users/carol/servers/nb1', method: 'POST', path: '/users/carol/servers/nb1', jupyterhub: [201, 202] },
];

const NAMED_STEPS: Step[] = [
  { name: 'GET /users/carol (nb1 ready)', path: '/users/carol', jupyterhub: 200 },
  {
    name: 'DELETE /users/carol/servers/nb1 (remove)',
    method: 'DELETE',
    path: '/users/carol/servers/nb1',
    body: { remove: true },
    jupyterhub: [204, 202],
  },
];

const REMOVED_STEPS: Step[] = [
  { name: 'GET /users/carol (nb1 removed)', path: '/users/carol?include_stopped_servers=1', jupyterhub: 200 },
  { name: 'DELETE /users/carol/servers/nb1 (no such server)', method: 'DELETE', path: '/users/carol/servers/nb1', jupyterhub: 404 },
];

const LAST_STEPS: Step[] = [
  { name: 'GET /services', path: '/services', jupyterhub: 200 },
  { name: 'GET /services/test-admin', path: '/services/test-admin', jupyterhub: 200 },
  { name: 'GET /services/nope (JupyterHub 3.0 crashes)', path: '/services/nope', jupyterhub: 500 },
  { name: 'GET /groups?offset=1&limit=1 (paginated)', path: '/groups?offset=1&limit=1', accept: PAGINATION, jupyterhub: 200 },
  { name: 'OPTIONS /users', method: 'OPTIONS', path: '/users', as: 'nobody', jupyterhub: 200 },
  { name: 'PATCH /users/alice (invalid JSON)', method: 'PATCH', path: '/users/alice', body: '{"admin": tru', jupyterhub: 400 },
  { name: 'GET /nope (unknown path)', path: '/nope', jupyterhub: 404 },
  { name: 'GET /users (no token)', path: '/users', as: 'nobody', jupyterhub: 403 },
  { name: 'GET /info?token= (token in the URL)', path: '/info', as: 'nobody', tokenInQuery: true, jupyterhub: 403 },
  { name: 'DELETE /users/erin', method: 'DELETE', path: '/users/erin', jupyterhub: 204 },
  { name: 'DELETE /users/erin (gone)', method: 'DELETE', path: '/users/erin', jupyterhub: 404 },
  { name: 'GET /users (after the deletes and the rename)', path: '/users', jupyterhub: 200 },
  { name: 'POST /shutdown (invalid option)', method: 'POST', path: '/shutdown', body: { proxy: 'yes' }, jupyterhub: 400 },
];

describe('the REST API answers as JupyterHub 3.0 does', () => {
  let jupyterhub: RunningJupyterHub;
  let lectern: TestHub;
  let sides: [Side, Side];

  before(async () => {
    // Both at once: the slow part (JupyterHub and its proxy starting) overlaps with Lectern's start.
    const [jh, lec] = await Promise.allSettled([
      // Lectern creates its first admin, `teacher`, in an empty database; JupyterHub's admin_users does the same.
      startJupyterHub({ adminUsers: ['teacher'] }),
      startTestHub({ spawner: { allowNamedServers: true } }),
    ]);
    if (jh.status === 'rejected' || lec.status === 'rejected') {
      if (jh.status === 'fulfilled') await jh.value.stop();
      if (lec.status === 'fulfilled') await lec.value.stop();
      throw jh.status === 'rejected' ? jh.reason : (lec as PromiseRejectedResult).reason;
    }
    jupyterhub = jh.value;
    lectern = lec.value;
    sides = [
      { label: 'JupyterHub', apiUrl: jupyterhub.apiUrl, origin: new URL(jupyterhub.url).origin, tokens: { admin: jupyterhub.token }, tokenIds: {} },
      { label: 'Lectern', apiUrl: `${lectern.hub.url}hub/api`, origin: lectern.origin, tokens: { admin: ADMIN_TOKEN }, tokenIds: {} },
    ];
  });
  after(async () => {
    await Promise.all([jupyterhub?.stop(), lectern?.stop()]);
  });

  const steps = (list: Step[]) => {
    for (const step of list) it(step.name, (t) => compareStep(t, sides, step));
  };

  describe('the hub', () => steps(HUB_STEPS));
  describe('users', () => steps(USER_STEPS));
  describe('groups', () => steps(GROUP_STEPS));
  describe('tokens', () => steps(TOKEN_STEPS));
  describe("alice's own tokens", () => steps(AS_ALICE_STEPS));
  describe('servers', () => {
    steps(SERVER_STEPS);
    it("alice's default server becomes ready on both hubs", async () => {
      await Promise.all(sides.map((side) => waitForServer(side, 'alice', '', 'ready')));
    });
    steps(RUNNING_STEPS);
    it("alice's default server stops on both hubs", async () => {
      await Promise.all(sides.map((side) => waitForServer(side, 'alice', '', 'gone')));
    });
    steps(STOPPED_STEPS);
    it("carol's named server nb1 becomes ready on both hubs", async () => {
      await Promise.all(sides.map((side) => waitForServer(side, 'carol', 'nb1', 'ready')));
    });
    steps(NAMED_STEPS);
    it("carol's named server nb1 is removed on both hubs", async () => {
      await Promise.all(sides.map((side) => waitForServer(side, 'carol', 'nb1', 'gone')));
    });
    steps(REMOVED_STEPS);
  });
  describe('services, errors and deletes', () => steps(LAST_STEPS));
});

async function compareStep(t: TestContext, sides: [Side, Side], step: Step): Promise<void> {
  const [jh, lec] = await Promise.all(sides.map((side) => call(side, step)));
  assert.ok(jh && lec);
  const expected = Array.isArray(step.jupyterhub) ? step.jupyterhub : [step.jupyterhub];
  assert.ok(
    expected.includes(jh.status),
    `scenario error: JupyterHub answered ${step.name} with ${jh.status}, not ${expected.join(' or ')}: ${jh.text.slice(0, 300)}`,
  );
  step.keep?.(sides[0], jh.json);
  step.keep?.(sides[1], lec.json);

  const differences: Difference[] = [];
  const sameStatus = lec.status === jh.status || (expected.length > 1 && expected.includes(lec.status));
  if (!sameStatus) differences.push({ path: 'status', jupyterhub: String(jh.status), lectern: String(lec.status) });
  // Matching one of JupyterHub's crashes is no match: a 5xx from Lectern is a bug whatever JupyterHub says.
  if (lec.status >= 500) differences.push({ path: 'server error', jupyterhub: String(jh.status), lectern: `${lec.status} ${brief(lec.text)}` });
  if (lec.version !== jh.version) {
    differences.push({ path: 'header X-JupyterHub-Version', jupyterhub: String(jh.version), lectern: String(lec.version) });
  }
  if (jh.text !== '' && lec.mediaType !== jh.mediaType) {
    differences.push({ path: 'header Content-Type', jupyterhub: String(jh.mediaType), lectern: String(lec.mediaType) });
  }
  if (jh.text === '' && lec.text !== '') differences.push({ path: 'body', jupyterhub: '(empty)', lectern: brief(lec.text) });

  // Error messages are for people, not programs: a different wording is reported, not failed.
  const jhMessage = errorMessage(jh.json);
  const lecMessage = errorMessage(lec.json);
  if (jhMessage !== undefined && lecMessage !== undefined && jhMessage !== lecMessage) {
    t.diagnostic(`message: JupyterHub ${JSON.stringify(jhMessage)} | Lectern ${JSON.stringify(lecMessage)}`);
  }
  if (sameStatus && jh.json !== undefined) {
    if (lec.json === undefined) differences.push({ path: 'body', jupyterhub: brief(jh.text), lectern: brief(lec.text) || '(empty)' });
    else compareJson(normalize(jh.json, sides[0]), normalize(lec.json, sides[1]), '', differences, step);
  }

  const unexpected: Difference[] = [];
  for (const difference of differences) {
    const intended = INTENDED_DIFFERENCES.find((entry) => entry.step.test(step.name) && entry.path.test(difference.path));
    if (intended) t.diagnostic(`intended difference at ${difference.path}: ${intended.reason}`);
    else unexpected.push(difference);
  }
  if (unexpected.length > 0) {
    const width = Math.max(...unexpected.map((d) => d.path.length));
    const lines = unexpected.map((d) => `  ${d.path.padEnd(width)}  JupyterHub ${d.jupyterhub}  |  Lectern ${d.lectern}`);
    assert.fail(`${step.name}: ${unexpected.length} difference(s) from JupyterHub 3.0\n${lines.join('\n')}`);
  }
}

async function call(side: Side, step: Step): Promise<Answer> {
  const path = step.path
    .replace(/\{(alice|limited)\}/g, (_, caller: Caller) => side.tokenIds[caller] ?? 'missing-token-id')
    .replace(/\{token:(alice|limited)\}/g, (_, caller: Caller) => side.tokens[caller] ?? 'missing-token');
  const headers: Record<string, string> = {};
  const caller = step.as ?? 'admin';
  if (caller !== 'nobody') headers.Authorization = `${step.scheme ?? 'token'} ${side.tokens[caller] ?? 'token-never-issued'}`;
  if (step.accept) headers.Accept = step.accept;
  const query = step.tokenInQuery ? `${path.includes('?') ? '&' : '?'}token=${side.tokens.admin ?? ''}` : '';
  const body = step.body === undefined ? undefined : typeof step.body === 'string' ? step.body : JSON.stringify(step.body);
  const response = await fetch(`${side.apiUrl}${path}${query}`, {
    method: step.method ?? 'GET',
    headers,
    body,
    signal: AbortSignal.timeout(20_000),
  });
  const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? null;
  const text = mediaType === 'text/event-stream' ? await readStream(response) : await response.text();
  return {
    status: response.status,
    version: response.headers.get('x-jupyterhub-version'),
    mediaType,
    text,
    json: mediaType === 'text/event-stream' ? (eventData(text) as Json) : parseJson(text),
  };
}

/** A progress stream closes after its last event; a stream left open is cut after a few seconds. */
async function readStream(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + 5_000;
  for (;;) {
    const next = await Promise.race([reader.read(), sleep(Math.max(0, deadline - Date.now()), 'timeout' as const, { ref: false })]);
    if (next === 'timeout') {
      await reader.cancel();
      return `${text}\n\ndata: {"lectern-test": "the stream was still open after 5 s"}\n\n`;
    }
    if (next.done) return text;
    text += decoder.decode(next.value, { stream: true });
  }
}

/** The JSON of every `data:` event, in order. */
function eventData(text: string): unknown[] {
  return text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n'),
    )
    .filter((data) => data !== '')
    .map((data) => parseJson(data) ?? data);
}

function parseJson(text: string): Json | undefined {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/** Each hub's own origin becomes `{origin}`, and a URL's query parameters are sorted. */
function normalize(value: Json, side: Side): Json {
  if (typeof value === 'string') {
    if (!value.startsWith(side.origin)) return value;
    const url = new URL(value);
    url.searchParams.sort();
    return `{origin}${url.pathname}${url.search}`;
  }
  if (Array.isArray(value)) return value.map((item) => normalize(item, side));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normalize(item, side)]));
  return value;
}

function compareJson(jh: Json, lec: Json, path: string, out: Difference[], step: Step): void {
  const key = lastKey(path);
  if (jsonType(jh) !== jsonType(lec)) {
    out.push({ path: path || '(body)', jupyterhub: brief(jh), lectern: brief(lec) });
    return;
  }
  if (Array.isArray(jh) && Array.isArray(lec)) {
    compareArrays(jh, lec, path, out, step);
    return;
  }
  if (isObject(jh) && isObject(lec)) {
    for (const name of Object.keys(jh)) {
      const child = childPath(path, name);
      if (!(name in lec)) out.push({ path: child, jupyterhub: brief(jh[name] ?? null), lectern: '(missing)' });
      else compareJson(jh[name] ?? null, lec[name] ?? null, child, out, step);
    }
    for (const name of Object.keys(lec)) {
      if (!(name in jh)) out.push({ path: childPath(path, name), jupyterhub: '(missing)', lectern: brief(lec[name] ?? null) });
    }
    return;
  }
  if (key !== undefined && VOLATILE_KEYS.has(key)) {
    if (typeof jh === 'string' && TIMESTAMP.test(jh) && !(typeof lec === 'string' && TIMESTAMP.test(lec))) {
      out.push({ path, jupyterhub: `${brief(jh)} (ISO 8601 UTC with Z)`, lectern: brief(lec) });
    }
    return;
  }
  // Error messages are compared (and reported) in compareStep.
  if (key === 'message' && path === '.message') return;
  if (jh !== lec) out.push({ path: path || '(body)', jupyterhub: brief(jh), lectern: brief(lec) });
}

/**
 * Lists of named things (users, groups, tokens) are matched by name, so one missing user reads as
 * one difference rather than a shifted list; their order is compared once, as a list of names.
 * Lists of plain values are sets (roles, scopes, members): compared sorted.
 */
function compareArrays(jh: Json[], lec: Json[], path: string, out: Difference[], step: Step): void {
  const ordered = !step.unordered?.test(path);
  if (jh.every(isPrimitive) && lec.every(isPrimitive)) {
    const [a, b] = [sortItems(jh), sortItems(lec)];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path: path || '(body)', jupyterhub: brief(a), lectern: brief(b) });
    return;
  }
  const jhNames = jh.map(itemName);
  const lecNames = lec.map(itemName);
  const named = (names: (string | undefined)[]): names is string[] =>
    names.every((name) => name !== undefined) && new Set(names).size === names.length;
  if (named(jhNames) && named(lecNames)) {
    const [a, b] = ordered ? [jhNames, lecNames] : [[...jhNames].sort(), [...lecNames].sort()];
    if (a.join('\0') !== b.join('\0')) out.push({ path: `${path}[names]`, jupyterhub: brief(a), lectern: brief(b) });
    jh.forEach((item, i) => {
      const j = lecNames.indexOf(jhNames[i] ?? '');
      if (j !== -1) compareJson(item, lec[j] ?? null, `${path}[${jhNames[i]}]`, out, step);
    });
    return;
  }
  if (jh.length !== lec.length) out.push({ path: `${path}.length`, jupyterhub: String(jh.length), lectern: String(lec.length) });
  for (let i = 0; i < Math.min(jh.length, lec.length); i++) compareJson(jh[i] ?? null, lec[i] ?? null, `${path}[${i}]`, out, step);
}

/** Waits until `user`'s server `name` is ready, or gone from the user model. */
async function waitForServer(side: Side, user: string, name: string, until: 'ready' | 'gone'): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    const response = await fetch(`${side.apiUrl}/users/${user}`, { headers: { Authorization: `token ${side.tokens.admin}` } });
    last = await response.text();
    const model = parseJson(last);
    const servers = isObject(model) && isObject(model.servers) ? model.servers : {};
    const server = servers[name];
    if (until === 'ready' && isObject(server) && server.ready === true) return;
    if (until === 'gone' && server === undefined) return;
    await sleep(200);
  }
  assert.fail(`${side.label}: ${user}'s server ${JSON.stringify(name)} not ${until} after 20 s; last model: ${brief(last, 400)}`);
}

function errorMessage(body: Json | undefined): string | undefined {
  return isObject(body) && typeof body.status === 'number' && typeof body.message === 'string' ? body.message : undefined;
}

function sortItems(items: Json[]): Json[] {
  return [...items].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}

/** What identifies a list item: a user's or group's `name`, a token's `note`, a route's `routespec`. */
function itemName(item: Json): string | undefined {
  if (!isObject(item)) return undefined;
  const name = item.name ?? item.note ?? item.routespec;
  return typeof name === 'string' ? name : undefined;
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_][\w]*$/.test(key) ? `${path}.${key}` : `${path}.${JSON.stringify(key)}`;
}

function lastKey(path: string): string | undefined {
  return /\.(\w+)$/.exec(path)?.[1];
}

function jsonType(value: Json): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrimitive(value: Json): boolean {
  return value === null || typeof value !== 'object';
}

function brief(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
