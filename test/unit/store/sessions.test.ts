import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Database } from '../../../server/store/database.js';
import { SessionRepository } from '../../../server/store/sessions.js';
import { UserRepository } from '../../../server/store/users.js';

describe('SessionRepository.findLive', () => {
  let root: string;
  let db: Database;
  let sessions: SessionRepository;
  let userId: number;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lectern-sessions-'));
    db = await Database.open(join(root, 'lectern.db'));
    sessions = new SessionRepository(db);
    userId = new UserRepository(db).create({ name: 'ann', admin: false, passwordHash: null }).id;
  });
  after(async () => {
    await db.close();
    await rm(root, { recursive: true, force: true });
  });

  const inAnHour = (): string => new Date(Date.now() + 3_600_000).toISOString();

  it('finds a live session by id', () => {
    const session = sessions.create(userId, 'hash-live', inAnHour());
    assert.deepEqual(sessions.findLive(session.id), session);
  });

  it('treats an expired session as absent', () => {
    const session = sessions.create(userId, 'hash-expiring', inAnHour());
    assert.equal(sessions.findLive(session.id, new Date(Date.now() + 7_200_000)), undefined);
  });

  it('finds nothing once the session is deleted, alone or with all of its user’s', () => {
    const one = sessions.create(userId, 'hash-logout', inAnHour());
    sessions.delete(one.id);
    assert.equal(sessions.findLive(one.id), undefined);
    const other = sessions.create(userId, 'hash-reset', inAnHour());
    sessions.deleteAllOf(userId);
    assert.equal(sessions.findLive(other.id), undefined);
  });
});
