/**
 * Who may call each REST API operation (issue 3): every operation of JupyterHub 3.0's API, called by
 * six callers, each answer compared with what JupyterHub 3.0 itself answers.
 *
 * Callers: nobody (no token); alice's and bob's own tokens (role `token` = everything their owner
 * holds, i.e. the `self` scopes filtered to themselves); the admin user teach's token (roles `user`
 * and `admin`); the token alice's server was spawned with (role `server`: her activity and access to
 * her servers, plus the identify scopes every token has); and a token of alice's limited to
 * `read:users:name!user=alice`. Every token is obtained through the API, as a client would.
 *
 * Expectations come from JupyterHub 3.0's handlers (`apihandlers/*.py`, the `needs_scope` lists in
 * reference §4) and its scope rules (§5), and were checked against the real Debian JupyterHub 3.0.
 * A caller either gets past the scope check (`ok`: the row's status, which may be a 4xx about the
 * request itself), is refused (`deny`: 403 "Action is not authorized with current scopes; requires
 * any of [...]"), or holds the scope only for other users (`hide`: 404 "No access to resources or
 * resources not found", so the answer does not reveal whether the resource exists). Where Lectern
 * differs on purpose (README, "Intended differences"), a row expects Lectern's answer and keeps
 * JupyterHub's beside it.
 *
 * Rows are independent of each other and of their order: a row that changes state acts on throwaway
 * users, groups and tokens made for that caller alone, or on something its change cannot affect
 * (alice's server is running, so starting it answers 400; bob's never runs, so stopping it is a
 * no-op). Left out: the OAuth2 endpoints (a browser session and client credentials, not scopes;
 * covered by the OAuth tests) and the deprecated leftovers `/authorizations/cookie/…` and
 * `POST /users/{name}/admin-access`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';

const CALLERS = ['anonymous', 'alice', 'bob', 'teach', 'server', 'limited'] as const;
type Caller = (typeof CALLERS)[number];

type Outcome = 'ok' | 'deny' | 'hide' | 'absent';
const ok: Outcome = 'ok';
const deny: Outcome = 'deny';
const hide: Outcome = 'hide';
/** Not served at all (404 "Not Found" to everyone): only for Lectern's intended differences. */
const absent: Outcome = 'absent';

const NO_ACCESS = 'No access to resources or resources not found';
const NOT_AUTHORIZED = /^Action is not authorized with current scopes; requires any of \[[^\]]+\]$/;

/** The hub under test, reached over HTTP only, so the matrix means the same against any hub. */
interface HubUnderTest {
  /** Ends with `/`: `http://127.0.0.1:PORT/`. */
  publicUrl: string;
  /** An admin service token, used only to set up fixtures and throwaway resources. */
  adminToken: string;
}

interface Answer {
  status: number;
  /** The JSON error body's `message`, for 4xx answers. */
  message: string | undefined;
}

interface ApiRequest {
  path: string;
  body?: unknown;
}

interface Fixtures {
  hub: HubUnderTest;
  /** Each caller's token; a caller is missing when setting it up failed (see `problems`). */
  tokens: Partial<Record<Caller, string>>;
  /** alice's own token, the one `alice` calls with. */
  aliceToken: string | undefined;
  aliceTokenId: string | undefined;
  problems: string[];
}

interface Row {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The path as the table shows it (concrete names; `{…}` for a per-caller throwaway). */
  path: string;
  /** What the row asserts, read as a rule. */
  rule: string;
  /** The status a caller who gets past the scope check receives. */
  status: number;
  /** Outcomes in the order of CALLERS. */
  expect: readonly [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];
  /** What JupyterHub 3.0 answers, when Lectern differs on purpose (README, "Intended differences"). */
  jupyterhub?: Row['expect'];
  body?: unknown;
  /** Builds the request for one caller, making throwaway resources first (with the admin token). */
  arrange?: (caller: Caller, fixtures: Fixtures) => Promise<ApiRequest>;
  /** The 403 message when it is not needs_scope's; `null` when JupyterHub's is a bare "Forbidden". */
  denyMessage?: RegExp | null;
  /** Run after every other row: a wrong answer here could take the hub down for the rest. */
  last?: boolean;
}

