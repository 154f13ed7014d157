import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeUsername, usernameProblem } from '../../../server/auth/usernames.js';

describe('usernames', () => {
  it('gives look-alike spellings one account', () => {
    for (const spelling of ['Ann', 'ann ', ' ANN', 'ａｎｎ']) assert.equal(normalizeUsername(spelling), 'ann');
  });

  it('trims whitespace pasted around a name, including tabs, newlines and full-width spaces', () => {
    for (const spelling of ['\tann\n', '  Ann\r\n', '\u3000ann\u3000', '\u00a0ann']) assert.equal(normalizeUsername(spelling), 'ann');
    assert.equal(normalizeUsername('ann lee'), 'ann lee', 'inside the name is left for usernameProblem to refuse');
  });

  it('accepts letters and digits of any script, with . _ -', () => {
    for (const name of ['alice', 'a.b', 'a_b', 'a-b', 'josé', '学生1', '7ever']) assert.equal(usernameProblem(name), null);
  });

  it('refuses names that look like the hub, a system account or someone in charge', () => {
    for (const name of ['admin', 'administrator', 'root', 'hub', 'api', 'user', 'users', 'login', 'logout', 'static', 'system', 'jupyter', 'jupyterhub', 'lectern', 'nobody', 'guest']) {
      assert.match(usernameProblem(name) ?? '', /is reserved.*Choose another/, name);
    }
    assert.match(usernameProblem(normalizeUsername(' Admin ')) ?? '', /"admin" is reserved/, 'whatever the spelling');
  });

  it('leaves the first admin’s default name, near misses and Windows device names alone', () => {
    for (const name of ['teacher', 'admin2', 'alice.admin', 'rooted', 'con', 'nul', 'com1']) assert.equal(usernameProblem(name), null, name);
  });

  it('refuses names unsafe in URLs, cookies or folder names, saying why', () => {
    assert.match(usernameProblem('') ?? '', /cannot be empty/);
    assert.match(usernameProblem('a'.repeat(65)) ?? '', /at most 64/);
    for (const name of ['../x', 'a/b', '.hidden', '-x', 'a b', 'a\nb', '<img>']) {
      assert.match(usernameProblem(name) ?? '', /letters, digits/, name);
    }
  });
});

describe('group names', () => {
  it('follow the shape of usernames, in their own words, but may be reserved usernames', async () => {
    const { groupNameProblem } = await import('../../../server/auth/group-names.js');
    assert.equal(groupNameProblem('Physics-1A'), null, 'used as given, case kept');
    assert.equal(groupNameProblem('users'), null, 'nobody logs in as a class');
    assert.match(groupNameProblem('Physics 1A') ?? '', /^A group name may contain only/);
    assert.match(groupNameProblem('') ?? '', /^A group name cannot be empty/);
  });
});
