import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asksCurrentPassword } from '../../../server/hub/pages/password.js';
import type { SessionRecord } from '../../../server/store/sessions.js';
import type { UserRecord } from '../../../server/store/users.js';

describe('whether changing a password asks for the current one', () => {
  const now = Date.parse('2026-12-02T10:00:00Z');
  const user = (fields: Partial<UserRecord>): UserRecord =>
    ({ id: 1, name: 'alice', admin: false, passwordHash: '$2a$10$hash', mustChangePassword: false, approved: true, ...fields }) as UserRecord;
  const loggedIn = (minutesAgo: number): SessionRecord => ({
    id: 1,
    userId: 1,
    created: new Date(now - minutesAgo * 60_000).toISOString(),
    expiresAt: new Date(now + 86_400_000).toISOString(),
  });

  it('does not ask a student who has just logged in with the teacher’s temporary password', () => {
    assert.equal(asksCurrentPassword(user({ mustChangePassword: true }), loggedIn(1), now), false);
  });

  it('asks when the login is older: whoever finds the browser must not lock its owner out', () => {
    assert.equal(asksCurrentPassword(user({ mustChangePassword: true }), loggedIn(30), now), true);
  });

  it('always asks for a change the student chose to make', () => {
    assert.equal(asksCurrentPassword(user({}), loggedIn(0), now), true);
  });

  it('never asks an account that has no password yet', () => {
    assert.equal(asksCurrentPassword(user({ passwordHash: null }), loggedIn(30), now), false);
  });
});
