import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeUsername, usernameProblem } from '../../../server/auth/usernames.js';

describe('usernames', () => {
  it('gives look-alike spellings one account', () => {
    for (const spelling of ['Ann', 'ann ', ' ANN', 'ａｎｎ']) assert.equal(normalizeUsername(spelling), 'ann');
  });

  it('accepts letters and digits of any script, with . _ -', () => {
    for (const name of ['alice', 'a.b', 'a_b', 'a-b', 'josé', '学生1', '7ever']) assert.equal(usernameProblem(name), null);
  });

  it('refuses names unsafe in URLs, cookies or folder names, saying why', () => {
    assert.match(usernameProblem('') ?? '', /cannot be empty/);
    assert.match(usernameProblem('a'.repeat(65)) ?? '', /at most 64/);
    for (const name of ['../x', 'a/b', '.hidden', '-x', 'a b', 'a\nb', '<img>']) {
      assert.match(usernameProblem(name) ?? '', /letters, digits/, name);
    }
  });
});