type RowOptions = Partial<Pick<Row, 'body' | 'arrange' | 'denyMessage' | 'last' | 'jupyterhub'>>;

function row(operation: string, status: number, expect: Row['expect'], rule: string, options: RowOptions = {}): Row {
  const [method, path] = operation.split(' ') as [Row['method'], string];
  return { method, path, status, expect, rule, ...options };
}

/** A throwaway user for one caller, made with the admin token. */
async function throwawayUser(fixtures: Fixtures, name: string): Promise<string> {
  await expectStatus(fixtures.hub, 201, 'POST', `/users/${name}`, { admin: false });
  return name;
}

async function throwawayGroup(fixtures: Fixtures, name: string, users: string[] = []): Promise<string> {
  await expectStatus(fixtures.hub, 201, 'POST', `/groups/${name}`, { users });
  return name;
}

const now = () => ({ last_activity: new Date().toISOString() });

// Columns: (anonymous, alice, bob, teach, server, limited)     anon  alice bob   teach serv  limit
const ROWS: Row[] = [
  row('GET /', 200,                                            [ok,   ok,   ok,   ok,   ok,   ok],
    'anyone, even without a token, reads the version'),
  row('GET /info', 200,                                        [deny, deny, deny, ok,   deny, deny],
    'only an admin reads the hub info (read:hub)'),
  row('GET /user', 200,                                        [deny, ok,   ok,   ok,   ok,   ok],
    'every valid token, however limited, identifies its owner; no token is refused',
    { denyMessage: null }),

  row('GET /users', 200,                                       [deny, deny, deny, ok,   deny, deny],
    "only an admin lists users (list:users): a user's own scopes do not include it"),
  row('POST /users', 201,                                      [deny, deny, deny, ok,   deny, deny],
    'only an admin creates users (admin:users)',
    { arrange: async (caller) => ({ path: '/users', body: { usernames: [`made-by-${caller}`] } }) }),
  row('GET /users/alice', 200,                                 [deny, ok,   hide, ok,   ok,   ok],
    "alice's model is read by alice, an admin, her server and her name-only token; to bob it does not exist"),
  row('GET /users/bob', 200,                                   [deny, hide, ok,   ok,   hide, hide],
    "tokens filtered to alice see nothing of bob, not even that he exists"),
  row('GET /users/nobody', 404,                                [deny, hide, hide, ok,   hide, hide],
    'a missing user looks, to anyone but an admin, exactly like a forbidden one'),
  row('POST /users/{new}', 201,                                [deny, deny, deny, ok,   deny, deny],
    'only an admin creates a user by name (admin:users)',
    { arrange: async (caller) => ({ path: `/users/new-by-${caller}`, body: { admin: false } }) }),
  row('PATCH /users/bob', 200,                                 [deny, deny, deny, ok,   deny, deny],
    'only an admin changes an account, not even its owner (admin:users)',
    { body: { admin: false } }),
  row('DELETE /users/{throwaway}', 204,                        [deny, deny, deny, ok,   deny, deny],
    'only an admin deletes users (delete:users)',
    { arrange: async (caller, f) => ({ path: `/users/${await throwawayUser(f, `gone-${caller}`)}` }) }),

  row('POST /users/alice/server', 400,                         [deny, ok,   hide, ok,   deny, deny],
    "alice and an admin may start alice's server (400 here: it is running); her server's token may not",
    ),
  row('DELETE /users/bob/server', 204,                         [deny, hide, ok,   ok,   deny, deny],
    "bob and an admin may stop bob's server (never started: a no-op); alice's tokens and server may not"),
  row('GET /users/alice/server/progress', 200,                 [deny, ok,   hide, ok,   deny, deny],
    "alice and an admin follow alice's server start (read:servers); her server's token may not"),
  row('POST /users/alice/servers/nb1', 400,                    [deny, ok,   hide, ok,   deny, deny],
    'named servers are checked like the default one before "Named servers are not enabled"'),
  row('DELETE /users/alice/servers/nb1', 400,                  [deny, ok,   hide, ok,   deny, deny],
    'stopping a named server needs delete:servers for its owner before "Named servers are not enabled"'),
  row('GET /users/alice/servers/nb1/progress', 404,            [deny, ok,   hide, ok,   deny, deny],
    "a named server's progress needs read:servers for its owner before the 404 for a missing server"),
  row('POST /users/alice/activity', 200,                       [deny, ok,   hide, ok,   ok,   deny],
    "alice's activity is posted by her server, herself or an admin (users:activity)",
    { arrange: async () => ({ path: '/users/alice/activity', body: now() }) }),
  row('POST /users/bob/activity', 200,                         [deny, hide, ok,   ok,   hide, deny],
    "alice's server posts activity for alice only",
    { arrange: async () => ({ path: '/users/bob/activity', body: now() }) }),

  row('GET /users/alice/tokens', 200,                          [deny, ok,   hide, ok,   deny, deny],
    "alice's tokens are listed by alice and an admin (read:tokens); not by her server or limited token"),
  row('POST /users/alice/tokens', 201,                         [deny, ok,   deny, ok,   deny, deny],
    'alice and an admin issue alice a token; anyone else gets 403, never 404 (the handler checks `tokens` itself)',
    {
      arrange: async (caller) => ({ path: '/users/alice/tokens', body: { note: `matrix: by ${caller}` } }),
      // JupyterHub answers "User alice not found or no permissions to generate tokens", or a bare
      // "Forbidden" without a token: not needs_scope's message, and not worth pinning.
      denyMessage: null,
    }),
  row('GET /users/alice/tokens/{alice}', 200,                  [deny, ok,   hide, ok,   deny, deny],
    "one of alice's tokens is read by alice and an admin (read:tokens)",
    { arrange: async (_caller, f) => ({ path: `/users/alice/tokens/${f.aliceTokenId ?? 'missing'}` }) }),
  row('DELETE /users/alice/tokens/{throwaway}', 204,           [deny, ok,   hide, ok,   deny, deny],
    "alice's tokens are revoked by alice and an admin (tokens)",
    {
      arrange: async (caller, f) => {
        const created = await expectStatus(f.hub, 201, 'POST', '/users/alice/tokens', { note: `revoked by ${caller}` });
        return { path: `/users/alice/tokens/${String(created.id)}` };
      },
    }),

  row('GET /groups', 200,                                      [deny, deny, deny, ok,   deny, deny],
    'only an admin lists groups (list:groups)'),
  row('POST /groups', 201,                                     [deny, deny, deny, ok,   deny, deny],
    'only an admin creates groups (admin:groups)',
    { arrange: async (caller) => ({ path: '/groups', body: { groups: [`made-by-${caller}`] } }) }),
  row('GET /groups/g1', 200,                                   [deny, deny, deny, ok,   deny, deny],
    'only an admin reads a group; being in it (alice is in g1) grants nothing in 3.0'),
  row('POST /groups/{new}', 201,                               [deny, deny, deny, ok,   deny, deny],
    'only an admin creates a group by name (admin:groups)',
    { arrange: async (caller) => ({ path: `/groups/new-by-${caller}`, body: { users: [] } }) }),
  row('DELETE /groups/{throwaway}', 204,                       [deny, deny, deny, ok,   deny, deny],
    'only an admin deletes groups (delete:groups)',
    { arrange: async (caller, f) => ({ path: `/groups/${await throwawayGroup(f, `gone-${caller}`)}` }) }),
  row('POST /groups/{throwaway}/users', 200,                   [deny, deny, deny, ok,   deny, deny],
    "only an admin adds users to a group (groups)",
    {
      arrange: async (caller, f) => ({
        path: `/groups/${await throwawayGroup(f, `adds-${caller}`)}/users`,
        body: { users: ['bob'] },
      }),
    }),
  row('DELETE /groups/{throwaway}/users', 200,                 [deny, deny, deny, ok,   deny, deny],
    "only an admin removes users from a group, even the user removing themself (groups)",
    {
      arrange: async (caller, f) => ({
        path: `/groups/${await throwawayGroup(f, `removes-${caller}`, ['alice'])}/users`,
        body: { users: ['alice'] },
      }),
    }),

  row('GET /services', 200,                                    [deny, deny, deny, ok,   deny, deny],
    'only an admin lists services (list:services)'),
  row('GET /services/test-admin', 200,                         [deny, deny, deny, ok,   deny, deny],
    'only an admin reads a service (read:services)'),
  row('GET /proxy', 200,                                       [deny, deny, deny, ok,   deny, deny],
    "only an admin reads the proxy's routes (proxy)"),
  row('POST /proxy', 200,                                      [deny, deny, deny, ok,   deny, deny],
    'only an admin makes the hub check the routes (proxy)'),
  row('PATCH /proxy', 200,                                     [deny, deny, deny, ok,   deny, deny],
    'only an admin repoints the proxy (proxy; an empty change here)',
    { body: {} }),
  row('GET /authorizations/token/{alice}', 200,                [absent, absent, absent, absent, absent, absent],
    'not served, on purpose: it puts a token in the URL (JupyterHub 3.0 still turns it into its owner for any token holder)',
    {
      arrange: async (_caller, f) => ({ path: `/authorizations/token/${f.aliceToken ?? 'missing'}` }),
      jupyterhub:                                              [deny, ok,   ok,   ok,   ok,   ok],
      denyMessage: null,
    }),
  row('GET /metrics', 200,                                     [deny, deny, deny, ok,   deny, deny],
    'only an admin reads the metrics (read:metrics)',
    // JupyterHub serves metrics from a page handler: its 403 is an HTML error page.
    { denyMessage: null }),
  row('POST /shutdown', 400,                                   [deny, deny, deny, ok,   deny, deny],
    'only an admin shuts the hub down (400 here: the body is invalid, so the hub stays up)',
    { body: { servers: 'not-a-boolean' }, last: true }),
];

