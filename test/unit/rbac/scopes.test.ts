import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roleScopes } from '../../../server/rbac/roles.js';
import {
  SCOPE_DEFINITIONS,
  assertKnownScopes,
  describeScopes,
  expandScopes,
  explainRawScopes,
  hasScope,
  intersectScopes,
  isKnownScope,
  notAuthorizedMessage,
  resolveTokenScopes,
  scopeFilter,
  scopeStatus,
  type Owner,
  type ScopeTarget,
} from '../../../server/rbac/scopes.js';

const alice: Owner = { kind: 'user', name: 'alice', groups: ['g1'] };
const announcer: Owner = { kind: 'service', name: 'announcer' };
const groups: Record<string, string[]> = { alice: ['g1'], bob: ['g2'], carol: ['g1', 'g2'] };
const groupsOf = (user: string): string[] => groups[user] ?? [];
const noGroups = (): string[] => [];

const sorted = (scopes: Iterable<string>): string[] => describeScopes(scopes);

describe('scope table', () => {
  it('defines every JupyterHub 3.0 scope and Lectern’s own, and every subscope it names', () => {
    const names = Object.keys(SCOPE_DEFINITIONS);
    assert.equal(names.filter((name) => !name.startsWith('lectern:')).length, 40);
    assert.deepEqual(names.filter((name) => name.startsWith('lectern:')), ['lectern:collect']);
    for (const [name, definition] of Object.entries(SCOPE_DEFINITIONS)) {
      assert.ok(definition.description.length > 0, name);
      const subscopes: readonly string[] = 'subscopes' in definition ? definition.subscopes : [];
      for (const sub of subscopes) assert.ok(Object.hasOwn(SCOPE_DEFINITIONS, sub), `${name} → ${sub}`);
    }
  });

  const known = [
    'read:users',
    'access:servers!user',
    'access:servers!server',
    'access:services!service',
    'read:users!user=alice',
    'access:servers!server=alice/',
    'access:servers!server=alice/nb1',
    'read:groups!group=g1',
    'read:services:name!service=announcer',
    'self',
    'inherit',
    '(no_scope)',
  ];
  for (const scope of known) it(`knows ${scope}`, () => assert.equal(isKnownScope(scope), true));

  const unknown = [
    'all',
    'read:user',
    'admin',
    'read:users!group',
    'read:users!role=x',
    'read:users!user=',
    'access:servers!server=alice',
    'self!user=alice',
    'custom:thing',
  ];
  for (const scope of unknown) it(`rejects ${scope}`, () => assert.equal(isKnownScope(scope), false));

  it('names the unknown scope, and says where it came from', () => {
    assert.throws(() => assertKnownScopes(['read:users', 'read:nope'], "in role 'ta'"), {
      message: "Scope 'read:nope' does not exist (in role 'ta')",
    });
    assert.throws(() => assertKnownScopes(['all']), { message: "Draft scope 'all' is now called 'inherit'" });
  });
});

