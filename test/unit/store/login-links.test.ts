import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueCardCode, issueLoginLink, redeemCardCode, redeemLoginLink } from '../../../server/auth/login-links.js';
import { Database } from '../../../server/store/database.js';
import { LoginLinkRepository } from '../../../server/store/login-links.js';
import { SettingsRepository } from '../../../server/store/settings.js';
import { UserRepository } from '../../../server/store/users.js';

describe('login links and settings in the database', () => {
  let root: string;
  let db: Database;
  let links: LoginLinkRepository;
  let users: UserRepository;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lectern-links-'));
    db = await Database.open(join(root, 'lectern.db'));
    links = new LoginLinkRepository(db);
    users = new UserRepository(db);
  });
  after(async () => {
    await db.close();
    await rm(root, { recursive: true, force: true });
  });

  const inAnHour = (): string => new Date(Date.now() + 3_600_000).toISOString();

  it('gives a card a code of its own, typed in any case, once, beside its QR code', () => {
    const dee = users.create({ name: 'dee', admin: false, passwordHash: null });
    const until = new Date(Date.now() + 3_600_000);
    const secret = issueLoginLink(links, dee.id, until);
    const code = issueCardCode(links, dee.id, until);
    assert.match(code, /^[2-9A-HJKMNP-TW-Z]{4}-[2-9A-HJKMNP-TW-Z]{4}$/, 'no 0/O, 1/I/L to mix up');
    const now = new Date();
    assert.equal(redeemLoginLink(links, secret, now)?.userId, dee.id, 'the QR code works');
    assert.equal(redeemCardCode(links, ` ${code.toLowerCase().replace('-', ' ')} `, now)?.userId, dee.id, 'and so does the code, separately');
    assert.equal(redeemCardCode(links, code, now), undefined, 'once');
    assert.equal(redeemCardCode(links, 'not-a-code', now), undefined);
  });

  it('refuses a card’s link and code once the hub’s clock has passed their expiry', () => {
    const eve = users.create({ name: 'eve', admin: false, passwordHash: null });
    const until = new Date(Date.now() + 3_600_000);
    const secret = issueLoginLink(links, eve.id, until);
    const code = issueCardCode(links, eve.id, until);
    const later = new Date(until.getTime() + 1);
    assert.equal(redeemLoginLink(links, secret, later), undefined);
    assert.equal(redeemCardCode(links, code, later), undefined);
  });

  it('lets a link be used once, and never after it expired', () => {
    const ann = users.create({ name: 'ann', admin: false, passwordHash: null, displayName: 'Ann Smith' });
    assert.equal(users.find('ann')?.displayName, 'Ann Smith');
    links.create(ann.id, 'hash-1', inAnHour());
    links.create(ann.id, 'hash-old', new Date(Date.now() - 1000).toISOString());
    assert.equal(links.use('hash-1')?.userId, ann.id);
    assert.equal(links.use('hash-1'), undefined, 'a second use fails');
    assert.equal(links.use('hash-old'), undefined, 'an expired link fails');
    assert.equal(links.use('no-such-hash'), undefined);
  });

  it('revokes every link of a user', () => {
    const bo = users.create({ name: 'bo', admin: false, passwordHash: null });
    links.create(bo.id, 'hash-2', inAnHour());
    links.create(bo.id, 'hash-3', inAnHour());
    assert.equal(links.listUsable(bo.id).length, 2);
    assert.equal(links.deleteAllOf(bo.id), 2);
    assert.equal(links.use('hash-2'), undefined);
  });

  it('keeps settings as JSON by name', () => {
    const settings = new SettingsRepository(db);
    assert.equal(settings.get('joinCode'), undefined);
    settings.set('joinCode', { code: 'K7P-2QX' });
    settings.set('joinCode', { code: 'M4R-9TT' });
    assert.deepEqual(settings.get('joinCode'), { code: 'M4R-9TT' });
    settings.delete('joinCode');
    assert.equal(settings.get('joinCode'), undefined);
  });

  it('marks accounts awaiting approval and temporary passwords', () => {
    const cy = users.create({ name: 'cy', admin: false, passwordHash: 'h', approved: false });
    assert.equal(users.find('cy')?.approved, false);
    users.setApproved(cy.id, true);
    users.setPasswordHash(cy.id, 'h2', true);
    assert.deepEqual([users.find('cy')?.approved, users.find('cy')?.mustChangePassword], [true, true]);
    users.setPasswordHash(cy.id, 'h3');
    assert.equal(users.find('cy')?.mustChangePassword, false, 'choosing a password clears the flag');
  });
});
