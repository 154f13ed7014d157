/**
 * The OpenAPI description (server/hub/api/openapi.yaml) against the API itself: every route is
 * described and every described operation exists; the hub serves the same document as JSON; the
 * document is well-formed OpenAPI 3.1 whose schemas all compile; and the response checker that
 * every integration test runs (through test/helpers/hub.ts) does report wrong responses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HubContext } from '../../server/hub/context.js';
import { apiRoutes } from '../../server/hub/api/index.js';
import { readEvents } from '../helpers/http-client.js';
import { until } from '../helpers/wait.js';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';
import {
  HTTP_METHODS,
  createSchemaValidator,
  describedOperations,
  readApiDescription,
  validateApiResponse,
  type JsonObject,
} from '../helpers/openapi.js';

/** Mounted beside `apiRoutes` (form-encoded, outside the JSON body parser), described all the same. */
const OAUTH2_ROUTES = [
  { method: 'get', path: '/oauth2/authorize' },
  { method: 'post', path: '/oauth2/authorize' },
  { method: 'post', path: '/oauth2/token' },
];

const key = ({ method, path }: { method: string; path: string }) => `${method.toUpperCase()} ${path}`;

describe('the OpenAPI description', () => {
  it('describes every API route, and only routes that exist', () => {
    const routes = [...apiRoutes({} as HubContext), ...OAUTH2_ROUTES].map(key);
    const described = describedOperations().map(key);
    assert.deepEqual(
      routes.filter((route) => !described.includes(route)),
      [],
      'routes without a description in server/hub/api/openapi.yaml',
    );
    assert.deepEqual(
      described.filter((operation) => !routes.includes(operation)),
      [],
      'described operations that no route serves',
    );
    assert.equal(new Set(routes).size, routes.length, 'no route is registered twice');
  });

  it('is well-formed OpenAPI 3.1, and every schema in it compiles', () => {
    const problems = structuralProblems(readApiDescription());
    assert.deepEqual(problems, []);
  });

  it('(the structural check itself reports a broken document)', () => {
    const broken = readApiDescription();
    const schemas = object(object(broken.components).schemas);
    schemas.User = { type: 'strng' };
    schemas.Group = { $ref: '#/components/schemas/Nothing' };
    object(broken.paths)['/users/{name}/nowhere'] = { get: { summary: 'x', operationId: 'x', responses: { '200': { description: 'x' } } } };
    const problems = structuralProblems(broken).join('\n');
    assert.match(problems, /components\/schemas\/User: .*type/);
    assert.match(problems, /\$ref #\/components\/schemas\/Nothing leads nowhere/);
    assert.match(problems, /GET \/users\/\{name\}\/nowhere: path parameter name is not declared/);
  });

  describe('served by the hub', () => {
    let t: TestHub;
    before(async () => {
      t = await startTestHub();
    });
    after(() => t.stop());

    it('answers GET /hub/api/openapi.json with the same document, as JSON, without a token', async () => {
      const response = await fetch(`${t.hub.url}hub/api/openapi.json`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await response.json(), readApiDescription());
      // Through the recording helper too, so the operation's own description is checked.
      assert.equal((await t.api('/openapi.json')).status, 200);
    });
  });
});

describe('every described operation on a running hub', () => {
  let t: TestHub;
  before(async () => {
    // Named servers on, so their operations answer; a join code, so it can be rotated; shutdown
    // and restart requests are noted, not obeyed.
    t = await startTestHub(
      { ...fakeServer('ok', { allowNamedServers: true }), auth: { loginMode: 'join-code' } },
      { onShutdownRequest: () => {}, onRestartRequest: () => {} },
    );
  });
  after(() => t.stop());

  it('answers as described, at least once each', async () => {
    const json = (method: string, body?: unknown): RequestInit => ({
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
    });
    const paginated = { headers: { Accept: 'application/jupyterhub-pagination+json' } };
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await t.api(path, init);
      const text = await response.text();
      return { status: response.status, text };
    };
    const calls: [string, RequestInit?][] = [
      ['/'],
      ['/info'],
      ['/user'],
      ['/health'],
      ['/openapi.json'],
      ['/users/alice', json('POST', { password: 'alice-password-1' })],
      ['/users', json('POST', { usernames: ['bob', 'carol'] })],
      ['/users'],
      ['/users?limit=1', paginated],
      ['/users/alice'],
      ['/users/carol', json('PATCH', { admin: true })],
      ['/users/alice/activity', json('POST', { last_activity: new Date().toISOString() })],
      ['/lectern/users/alice/password', json('PUT', { password: 'alice-password-2' })],
      ['/lectern/join'],
      ['/lectern/join/code', json('POST')],
      ['/lectern/users/alice/approve', json('POST')],
      ['/lectern/users/bob/password-reset', json('POST', { mustChange: false })],
      ['/groups/physics', json('POST', { users: ['alice'] })],
      ['/groups', json('POST', { groups: ['chemistry'] })],
      ['/groups'],
      ['/groups?limit=1', paginated],
      ['/groups/physics'],
      ['/groups/physics/users', json('POST', { users: ['bob'] })],
      ['/groups/physics/users', json('DELETE', { users: ['alice'] })],
      ['/groups/physics/properties', json('PUT', { course: 'physics-101' })],
      ['/lectern/roster/preview', json('POST', { text: 'dora,Dora D,,physics\nemil' })],
      ['/lectern/roster/import', json('POST', { text: 'dora,Dora D,,physics\nemil' })],
      ['/lectern/login-cards', json('POST', { users: ['alice'] })],
      ['/lectern/users/alice/login-links', json('DELETE')],
      ['/lectern/groups/physics/servers', json('POST')],
      ['/lectern/groups/physics/servers', json('DELETE')],
      ['/lectern/servers', json('POST', { users: ['bob'] })],
      ['/lectern/servers', json('DELETE', { users: ['bob'] })],
      ['/groups/chemistry', json('DELETE')],
      ['/services'],
      ['/services/test-admin'],
      ['/proxy', json('POST')],
      ['/proxy', json('PATCH', {})],
      ['/metrics'],
      ['/users/alice/server', json('POST')],
      ['/users/alice/servers/nb1', json('POST', { course: 'physics' })],
      ['/proxy'],
      ['/proxy?limit=1', paginated],
      ['/lectern/users/alice/server/log?lines=10'],
      ['/lectern/users/alice/servers/nb1/log'],
      ['/lectern/doctor'],
      ['/lectern/isolation'],
      ['/lectern/settings'],
      ['/lectern/settings', json('PATCH', { changes: { 'culler.idleTimeout': 1800 } })],
      ['/lectern/restart', json('POST')],
      ['/lectern/import/preview', json('POST', { text: 'culler:\n  idleTimeout: 1200\n' })],
      ['/lectern/import', json('POST', { text: 'culler:\n  idleTimeout: 1200\n' })],
      ['/lectern/export?format=lectern'],
      ['/lectern/export?format=jupyterhub'],
      ['/lectern/export?format=z2jh'],
      ['/lectern/join-urls'],
      ['/lectern/join-urls/preferred', json('PUT', { address: '127.0.0.1' })],
      ['/lectern/announcement', json('PUT', { message: 'Open lesson 3.', link: 'https://example.org/lesson-3' })],
      ['/lectern/announcement'],
      ['/lectern/announcement', json('DELETE')],
      ['/lectern/handouts', json('POST', { name: 'tour', dueAt: '2099-01-01T09:00:00Z' })],
      ['/lectern/handouts'],
      ['/lectern/handouts/1/files?path=lesson.md', json('PUT', '# Lesson')],
      ['/lectern/handouts/1/files?path=extra.md', json('PUT', 'more')],
      ['/lectern/handouts/1/files?path=extra.md', json('DELETE')],
      ['/lectern/handouts/1', json('PATCH', { late: 'refuse' })],
      ['/lectern/handouts/1/release', json('POST', {})],
      ['/lectern/handouts/1/collect', json('POST')],
      ['/lectern/handouts/1/collection'],
      ['/users/alice/servers/nb1', json('DELETE', { remove: true })],
      ['/users/alice/server', json('DELETE')],
      ['/users/carol', json('DELETE')],
      ['/shutdown', json('POST', { servers: false })],
    ];
    for (const [path, init] of calls) {
      const { status, text } = await call(path, init);
      assert.ok(status < 400, `${init?.method ?? 'GET'} ${path} → ${status} ${text}`);
    }

    const created = await t.api('/users/alice/tokens', json('POST', { note: 'openapi tour', expires_in: 3600 }));
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    for (const [path, init] of [[`/users/alice/tokens`], [`/users/alice/tokens/${id}`], [`/users/alice/tokens/${id}`, json('DELETE')]] as const) {
      assert.ok((await call(path, init)).status < 300);
    }

    // A student hands in once the handout has reached her; then the teacher forgets it.
    await until('the handout delivered', async () => {
      const model = JSON.parse((await call('/lectern/handouts/1')).text) as { students: { user: string; version: number }[] };
      return model.students.find((student) => student.user === 'alice')?.version === 1;
    });
    const student = (await (await t.api('/users/alice/tokens', json('POST', { note: 'hand-in' }))).json()) as { token: string };
    const handIn = await t.api('/lectern/handouts/1/hand-in', { method: 'POST', headers: { Authorization: `token ${student.token}` } });
    assert.equal(handIn.status, 201, await handIn.clone().text());
    assert.ok((await call('/lectern/handouts/1', json('DELETE'))).status < 300);

    // Progress streams answer for a server that is starting or running.
    await call('/users/alice/server', json('POST'));
    await call('/users/alice/servers/nb2', json('POST'));
    for (const path of ['/users/alice/server/progress', '/users/alice/servers/nb2/progress']) {
      const stream = await t.api(path);
      assert.equal(stream.status, 200, path);
      await readEvents(stream, (event) => Boolean(event.ready || event.failed));
    }
    // The dashboard's stream never ends by itself: its first event is enough.
    const hubEvents = await t.api('/lectern/events');
    assert.equal(hubEvents.status, 200);
    await readEvents(hubEvents, (event) => event.type === 'snapshot');

    // The OAuth2 endpoints, as far as they go without a single-user server: to the login page,
    // and a refused token exchange.
    const browser = t.client();
    assert.equal((await browser.request('/hub/api/oauth2/authorize?client_id=x&redirect_uri=%2F&response_type=code')).status, 302);
    assert.equal((await browser.request('/hub/api/oauth2/authorize', { method: 'POST' })).status, 302);
    const exchange = await browser.request('/hub/api/oauth2/token', {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'x', client_secret: 'y', grant_type: 'authorization_code', code: 'z', redirect_uri: '/' }),
    });
    assert.equal(exchange.status, 401);
    await exchange.text();

    await t.recorder.settled();
    assert.deepEqual(t.recorder.problems(), [], 'responses that do not match the description');
    const seen = t.recorder.operationsSeen();
    assert.deepEqual(describedOperations().map(key).filter((operation) => !seen.has(operation)), [], 'operations this tour did not reach');
  });
});