describe('expandScopes', () => {
  it("expands alice's self to the [live] list", () => {
    assert.deepEqual(
      sorted(expandScopes(['self'], alice)),
      sorted([
        'read:users!user=alice',
        'read:users:name!user=alice',
        'read:users:groups!user=alice',
        'users:activity!user=alice',
        'read:users:activity!user=alice',
        'servers!user=alice',
        'delete:servers!user=alice',
        'read:servers!user=alice',
        'tokens!user=alice',
        'read:tokens!user=alice',
        'access:servers!user=alice',
      ]),
    );
  });

  it('gives an admin the whole hierarchy, unfiltered', () => {
    const admin = expandScopes(roleScopes(['user', 'admin']), alice);
    for (const scope of [
      'admin:users',
      'users',
      'list:users',
      'read:users',
      'read:users:name',
      'delete:users',
      'admin:auth_state',
      'read:roles:users',
      'servers',
      'admin:server_state',
      'read:groups:name',
      'read:services:name',
      'access:servers',
      'read:roles:groups',
    ]) {
      assert.ok(admin.has(scope), scope);
    }
    // Unfiltered scopes swallow the filtered ones `self` would add.
    assert.deepEqual(
      [...admin].filter((scope) => scope.includes('!')),
      [],
    );
  });

  const cases: { name: string; raw: string[]; owner: Owner; expected: string[] }[] = [
    {
      name: 'subscopes keep the filter',
      raw: ['users!user=bob'],
      owner: alice,
      expected: [
        'users!user=bob',
        'read:users!user=bob',
        'list:users!user=bob',
        'users:activity!user=bob',
        'read:users:name!user=bob',
        'read:users:groups!user=bob',
        'read:users:activity!user=bob',
      ],
    },
    {
      name: 'bare !user binds to the owner',
      raw: ['users:activity!user', 'access:servers!user'],
      owner: alice,
      expected: ['users:activity!user=alice', 'read:users:activity!user=alice', 'access:servers!user=alice'],
    },
    {
      name: "bare !server binds to the owner's server",
      raw: ['access:servers!server'],
      owner: { ...alice, server: '' },
      expected: ['access:servers!server=alice/'],
    },
    {
      name: 'bare !server without a server grants nothing',
      raw: ['access:servers!server', 'read:hub'],
      owner: alice,
      expected: ['read:hub'],
    },
    {
      name: 'bare !service binds to the owner service',
      raw: ['read:services!service'],
      owner: announcer,
      expected: ['read:services!service=announcer', 'read:services:name!service=announcer'],
    },
    {
      name: 'bare !user on a service grants nothing; self grants a service nothing',
      raw: ['read:users!user', 'self'],
      owner: announcer,
      expected: [],
    },
    {
      name: 'a server filter on a read scope also reads the owner name',
      raw: ['read:servers!server=bob/nb1'],
      owner: alice,
      expected: ['read:servers!server=bob/nb1', 'read:users:name!server=bob/nb1', 'read:users:name!user=bob'],
    },
    {
      name: 'a server filter on a scope implying read:* also reads the owner name',
      raw: ['servers!server=bob/'],
      owner: alice,
      expected: [
        'servers!server=bob/',
        'read:servers!server=bob/',
        'delete:servers!server=bob/',
        'read:users:name!server=bob/',
        'read:users:name!user=bob',
      ],
    },
    {
      name: 'a server filter on a non-read scope adds nothing',
      raw: ['access:servers!server=bob/'],
      owner: alice,
      expected: ['access:servers!server=bob/'],
    },
    {
      name: 'an unfiltered scope subsumes its filtered forms',
      raw: ['access:servers!user=bob', 'access:servers', 'read:users:name!user=bob', 'list:users'],
      owner: alice,
      expected: ['access:servers', 'list:users', 'read:users:name'],
    },
    {
      name: '(no_scope) grants nothing',
      raw: ['(no_scope)'],
      owner: alice,
      expected: [],
    },
  ];
  for (const { name, raw, owner, expected } of cases) {
    it(name, () => assert.deepEqual(sorted(expandScopes(raw, owner)), sorted(expected)));
  }

  it('expands inherit to the owner scopes it is given, and refuses without them', () => {
    const ownerScopes = expandScopes(['self'], alice);
    assert.deepEqual(sorted(expandScopes(['inherit'], alice, ownerScopes)), sorted(ownerScopes));
    assert.throws(() => expandScopes(['inherit'], alice), /inherit/);
  });

  it('throws on unknown scopes', () => {
    assert.throws(() => expandScopes(['read:users', 'read:nope'], alice), { message: "Scope 'read:nope' does not exist" });
    assert.throws(() => expandScopes(['read:users!role=x'], alice), /Scope filter '!role=x'/);
  });
});

