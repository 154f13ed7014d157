import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { changeOwnPassword, resetPassword, setPassword, type PasswordStore } from '../../../server/auth/password-changes.js';
import { PasswordHasher } from '../../../server/auth/passwords.js';
import { Database } from '../../../server/store/database.js';
import { LoginLinkRepository } from '../../../server/store/login-links.js';
import { SessionRepository } from '../../../server/store/sessions.js';
import { TokenRepository, type TokenKind } from '../../../server/store/tokens.js';
import { UserRepository, type UserRecord } from '../../../server/store/users.js';

describe('password changes', () => {
  let root: string;
  let store: PasswordStore;
  const later = () => new Date(Date.now() + 3_600_000).toISOString();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lectern-passwords-'));
    const db = await Database.open(join(root, 'lectern.db'));
    store = {
      db,
      users: new UserRepository(db),
      sessions: new SessionRepository(db),
      tokens: new TokenRepository(db),
      loginLinks: new LoginLinkRepository(db),
      hasher: new PasswordHasher(),
    };
  });
  after(async () => {
    await store.hasher.close();
    await store.db.close();
    await rm(root, { recursive: true, force: true });
  });

  /** A student logged in twice, with a token of each kind and an unused login link. */
  function studentWithWaysIn(name: string) {
    const user = store.users.create({ name, admin: false, passwordHash: null });
    const sessions = [store.sessions.create(user.id, `${name}-s1`, later()), store.sessions.create(user.id, `${name}-s2`, later())];
    const token = (kind: TokenKind, sessionId: number | null = null) =>
      store.tokens.create({ kind, userId: user.id, scopes: [], note: kind, sessionId }, kind.slice(0, 4), `${name}-${kind}-${sessionId}`).id;
    const tokens = { api: token('api'), server: token('server'), oauthInSession: token('oauth', sessions[1]!.id), oauth: token('oauth') };
    store.loginLinks.create(user.id, `${name}-link`, later());
    return { user, sessions, tokens };
  }
  const liveTokens = (user: UserRecord) => store.tokens.listForUser(user.id).map((token) => token.id);

  it('a reset gives a new temporary password and revokes every way in but the servers’ tokens', async () => {
    const { user, sessions, tokens } = studentWithWaysIn('ann');
    const password = await resetPassword(store, user, true, 8);
    assert.match(password, /^[a-z]+-[a-z]+-[a-z]+-\d\d$/);
    const after = store.users.find('ann')!;
    assert.equal(after.mustChangePassword, true);
    assert.equal(await store.hasher.verify(password, after.passwordHash), true);
    assert.ok(after.passwordHash && !after.passwordHash.includes(password), 'stored hashed');
    for (const session of sessions) assert.equal(store.sessions.findLive(session.id), undefined);
    assert.deepEqual(liveTokens(user), [tokens.server], "a running server keeps its token, so the student's notebook keeps working");
    assert.deepEqual(store.loginLinks.listUsable(user.id), []);
  });

  it('a password the teacher chose is not temporary', async () => {
    const { user, sessions, tokens } = studentWithWaysIn('bo');
    await setPassword(store, user, 'bo-password-2', false);
    assert.equal(store.users.find('bo')?.mustChangePassword, false);
    assert.equal(store.sessions.findLive(sessions[0]!.id), undefined);
    assert.deepEqual(liveTokens(user), [tokens.server]);
  });

  it('changing one’s own password keeps this login and one’s own tokens, ends the other logins and clears the mark', async () => {
    const { user, tokens } = studentWithWaysIn('cy');
    await resetPassword(store, user, true, 8);
    const here = store.sessions.create(user.id, 'cy-here', later());
    const elsewhere = store.sessions.create(user.id, 'cy-elsewhere', later());
    const ownToken = store.tokens.create({ kind: 'api', userId: user.id, scopes: [], note: 'mine' }, 'mine', 'cy-mine').id;
    store.loginLinks.create(user.id, 'cy-new-link', later());

    await changeOwnPassword(store, store.users.find('cy')!, 'cy-own-password', here.id);
    const after = store.users.find('cy')!;
    assert.equal(after.mustChangePassword, false);
    assert.equal(await store.hasher.verify('cy-own-password', after.passwordHash), true);
    assert.ok(store.sessions.findLive(here.id), 'the session the change was made in stays');
    assert.equal(store.sessions.findLive(elsewhere.id), undefined);
    assert.deepEqual(liveTokens(user).sort(), [tokens.server, ownToken].sort());
    assert.deepEqual(store.loginLinks.listUsable(user.id), [], 'a card with the old password is no use any more');
  });
});