describe('the response checker', () => {
  const json = 'application/json; charset=utf-8';
  const alice = {
    kind: 'user',
    name: 'alice',
    admin: false,
    roles: ['user'],
    groups: [],
    server: null,
    pending: null,
    created: '2026-01-02T03:04:05.123Z',
    last_activity: null,
    servers: {},
  };

  it('accepts responses that match', () => {
    assert.equal(validateApiResponse({ method: 'GET', path: '/users/alice', status: 200, contentType: json, body: alice }), null);
    assert.equal(validateApiResponse({ method: 'GET', path: '/users/alice', status: 200, contentType: json, body: { kind: 'user', name: 'alice' } }), null, 'keys filtered by scope are optional');
    assert.equal(validateApiResponse({ method: 'POST', path: '/users/alice/server', status: 202, contentType: 'text/plain', body: '' }), null);
    assert.equal(validateApiResponse({ method: 'DELETE', path: '/users/alice', status: 204, contentType: null, body: '' }), null);
    assert.equal(validateApiResponse({ method: 'GET', path: '/', status: 200, contentType: json, body: { version: '3.0.0' } }), null);
  });

  it('reports a model with a wrong or missing key', () => {
    const problem = validateApiResponse({ method: 'GET', path: '/users/alice', status: 200, contentType: json, body: { ...alice, kind: undefined } });
    assert.match(problem ?? '', /GET \/users\/\{name\} 200 .*kind/);
    const local = validateApiResponse({ method: 'GET', path: '/users/alice', status: 200, contentType: json, body: { ...alice, created: '2026-01-02 03:04:05' } });
    assert.match(local ?? '', /created/, 'a timestamp not in ISO 8601 UTC with Z');
    const list = validateApiResponse({ method: 'GET', path: '/users', status: 200, contentType: json, body: { users: [alice] } });
    assert.ok(list, 'a list wrapped the wrong way');
  });

  it('reports error bodies that are not exactly {status, message}', () => {
    const extra = validateApiResponse({ method: 'GET', path: '/users/bob', status: 404, contentType: json, body: { status: 404, message: 'No such user', error: 'x' } });
    assert.match(extra ?? '', /additional properties \(error\)/);
    const mismatch = validateApiResponse({ method: 'GET', path: '/users/bob', status: 404, contentType: json, body: { status: 400, message: 'x' } });
    assert.match(mismatch ?? '', /status 400/);
  });

  it('reports undescribed paths, methods, statuses and content types, and unexpected bodies', () => {
    assert.match(validateApiResponse({ method: 'GET', path: '/nowhere', status: 200, contentType: json, body: {} }) ?? '', /not described/);
    assert.match(validateApiResponse({ method: 'PUT', path: '/users/alice', status: 200, contentType: json, body: alice }) ?? '', /PUT is not described/);
    assert.match(validateApiResponse({ method: 'GET', path: '/users/alice', status: 418, contentType: json, body: {} }) ?? '', /status 418/);
    assert.match(validateApiResponse({ method: 'GET', path: '/users/alice', status: 200, contentType: 'text/html', body: '<p>' }) ?? '', /Content-Type is text\/html/);
    assert.match(validateApiResponse({ method: 'POST', path: '/users/alice/server', status: 201, contentType: 'text/plain', body: 'started' }) ?? '', /characters/);
    assert.match(validateApiResponse({ method: 'DELETE', path: '/users/alice', status: 204, contentType: json, body: { ok: true } }) ?? '', /has no body/);
  });
});

