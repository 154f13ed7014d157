import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FirstUseAuthenticator } from '../../../server/auth/authenticator.js';
import type { PasswordHasher } from '../../../server/auth/passwords.js';
import { Database } from '../../../server/store/database.js';
import { UserRepository } from '../../../server/store/users.js';

/**
 * A hasher that counts its bcrypt operations. Equal work for every name is what keeps a login's
 * timing from telling a listed name from an unlisted one; the work is counted, not timed.
 */
function countingHasher() {
  const operations: string[] = [];
  const hasher = {
    hash: async (password: string) => {
      operations.push('hash');
      return `hashed:${password}`;
    },
    verify: async (password: string, hash: string | null | undefined) => {
      operations.push('verify');
      return hash === `hashed:${password}`;
    },
  };
  return { hasher: hasher as unknown as PasswordHasher, operations };
}

describe('first-use passwords', () => {
  let root: string;
  let db: Database;
  let users: UserRepository;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lectern-first-use-'));
    db = await Database.open(join(root, 'lectern.db'));
    users = new UserRepository(db);
    users.create({ name: 'ivan', admin: false, passwordHash: null });
    users.create({ name: 'jill', admin: false, passwordHash: null });
  });
  after(async () => {
    await db.close();
    await rm(root, { recursive: true, force: true });
  });

  it('costs one bcrypt for an unlisted name, as for a listed one', async () => {
    const { hasher, operations } = countingHasher();
    const authenticator = new FirstUseAuthenticator({ db, users, hasher, auth: { minPasswordLength: 8 } });
    assert.deepEqual(await authenticator.authenticate('zed', 'zed-password-1'), await authenticator.authenticate('yan', 'yan-password-1'));
    assert.deepEqual(operations, ['verify', 'verify'], 'each unlisted name checked against a dummy hash');

    operations.length = 0;
    assert.equal((await authenticator.authenticate('jill', 'jill-password-1')).ok, true);
    assert.deepEqual(operations, ['hash'], 'a first login hashes the new password once');
    assert.equal(users.find('jill')?.passwordHash, 'hashed:jill-password-1');
  });
});
