/**
 * A data dir from an older Lectern, where each student's files sat straight in `users/NAME`: the
 * first start moves them into `users/NAME/home`, and the student's server finds them there.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestHub } from '../helpers/hub.js';
import { startServer } from '../helpers/student-server.js';

describe('student folders from an older Lectern', () => {
  it('are moved into users/NAME/home at the first start, every file intact, and the server opens there', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lectern-old-layout-'));
    try {
      await mkdir(join(dataDir, 'users', 'ann', 'week 1'), { recursive: true });
      await writeFile(join(dataDir, 'users', 'ann', 'week 1', 'essay.txt'), 'ann’s essay');
      await mkdir(join(dataDir, 'users', 'anna'), { recursive: true });
      await writeFile(join(dataDir, 'users', 'anna', 'notes.txt'), 'anna’s notes');

      const t = await startTestHub({ dataDir, culler: { enabled: false } });
      try {
        assert.equal(await readFile(join(dataDir, 'users', 'ann', 'home', 'week 1', 'essay.txt'), 'utf8'), 'ann’s essay');
        assert.equal(await readFile(join(dataDir, 'users', 'anna', 'home', 'notes.txt'), 'utf8'), 'anna’s notes');
        assert.ok(t.logLines.some((line) => line.includes('moved 2 students\' files into their folder\'s "home"')));

        await t.addUser('ann', 'ann-password-1');
        await startServer(t.api, '/users/ann/server');
        const log = await readFile(join(dataDir, 'logs', 'ann.log'), 'utf8');
        assert.ok(log.includes(`from local directory: ${join(dataDir, 'users', 'ann', 'home')}`), `her server serves her home folder:\n${log}`);
      } finally {
        await t.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
