// The access check the real jupyterhub-singleuser 3.0 runs on every request (protocol §2 step 6):
// allowed iff JUPYTERHUB_OAUTH_ACCESS_SCOPES meets the `scopes` of GET /hub/api/user, with filter
// semantics and no group lookups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessScopesFor } from '../../../server/rbac/roles.js';
import { matchRequiredScopes } from '../../../server/rbac/scopes.js';

describe('single-user access check', () => {
  const cases: { name: string; server: [string, string]; tokenScopes: string[]; allowed: boolean }[] = [
    { name: "alice's OAuth token, alice's default server", server: ['alice', ''], tokenScopes: ['access:servers!server=alice/'], allowed: true },
    { name: "alice's OAuth token, bob's default server", server: ['bob', ''], tokenScopes: ['access:servers!server=alice/'], allowed: false },
    { name: "alice's OAuth token, alice's named server", server: ['alice', 'nb1'], tokenScopes: ['access:servers!server=alice/'], allowed: false },
    { name: 'a user-wide token, any of her servers', server: ['alice', 'nb1'], tokenScopes: ['access:servers!user=alice'], allowed: true },
    { name: 'an admin token', server: ['bob', 'nb1'], tokenScopes: ['access:servers'], allowed: true },
    { name: 'a group filter is never resolved there', server: ['alice', ''], tokenScopes: ['access:servers!group=g1'], allowed: false },
    { name: 'identify scopes alone', server: ['alice', ''], tokenScopes: ['read:users:name!user=alice'], allowed: false },
  ];
  for (const { name, server, tokenScopes, allowed } of cases) {
    it(`${allowed ? 'allows' : 'refuses'} ${name}`, () => {
      const required = accessScopesFor(...server);
      assert.equal(matchRequiredScopes(required, tokenScopes).size > 0, allowed);
    });
  }
});