describe('intersectScopes', () => {
  const cases: { name: string; a: string[]; b: string[]; expected: string[] }[] = [
    {
      name: 'unfiltered ∩ filtered = filtered',
      a: ['access:servers'],
      b: ['access:servers!user=alice'],
      expected: ['access:servers!user=alice'],
    },
    {
      name: 'user ∩ that user’s server = the server',
      a: ['access:servers!user=alice'],
      b: ['access:servers!server=alice/x'],
      expected: ['access:servers!server=alice/x'],
    },
    {
      name: 'user ∩ someone else’s server = nothing',
      a: ['access:servers!user=alice'],
      b: ['access:servers!server=bob/x'],
      expected: [],
    },
    {
      name: 'group ∩ member = the member',
      a: ['read:users!group=g1'],
      b: ['read:users!user=alice'],
      expected: ['read:users!user=alice'],
    },
    {
      name: 'group ∩ non-member = nothing',
      a: ['read:users!group=g1'],
      b: ['read:users!user=bob'],
      expected: [],
    },
    {
      name: 'group ∩ a member’s server = the server',
      a: ['access:servers!server=carol/nb1'],
      b: ['access:servers!group=g2'],
      expected: ['access:servers!server=carol/nb1'],
    },
    {
      name: 'same group on both sides stays; different groups do not meet',
      a: ['read:users!group=g1', 'read:groups!group=g1'],
      b: ['read:users!group=g1', 'read:groups!group=g2'],
      expected: ['read:users!group=g1'],
    },
    {
      name: 'several filters: each kept where covered',
      a: ['access:servers!user=alice', 'access:servers!user=bob'],
      b: ['access:servers!server=alice/', 'access:servers!user=bob', 'access:servers!server=dan/'],
      expected: ['access:servers!server=alice/', 'access:servers!user=bob'],
    },
    {
      name: 'scopes held on one side only are dropped',
      a: ['read:hub', 'proxy'],
      b: ['read:hub'],
      expected: ['read:hub'],
    },
  ];
  for (const { name, a, b, expected } of cases) {
    it(name, () => {
      assert.deepEqual(sorted(intersectScopes(new Set(a), new Set(b), groupsOf)), sorted(expected));
      assert.deepEqual(sorted(intersectScopes(new Set(b), new Set(a), groupsOf)), sorted(expected), 'symmetric');
    });
  }

  it('does not resolve groups when membership is unknown', () => {
    assert.deepEqual(
      sorted(intersectScopes(new Set(['read:users!group=g1']), new Set(['read:users!user=alice']), noGroups)),
      [],
    );
  });
});

describe('hasScope and scopeStatus', () => {
  const held = new Set([
    'read:users!user=alice',
    'access:servers!server=bob/nb1',
    'servers!group=g2',
    'read:groups!group=g1',
    'read:services!service=announcer',
    'read:hub',
  ]);
  const cases: { needed: string; target?: ScopeTarget; status: 'allowed' | 'forbidden' | 'filtered' }[] = [
    { needed: 'read:hub', status: 'allowed' },
    { needed: 'read:hub', target: { user: 'bob' }, status: 'allowed' },
    { needed: 'read:users', target: { user: 'alice' }, status: 'allowed' },
    { needed: 'read:users', target: { server: 'alice/nb1' }, status: 'allowed' },
    { needed: 'read:users', target: { user: 'bob' }, status: 'filtered' },
    { needed: 'read:users', status: 'filtered' },
    { needed: 'access:servers', target: { user: 'bob', server: 'bob/nb1' }, status: 'allowed' },
    { needed: 'access:servers', target: { server: 'bob/' }, status: 'filtered' },
    { needed: 'access:servers', target: { user: 'bob' }, status: 'filtered' },
    { needed: 'servers', target: { user: 'bob' }, status: 'allowed' },
    { needed: 'servers', target: { server: 'carol/x' }, status: 'allowed' },
    { needed: 'servers', target: { user: 'alice' }, status: 'filtered' },
    { needed: 'servers', target: { group: 'g2' }, status: 'allowed' },
    { needed: 'read:groups', target: { group: 'g1' }, status: 'allowed' },
    { needed: 'read:groups', target: { group: 'g2' }, status: 'filtered' },
    { needed: 'read:services', target: { service: 'announcer' }, status: 'allowed' },
    { needed: 'read:services', target: { service: 'other' }, status: 'filtered' },
    { needed: 'admin:users', target: { user: 'alice' }, status: 'forbidden' },
    { needed: 'shutdown', status: 'forbidden' },
  ];
  for (const { needed, target, status } of cases) {
    it(`${needed} on ${JSON.stringify(target ?? {})} is ${status}`, () => {
      assert.equal(scopeStatus(held, needed, target, groupsOf), status);
      assert.equal(hasScope(held, needed, target, groupsOf), status === 'allowed');
    });
  }

  it('does not match group filters without a membership lookup', () => {
    assert.equal(scopeStatus(held, 'servers', { user: 'bob' }), 'filtered');
    assert.equal(hasScope(held, 'servers', { group: 'g2' }), true);
  });

  it("answers alice's token on /users/bob with 404, a server token asking for admin:users with 403", () => {
    const aliceToken = expandScopes(['self'], alice);
    assert.equal(scopeStatus(aliceToken, 'read:users', { user: 'bob' }, groupsOf), 'filtered');
    const serverToken = expandScopes(roleScopes(['server']), alice);
    assert.equal(scopeStatus(serverToken, 'admin:users', { user: 'alice' }, groupsOf), 'forbidden');
    assert.equal(
      notAuthorizedMessage(['admin:users']),
      'Action is not authorized with current scopes; requires any of [admin:users]',
    );
  });

  it('allows when any of several needed scopes allows', () => {
    const scopes = new Set(['read:users!user=alice', 'read:users:name']);
    assert.equal(scopeStatus(scopes, ['read:users', 'read:users:name'], { user: 'bob' }), 'allowed');
    assert.equal(scopeStatus(scopes, ['read:users', 'read:servers'], { user: 'bob' }), 'filtered');
    assert.equal(scopeStatus(scopes, ['read:servers', 'admin:users'], { user: 'bob' }), 'forbidden');
  });

  it('filters list rows', () => {
    const visible = scopeFilter(new Set(['list:users!user=alice', 'list:users!group=g2']), 'list:users', groupsOf);
    assert.deepEqual(
      ['alice', 'bob', 'carol', 'dan'].filter((user) => visible({ user })),
      ['alice', 'bob', 'carol'],
    );
    assert.equal(scopeFilter(new Set(['list:users']), 'list:users')({ user: 'anyone' }), true);
    assert.equal(scopeFilter(new Set(['read:hub']), 'list:users')({ user: 'anyone' }), false);
  });
});