/** What makes the document unusable as OpenAPI 3.1: each problem names where it is. */
function structuralProblems(document: JsonObject): string[] {
  const problems: string[] = [];
  const ajv = createSchemaValidator();
  const components = object(document.components);

  if (typeof document.openapi !== 'string' || !/^3\.1\.\d+$/.test(document.openapi)) problems.push(`openapi is ${String(document.openapi)}, not 3.1.x`);
  const info = object(document.info);
  if (typeof info.title !== 'string' || typeof info.version !== 'string') problems.push('info needs a title and a version');
  const schemes = object(components.securitySchemes);
  const tags = new Set(array(document.tags).map((tag) => object(tag).name));
  const operationIds = new Set<string>();

  const checkSecurity = (security: unknown, where: string) => {
    for (const requirement of array(security)) {
      for (const name of Object.keys(object(requirement))) {
        if (!(name in schemes)) problems.push(`${where}: unknown security scheme ${name}`);
      }
    }
  };
  checkSecurity(document.security, 'security');

  for (const [path, item] of Object.entries(object(document.paths))) {
    if (!path.startsWith('/')) problems.push(`path ${path} does not start with /`);
    const pathParameters = array(object(item).parameters);
    for (const method of HTTP_METHODS) {
      const operation = object(item)[method];
      if (operation === undefined) continue;
      const op = object(operation);
      const where = `${method.toUpperCase()} ${path}`;
      if (typeof op.summary !== 'string' || op.summary === '') problems.push(`${where}: no summary`);
      if (typeof op.operationId !== 'string') problems.push(`${where}: no operationId`);
      else if (operationIds.has(op.operationId)) problems.push(`${where}: operationId ${op.operationId} used twice`);
      else operationIds.add(op.operationId);
      for (const tag of array(op.tags)) if (!tags.has(tag)) problems.push(`${where}: tag ${String(tag)} is not declared`);
      checkSecurity(op.security, where);

      const declared = [...pathParameters, ...array(op.parameters)]
        .map((parameter) => object(resolve(document, parameter)))
        .filter((parameter) => parameter.in === 'path')
        .map((parameter) => parameter.name);
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        if (!declared.includes(name)) problems.push(`${where}: path parameter ${name} is not declared`);
      }

      const responses = object(op.responses);
      if (Object.keys(responses).length === 0) problems.push(`${where}: no responses`);
      for (const [status, response] of Object.entries(responses)) {
        if (!/^([1-5](\d\d|XX)|default)$/.test(status)) problems.push(`${where}: response key ${status} is not a status`);
        if (typeof object(resolve(document, response)).description !== 'string') problems.push(`${where} ${status}: no description`);
      }
    }
  }

  // Every $ref resolves, and every schema (wherever it sits) is valid JSON Schema 2020-12 and compiles.
  ajv.addSchema(document, 'document.json');
  walk(document, [], (node, pointer) => {
    if (typeof node.$ref === 'string' && resolve(document, node) === undefined) problems.push(`${pointer.join('/')}: $ref ${node.$ref} leads nowhere`);
  });
  for (const pointer of schemaLocations(document)) {
    const schema = pointer.reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], document);
    const where = pointer.join('/');
    if (!ajv.validateSchema(schema as object)) problems.push(`${where}: ${ajv.errorsText(ajv.errors)}`);
    try {
      ajv.compile({ $ref: `document.json#/${pointer.map((part) => encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')}` });
    } catch (error) {
      problems.push(`${where}: does not compile: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** Where OpenAPI puts schemas: components, parameters, media types (request and response), headers. */
function schemaLocations(document: JsonObject): string[][] {
  const found: string[][] = [];
  for (const name of Object.keys(object(object(document.components).schemas))) found.push(['components', 'schemas', name]);
  walk(document, [], (node, pointer) => {
    if (pointer[0] === 'components' && pointer[1] === 'schemas') return;
    // A media type sits under `content`, a header under `headers`; a parameter has `in`.
    const parent = pointer.at(-2);
    if ('schema' in node && (parent === 'content' || parent === 'headers' || typeof node.in === 'string')) {
      found.push([...pointer, 'schema']);
    }
  });
  return found;
}

function walk(node: unknown, pointer: string[], visit: (node: JsonObject, pointer: string[]) => void): void {
  if (Array.isArray(node)) {
    node.forEach((child, index) => walk(child, [...pointer, String(index)], visit));
  } else if (node !== null && typeof node === 'object') {
    visit(node as JsonObject, pointer);
    for (const [name, child] of Object.entries(node)) walk(child, [...pointer, name], visit);
  }
}

function resolve(document: JsonObject, node: unknown): unknown {
  const ref = object(node).$ref;
  if (typeof ref !== 'string') return node;
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((at, part) => (at !== null && typeof at === 'object' ? (at as JsonObject)[part] : undefined), document);
}

function object(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