async function call(hub: HubUnderTest, token: string | undefined, method: string, path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.Authorization = `token ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${hub.publicUrl}hub/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
    signal: AbortSignal.timeout(20_000),
  });
  if (response.status < 400) {
    // Success bodies do not matter here, and an event stream may stay open: do not wait for it.
    await response.body?.cancel();
    return { status: response.status, message: undefined };
  }
  const text = await response.text();
  let message: string | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'message' in parsed) message = String(parsed.message);
  } catch {
    message = text.slice(0, 200);
  }
  return { status: response.status, message };
}

/** An admin-token call for fixtures; throws with the answer when the status is not `status`. */
async function expectStatus(
  hub: HubUnderTest,
  status: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${hub.publicUrl}hub/api${path}`, {
    method,
    headers: { Authorization: `token ${hub.adminToken}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  if (response.status !== status) {
    throw new Error(`setup: ${method} ${path} answered ${response.status}, not ${status}: ${text.slice(0, 200)}`);
  }
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/**
 * Users teach (admin), alice and bob, group g1 = [alice], and every caller's token. A step that fails
 * is recorded, not thrown, so the matrix still shows every cell it can.
 */
async function setUp(hub: HubUnderTest): Promise<Fixtures> {
  const fixtures: Fixtures = { hub, tokens: {}, aliceToken: undefined, aliceTokenId: undefined, problems: [] };
  const attempt = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      fixtures.problems.push(`${what}: ${(error as Error).message}`);
    }
  };
  const newToken = async (user: string, body: Record<string, unknown>) => {
    const created = await expectStatus(hub, 201, 'POST', `/users/${user}/tokens`, body);
    if (typeof created.token !== 'string') throw new Error(`no "token" in ${JSON.stringify(created)}`);
    return { token: created.token, id: String(created.id) };
  };

  await attempt('users', async () => {
    await expectStatus(hub, 201, 'POST', '/users/teach', { admin: true });
    await expectStatus(hub, 201, 'POST', '/users/alice', { admin: false });
    await expectStatus(hub, 201, 'POST', '/users/bob', { admin: false });
  });
  await attempt('group g1 with alice', async () => {
    await expectStatus(hub, 201, 'POST', '/groups/g1', { users: ['alice'] });
  });
  await attempt("alice's token", async () => {
    const { token, id } = await newToken('alice', { note: 'alice' });
    fixtures.tokens.alice = fixtures.aliceToken = token;
    fixtures.aliceTokenId = id;
  });
  await attempt("bob's token", async () => {
    fixtures.tokens.bob = (await newToken('bob', { note: 'bob' })).token;
  });
  await attempt("teach's token", async () => {
    fixtures.tokens.teach = (await newToken('teach', { note: 'teach' })).token;
  });
  await attempt("alice's limited token", async () => {
    fixtures.tokens.limited = (await newToken('alice', { scopes: ['read:users:name!user=alice'] })).token;
  });
  await attempt("alice's server token", async () => {
    fixtures.tokens.server = await serverToken(hub, 'alice');
  });
  return fixtures;
}

/** Starts `user`'s (fake) server and asks it for the API token the hub spawned it with. */
async function serverToken(hub: HubUnderTest, user: string): Promise<string> {
  const started = await fetch(`${hub.publicUrl}hub/api/users/${user}/server`, {
    method: 'POST',
    headers: { Authorization: `token ${hub.adminToken}` },
    signal: AbortSignal.timeout(30_000),
  });
  if (started.status !== 201 && started.status !== 202) {
    throw new Error(`starting the server answered ${started.status}: ${await started.text()}`);
  }
  await started.body?.cancel();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const model = await expectStatus(hub, 200, 'GET', `/users/${user}`);
    if (typeof model.server === 'string') break;
    if (Date.now() > deadline) throw new Error(`the server did not become ready: ${JSON.stringify(model)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const response = await fetch(`${hub.publicUrl}user/${user}/__token__`, { signal: AbortSignal.timeout(10_000) });
  const token = await response.text();
  if (response.status !== 200 || token === '') throw new Error(`the fake server answered ${response.status}: ${token}`);
  return token;
}

interface Cell {
  caller: Caller;
  expected: Outcome;
  /** `undefined` when the cell could not be run (its setup failed). */
  answer: Answer | undefined;
  error: string | undefined;
}

interface RowResult {
  row: Row;
  cells: Cell[];
}

async function runMatrix(fixtures: Fixtures): Promise<RowResult[]> {
  const order = [...ROWS.filter((r) => !r.last), ...ROWS.filter((r) => r.last)];
  const results = new Map<Row, RowResult>();
  for (const r of order) {
    const cells: Cell[] = [];
    for (const [i, caller] of CALLERS.entries()) {
      const expected = r.expect[i] as Outcome;
      const token = caller === 'anonymous' ? undefined : fixtures.tokens[caller];
      if (caller !== 'anonymous' && token === undefined) {
        cells.push({ caller, expected, answer: undefined, error: `no ${caller} token` });
        continue;
      }
      try {
        const request = r.arrange ? await r.arrange(caller, fixtures) : { path: r.path, body: r.body };
        const answer = await call(fixtures.hub, token, r.method, request.path, request.body ?? r.body);
        cells.push({ caller, expected, answer, error: undefined });
      } catch (error) {
        cells.push({ caller, expected, answer: undefined, error: (error as Error).message });
      }
    }
    results.set(r, { row: r, cells });
  }
  return ROWS.map((r) => results.get(r) as RowResult);
}

/** Why a cell's answer is not the expected one, or undefined when it is. */
function mismatch(r: Row, cell: Cell): string | undefined {
  if (!cell.answer) return cell.error ?? 'not run';
  const { status, message } = cell.answer;
  const got = `${status}${message === undefined ? '' : ` "${message}"`}`;
  switch (cell.expected) {
    case 'ok':
      if (status === r.status && !(status === 404 && message === NO_ACCESS)) return undefined;
      return `expected ${r.status} (allowed), got ${got}`;
    case 'deny': {
      const pattern = r.denyMessage === undefined ? NOT_AUTHORIZED : r.denyMessage;
      if (status === 403 && (pattern === null || pattern.test(message ?? ''))) return undefined;
      return `expected 403${pattern ? ` ${String(pattern)}` : ''}, got ${got}`;
    }
    case 'hide':
      if (status === 404 && message === NO_ACCESS) return undefined;
      return `expected 404 "${NO_ACCESS}", got ${got}`;
    case 'absent':
      if (status === 404 && message !== NO_ACCESS) return undefined;
      return `expected 404 (not served), got ${got}`;
  }
}

function label(r: Row, outcome: Outcome): string {
  return { ok: String(r.status), deny: '403', hide: '404a', absent: '404' }[outcome];
}

function answerLabel(r: Row, cell: Cell): string {
  if (!cell.answer) return 'n/a';
  const { status, message } = cell.answer;
  if (status === 404 && message === NO_ACCESS) return '404a';
  if (status === 403 && cell.expected === 'deny' && mismatch(r, cell) !== undefined) return '403m';
  return String(status);
}

/** The whole matrix, one line per operation; a wrong cell reads `got/expected` after a ✗. */
function table(results: RowResult[]): string {
  const opWidth = Math.max(...results.map(({ row: r }) => `${r.method} ${r.path} *`.length));
  const width = 11;
  const lines = [
    `${''.padEnd(opWidth)}  ${CALLERS.map((c) => c.padEnd(width)).join('')}`,
    ...results.map(({ row: r, cells }) => {
      const text = cells.map((cell) => {
        const wrong = mismatch(r, cell) !== undefined;
        return (wrong ? `✗ ${answerLabel(r, cell)}/${label(r, cell.expected)}` : answerLabel(r, cell)).padEnd(width);
      });
      return `${`${r.method} ${r.path}${r.jupyterhub ? ' *' : ''}`.padEnd(opWidth)}  ${text.join('')}`;
    }),
    '404a = 404 "No access to resources or resources not found"; 403m = 403 with another message than',
    "JupyterHub's; n/a = not run (the caller's token could not be set up); ✗ got/expected;",
    '* = Lectern differs from JupyterHub 3.0 on purpose (the row keeps JupyterHub\'s answer)',
  ];
  return lines.join('\n');
}

describe('authorization matrix: each API operation × anonymous, alice, bob, an admin, a server token, a limited token', () => {
  let t: TestHub;
  let fixtures: Fixtures;
  let results: RowResult[];

  before(async () => {
    t = await startTestHub(fakeServer('ok'));
    const hub: HubUnderTest = { publicUrl: t.hub.url, adminToken: ADMIN_TOKEN };
    fixtures = await setUp(hub);
    results = await runMatrix(fixtures);
  });

  after(async () => {
    await t?.stop();
  });

  it('sets up every caller through the API', () => {
    assert.deepEqual(fixtures.problems, []);
  });

  for (const [index, r] of ROWS.entries()) {
    it(`${r.method} ${r.path}: ${r.rule}`, () => {
      const { cells } = results[index] as RowResult;
      const wrong = cells.flatMap((cell) => {
        const why = mismatch(r, cell);
        return why === undefined ? [] : [`${cell.caller}: ${why}`];
      });
      assert.deepEqual(wrong, [], `${r.method} ${r.path}\n  ${wrong.join('\n  ')}`);
    });
  }

  it('matches JupyterHub 3.0 in every cell (the whole table)', () => {
    const wrong = results.some(({ row: r, cells }) => cells.some((cell) => mismatch(r, cell) !== undefined));
    assert.ok(!wrong, `\n${table(results)}`);
  });
});
