import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { BCRYPT_COST, generatePassword, PasswordHasher, passwordProblem } from '../../../server/auth/passwords.js';

describe('passwords', () => {
  const hasher = new PasswordHasher();
  after(() => hasher.close());

  it('hashes with bcrypt at cost 10 or more, and verifies', async () => {
    const hash = await hasher.hash('correct horse battery');
    assert.ok(bcrypt.getRounds(hash) >= 10 && BCRYPT_COST >= 10);
    assert.equal(await hasher.verify('correct horse battery', hash), true);
    assert.equal(await hasher.verify('correct horse batterY', hash), false);
  });

  it('hashes on another worker when its worker stops mid-job, and starts a new one for the next', { timeout: 30_000 }, async () => {
    const fragile = new PasswordHasher(1);
    try {
      const hashing = fragile.hash('correct horse battery');
      // As a worker that could not start, or died: the job is not lost with it.
      await (fragile as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0]?.terminate();
      assert.equal(await bcrypt.compare('correct horse battery', await hashing), true);
      assert.equal(await fragile.verify('correct horse battery', await fragile.hash('correct horse battery')), true);
    } finally {
      await fragile.close();
    }
  });

  it('stops a worker once it has been idle a while, and starts one again for the next job', { timeout: 30_000 }, async () => {
    const brief = new PasswordHasher(2, 100);
    try {
      assert.equal(brief.running, 0, 'no worker before the first job');
      const hash = await brief.hash('correct horse battery');
      assert.equal(brief.running, 1);
      const deadline = Date.now() + 10_000;
      while (brief.running > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(brief.running, 0, 'an idle worker costs an isolate of memory');
      assert.equal(await brief.verify('correct horse battery', hash), true);
    } finally {
      await brief.close();
    }
  });

  it('starts a worker ahead of a login (the login page was opened), used by the next job or stopped if left idle', { timeout: 30_000 }, async () => {
    const brief = new PasswordHasher(2, 1000);
    try {
      brief.prepare();
      brief.prepare();
      assert.equal(brief.running, 1, 'one worker, however many pages are opened');
      const hash = await brief.hash('correct horse battery');
      assert.equal(brief.running, 1, 'the job ran on the worker started ahead');
      const deadline = Date.now() + 10_000;
      while (brief.running > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(brief.running, 0, 'a worker started ahead stops when left idle');
      brief.prepare();
      assert.equal(await brief.verify('correct horse battery', hash), true);
    } finally {
      await brief.close();
    }
  });

  it('refuses passwords bcrypt would silently truncate, instead of truncating them', () => {
    assert.equal(passwordProblem('a'.repeat(72), 8), null);
    assert.match(passwordProblem('a'.repeat(73), 8) ?? '', /at most 72 bytes/);
    assert.match(passwordProblem('é'.repeat(37), 8) ?? '', /at most 72 bytes/, '74 bytes in UTF-8');
  });

  it('never accepts a long password that only shares the first 72 bytes', async () => {
    const stored = await hasher.hash('x'.repeat(72));
    assert.equal(await hasher.verify(`${'x'.repeat(72)}anything`, stored), false);
  });

  it('refuses short, empty and NUL passwords with a reason', () => {
    assert.match(passwordProblem('short', 8) ?? '', /at least 8/);
    assert.match(passwordProblem('', 1) ?? '', /at least 1/);
    assert.match(passwordProblem('abcdefgh\0', 8) ?? '', /NUL/);
  });

  it('answers an unknown user with the same work and a no', async () => {
    assert.equal(await hasher.verify('whatever', undefined), false);
  });

  it('generates passwords a student can type: three words and a number, valid by the rules', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const password = generatePassword();
      assert.match(password, /^[a-z]+-[a-z]+-[a-z]+-\d{2}$/);
      assert.equal(passwordProblem(password, 8), null);
      const words = password.split('-').slice(0, 3);
      assert.equal(new Set(words).size, 3, `no word twice: ${password}`);
      seen.add(password);
    }
    assert.ok(seen.size > 45, 'varied');
  });

  it('adds words when the configured minimum asks for a longer password', () => {
    for (const minimum of [18, 40, 72]) {
      const password = generatePassword(minimum);
      assert.equal(passwordProblem(password, minimum), null, password);
      assert.match(password, /^([a-z]+-){3,}\d{2,}$/);
      const words = password.split('-').slice(0, -1);
      assert.equal(new Set(words).size, words.length, `no word twice: ${password}`);
    }
  });
});
