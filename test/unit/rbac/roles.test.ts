import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUILT_IN_ROLES,
  accessScopesFor,
  defaultOAuthClientScopes,
  oauthClientAccessScopes,
  roleScopes,
  rolesFor,
  serverOAuthClientAllowedScopes,
  serverTokenScopes,
  validateRole,
  type RoleDefinition,
} from '../../../server/rbac/roles.js';

describe('built-in roles', () => {
  it('are the four JupyterHub 3.0 roles with their raw scopes', () => {
    assert.deepEqual(
      BUILT_IN_ROLES.map(({ name, scopes }) => [name, scopes]),
      [
        ['user', ['self']],
        [
          'admin',
          [
            'admin-ui',
            'admin:users',
            'admin:servers',
            'tokens',
            'admin:groups',
            'list:services',
            'read:services',
            'read:hub',
            'proxy',
            'shutdown',
            'access:services',
            'access:servers',
            'read:roles',
            'read:metrics',
          ],
        ],
        ['server', ['users:activity!user', 'access:servers!user']],
        ['token', ['inherit']],
      ],
    );
    for (const role of BUILT_IN_ROLES) assert.doesNotThrow(() => validateRole(role), role.name);
  });

  const cases: { admin: boolean; roles: string[] }[] = [
    { admin: false, roles: ['user'] },
    { admin: true, roles: ['user', 'admin'] },
  ];
  for (const { admin, roles } of cases) {
    it(`gives ${admin ? 'an admin' : 'a user'} ${roles.join(' and ')}`, () => assert.deepEqual(rolesFor({ admin }), roles));
  }
});

describe('roleScopes', () => {
  it('joins the raw scopes of several roles without duplicates', () => {
    assert.deepEqual(roleScopes(['user', 'server', 'user']), ['self', 'users:activity!user', 'access:servers!user']);
  });

  it('uses custom roles, which may redefine user but not admin', () => {
    const ta: RoleDefinition = { name: 'teaching-assistant', scopes: ['read:users!group=class1', 'access:servers!group=class1'] };
    assert.deepEqual(roleScopes(['teaching-assistant'], [ta]), ta.scopes);
    assert.deepEqual(roleScopes(['user'], [{ name: 'user', scopes: ['self', 'read:hub'] }]), ['self', 'read:hub']);
    assert.throws(() => roleScopes(['admin'], [{ name: 'admin', scopes: ['read:hub'] }]), /Cannot override admin role/);
  });

  const invalid: { role: RoleDefinition; message: RegExp }[] = [
    { role: { name: 'ta', scopes: ['read:users'] }, message: /Invalid role name: 'ta'/ },
    { role: { name: 'Grader', scopes: ['read:users'] }, message: /Invalid role name: 'Grader'/ },
    { role: { name: 'grader', scopes: ['read:users', 'grade:all'] }, message: /Scope 'grade:all' does not exist \(in role 'grader'\)$/ },
    { role: { name: 'grader', scopes: ['read:users!class=1'] }, message: /Scope filter '!class=1' .* \(in role 'grader'\)$/ },
  ];
  for (const { role, message } of invalid) {
    it(`rejects ${JSON.stringify(role)}`, () => {
      assert.throws(() => validateRole(role), message);
      assert.throws(() => roleScopes([], [role]), message);
    });
  }

  it('rejects unknown role names', () => {
    assert.throws(() => roleScopes(['user', 'grader']), { message: "Role 'grader' does not exist" });
  });
});

describe('server scopes', () => {
  it("gives the spawn token role server's raw scopes", () => {
    assert.deepEqual(serverTokenScopes(), ['users:activity!user', 'access:servers!user']);
  });

  const servers: { server: string; access: string[]; defaults: string[]; allowed: string[] }[] = [
    {
      server: '',
      access: ['access:servers!server=alice/', 'access:servers!user=alice'],
      defaults: ['read:users:name!user', 'read:users:groups!user', 'access:servers!server=alice/'],
      allowed: ['access:servers!server=alice/', 'access:servers!user=alice'],
    },
    {
      server: 'nb1',
      access: ['access:servers!server=alice/nb1', 'access:servers!user=alice'],
      defaults: ['read:users:name!user', 'read:users:groups!user', 'access:servers!server=alice/nb1'],
      allowed: ['access:servers!server=alice/nb1', 'access:servers!user=alice'],
    },
  ];
  for (const { server, access, defaults, allowed } of servers) {
    it(`gives alice's server '${server}' JupyterHub's access, default and allowed scopes`, () => {
      assert.deepEqual(accessScopesFor('alice', server), access);
      assert.equal(JSON.stringify(accessScopesFor('alice', server)), JSON.stringify(access));
      assert.deepEqual(oauthClientAccessScopes('alice', server), [access[0]]);
      assert.deepEqual(defaultOAuthClientScopes('alice', server), defaults);
      assert.deepEqual(serverOAuthClientAllowedScopes('alice', server), allowed);
    });
  }

  it('adds configured allowed scopes, sorted, and checks them', () => {
    assert.deepEqual(serverOAuthClientAllowedScopes('alice', '', ['read:users!user', 'access:servers!user=alice']), [
      'access:servers!server=alice/',
      'access:servers!user=alice',
      'read:users!user',
    ]);
    assert.throws(() => serverOAuthClientAllowedScopes('alice', '', ['nope']), /Scope 'nope' does not exist/);
  });

  it('refuses names that would break the server filter', () => {
    assert.throws(() => accessScopesFor('alice', 'a/b'), /Invalid server name/);
    assert.throws(() => accessScopesFor('', ''), /Invalid user name/);
  });
});
