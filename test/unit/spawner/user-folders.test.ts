import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeUsername, usernameProblem } from '../../../server/auth/usernames.js';
import { folderNameFor } from '../../../server/spawner/user-folders.js';

describe('student folder names', () => {
  it('keeps ordinary names as they are', () => {
    for (const name of ['alice', 'a.b', 'a_b', 'a-b', 'josé', '学生1', 'console', 'comet', 'lpt']) assert.equal(folderNameFor(name), name);
  });

  it('escapes names Windows refuses or changes', () => {
    assert.equal(folderNameFor('con'), '_con');
    assert.equal(folderNameFor('nul.txt'), '_nul.txt');
    assert.equal(folderNameFor('com1'), '_com1');
    assert.equal(folderNameFor('lpt9'), '_lpt9');
    assert.equal(folderNameFor('alice.'), '_alice._');
  });

  it('never gives two valid usernames the same folder, even on a case-insensitive, Unicode-folding disk', () => {
    const names = ['con', '_con', 'alice', 'alice.', 'alice._', 'Alice', 'ALICE', 'ａｌｉｃｅ', 'e\u0301', '\u00e9', 'a-b', 'a_b', 'a.b', 'com1', 'com1.x']
      .map(normalizeUsername)
      .filter((name) => usernameProblem(name) === null);
    const folders = new Map<string, string>();
    for (const name of new Set(names)) {
      const key = folderNameFor(name).toLowerCase().normalize('NFD');
      assert.equal(folders.get(key) ?? name, name, `${name} and ${folders.get(key)} would share a folder`);
      folders.set(key, name);
    }
    assert.ok(folders.size >= 8);
  });
});
