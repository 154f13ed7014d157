import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FixedJoinCodeError, generateJoinCode, JoinCodes } from '../../../server/auth/join-codes.js';
import { normalizeJoinCode } from '../../../server/config/join-code.js';
import { Database } from '../../../server/store/database.js';
import { SettingsRepository } from '../../../server/store/settings.js';

describe('generateJoinCode', () => {
  it('makes two groups of three from characters that cannot be mistaken for one another', () => {
    for (let i = 0; i < 200; i++) {
      const code = generateJoinCode();
      assert.match(code, /^[2-9A-HJKMNP-TW-Z]{3}-[2-9A-HJKMNP-TW-Z]{3}$/);
      assert.doesNotMatch(code, /[01OILUV]/);
    }
  });

  it('draws every character from the random source it is given', () => {
    assert.equal(generateJoinCode(() => 0), '222-222');
    assert.equal(generateJoinCode((max) => max - 1), 'ZZZ-ZZZ');
  });
});

describe('normalizeJoinCode', () => {
  it('ignores case, spaces and dashes, as students type them on phones', () => {
    for (const typed of ['K7P-2QX', 'k7p2qx', ' k7p 2qx ', 'Ｋ７Ｐ－２ＱＸ']) assert.equal(normalizeJoinCode(typed), 'K7P2QX', typed);
  });
});

describe('JoinCodes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lectern-join-codes-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function open(file: string, fixed: string | null = null) {
    const db = await Database.open(join(dir, file));
    return { db, codes: await JoinCodes.open({ db, settings: new SettingsRepository(db), fixed }) };
  }

  it('generates a code once, keeps it across restarts, and rotates it for good', async () => {
    const first = await open('keep.sqlite');
    const code = first.codes.current();
    assert.ok(first.codes.matches(code.toLowerCase()));
    await first.db.close();

    const second = await open('keep.sqlite');
    assert.equal(second.codes.current(), code, 'the same code after a restart');
    const rotated = await second.codes.rotate();
    assert.notEqual(rotated, code);
    assert.equal(second.codes.matches(code), false, 'the old code stops working');
    await second.db.close();

    const third = await open('keep.sqlite');
    assert.equal(third.codes.current(), rotated, 'the new code is on disk');
    await third.db.close();
  });

  it('uses a code fixed in the config as it is, and refuses to rotate it', async () => {
    const { db, codes } = await open('fixed.sqlite', 'Physics 7B');
    assert.equal(codes.current(), 'Physics 7B');
    assert.ok(codes.matches('physics-7b'));
    assert.equal(codes.matches('physics-7'), false);
    await assert.rejects(codes.rotate(), FixedJoinCodeError);
    await db.close();
  });
});
