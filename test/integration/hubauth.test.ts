/**
 * JupyterHub's own client library works against Lectern: `jupyterhub.services.auth.HubAuth` (what
 * services and the single-user server use to identify a request's token) from Debian's JupyterHub
 * 3.0, run by Debian's Python, asks Lectern's API who owns a token and gets a model it understands.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, startTestHub, type TestHub } from '../helpers/hub.js';

const run = promisify(execFile);

/** Debian's Python, named by path: the first `python3` on PATH may be one without Jupyter. */
const PYTHON = '/usr/bin/python3';

/**
 * Identifies every token in HUBAUTH_TOKENS (a JSON object, label → token) with HubAuth and prints
 * label → user model (or null). Tokens arrive in the environment, never on the command line, where
 * any user of the machine could read them.
 */
const SCRIPT = `
import json, os
from jupyterhub.services.auth import HubAuth

auth = HubAuth(api_token=os.environ["HUBAUTH_API_TOKEN"], api_url=os.environ["HUBAUTH_API_URL"], cache_max_age=0)
tokens = json.loads(os.environ["HUBAUTH_TOKENS"])
print(json.dumps({label: auth.user_for_token(token, use_cache=False) for label, token in tokens.items()}))
`;

/** What `self` expands to for alice: the scopes of a token issued with the default (`inherit`). */
const ALICE_SELF_SCOPES = [
  'access:servers!user=alice',
  'delete:servers!user=alice',
  'read:servers!user=alice',
  'read:tokens!user=alice',
  'read:users!user=alice',
  'read:users:activity!user=alice',
  'read:users:groups!user=alice',
  'read:users:name!user=alice',
  'servers!user=alice',
  'tokens!user=alice',
  'users:activity!user=alice',
];

type Model = Record<string, unknown> | null;

describe("JupyterHub 3.0's HubAuth against Lectern", () => {
  let t: TestHub;
  const tokens: Record<string, string> = {};

  before(async () => {
    t = await startTestHub();
    await t.addUser('alice', 'alice-password-1');
    const group = await t.api('/groups/class-7b', { method: 'POST', body: JSON.stringify({ users: ['alice'] }) });
    assert.equal(group.status, 201, await group.text());
    tokens.alice = await issueToken(t, 'alice', { note: 'for HubAuth' });
    tokens.nameOnly = await issueToken(t, 'alice', { note: 'name only', scopes: ['read:users:name!user=alice'] });
    tokens.revoked = await issueToken(t, 'alice', { note: 'revoked' });
    const list = (await (await t.api('/users/alice/tokens')).json()) as { api_tokens: { id: string; note: string }[] };
    const revokedId = list.api_tokens.find((token) => token.note === 'revoked')?.id;
    assert.ok(revokedId, 'the token to revoke is listed');
    const revoke = await t.api(`/users/alice/tokens/${revokedId}`, { method: 'DELETE' });
    assert.equal(revoke.status, 204);
  });
  after(() => t.stop());

  let identified: Record<string, Model>;
  const identify = async (): Promise<Record<string, Model>> => {
    identified ??= await userForTokens(t, {
      ...tokens,
      service: ADMIN_TOKEN,
      bogus: 'not-a-token-lectern-ever-issued-0123',
    });
    return identified;
  };

  it("identifies alice's token as alice, with her groups and her token's scopes", async () => {
    const alice = (await identify()).alice;
    assert.ok(alice, 'HubAuth found a user for the token');
    assert.equal(alice.kind, 'user');
    assert.equal(alice.name, 'alice');
    assert.equal(alice.admin, false);
    assert.deepEqual(alice.groups, ['class-7b']);
    assert.deepEqual(alice.scopes, ALICE_SELF_SCOPES, 'the expanded scopes, sorted, as JupyterHub lists them');
  });

  it('identifies a token limited to read:users:name with only the name-level model', async () => {
    const limited = (await identify()).nameOnly;
    assert.ok(limited);
    assert.equal(limited.name, 'alice');
    assert.equal(limited.kind, 'user');
    // JupyterHub adds the owner's identify scopes (name and groups) to every token.
    assert.deepEqual(limited.scopes, ['read:users:groups!user=alice', 'read:users:name!user=alice']);
    assert.equal('servers' in limited, false, 'no server details without read:servers');
    assert.equal('last_activity' in limited, false, 'no activity without read:users:activity');
  });

  it('identifies the admin service token as the service', async () => {
    const service = (await identify()).service;
    assert.ok(service);
    assert.equal(service.kind, 'service');
    assert.equal(service.name, 'test-admin');
    assert.ok(Array.isArray(service.scopes) && service.scopes.includes('admin:users'));
  });

  it('returns None for a token Lectern never issued', async () => {
    assert.equal((await identify()).bogus, null);
  });

  it('returns None for a revoked token', async () => {
    assert.equal((await identify()).revoked, null);
  });
});

async function issueToken(t: TestHub, user: string, body: Record<string, unknown>): Promise<string> {
  const response = await t.api(`/users/${user}/tokens`, { method: 'POST', body: JSON.stringify(body) });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  const token = (JSON.parse(text) as { token?: unknown }).token;
  assert.equal(typeof token, 'string');
  return token as string;
}

async function userForTokens(t: TestHub, tokens: Record<string, string>): Promise<Record<string, Model>> {
  const { stdout } = await run(PYTHON, ['-c', SCRIPT], {
    env: {
      PATH: '/usr/bin:/bin',
      LANG: process.env.LANG ?? 'C.UTF-8',
      HUBAUTH_API_URL: `${t.hub.url}hub/api`,
      HUBAUTH_API_TOKEN: ADMIN_TOKEN,
      HUBAUTH_TOKENS: JSON.stringify(tokens),
    },
    timeout: 60_000,
  });
  // The model is the script's last line; HubAuth logs warnings (a 403 for a bad token) to stderr.
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null') as Record<string, Model>;
}