describe('resolveTokenScopes', () => {
  const aliceScopes = expandScopes(roleScopes(['user']), alice);

  it('gives a server token the [live] scopes', () => {
    const scopes = resolveTokenScopes({
      scopes: roleScopes(['server']),
      owner: { ...alice, server: '' },
      ownerScopes: aliceScopes,
      groupsOf,
    });
    assert.deepEqual(sorted(scopes), [
      'access:servers!user=alice',
      'read:users:activity!user=alice',
      'read:users:groups!user=alice',
      'read:users:name!user=alice',
      'users:activity!user=alice',
    ]);
  });

  it("gives alice's OAuth token for her server the [live] scopes", () => {
    const scopes = resolveTokenScopes({
      scopes: ['read:users:name!user', 'read:users:groups!user', 'access:servers!server=alice/'],
      owner: alice,
      ownerScopes: aliceScopes,
      clientAccessScopes: ['access:servers!server=alice/'],
      groupsOf,
    });
    assert.deepEqual(sorted(scopes), [
      'access:servers!server=alice/',
      'read:users:groups!user=alice',
      'read:users:name!user=alice',
    ]);
  });

  it('keeps a token within its owner scopes', () => {
    const scopes = resolveTokenScopes({
      scopes: ['admin:users', 'read:users!user=bob', 'read:tokens!user=alice'],
      owner: alice,
      ownerScopes: aliceScopes,
      groupsOf,
    });
    // admin:users narrows to the parts alice holds for herself; nothing about bob survives.
    assert.deepEqual(sorted(scopes), [
      'read:tokens!user=alice',
      'read:users!user=alice',
      'read:users:activity!user=alice',
      'read:users:groups!user=alice',
      'read:users:name!user=alice',
      'users:activity!user=alice',
    ]);
  });

  it('gives an inherit token exactly the owner scopes', () => {
    const scopes = resolveTokenScopes({ scopes: ['inherit'], owner: alice, ownerScopes: aliceScopes, groupsOf });
    assert.deepEqual(sorted(scopes), sorted(aliceScopes));
  });
});

describe('describeScopes and explainRawScopes', () => {
  it('sorts like Python', () => {
    assert.deepEqual(describeScopes(new Set(['read:users', 'access:servers!user=b', 'Z', 'access:servers'])), [
      'Z',
      'access:servers',
      'access:servers!user=b',
      'read:users',
    ]);
  });

  it('explains filters for the viewer', () => {
    assert.deepEqual(
      explainRawScopes(['read:users!user', 'read:users!user=alice', 'read:users!user=bob', 'read:users!group=g1', 'read:hub'], 'alice').map(
        (entry) => entry.filter,
      ),
      ['only you', 'only you', 'user bob', 'users in group g1', ''],
    );
  });
});
