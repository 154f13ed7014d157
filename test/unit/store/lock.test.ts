import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LockedError } from '../../../server/store/errors.js';
import { LOCK_FILE, acquireLock, readLock } from '../../../server/store/lock.js';
import { exited, firstLine, startFixture } from '../../fixtures/store/child-process.js';

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lectern-lock-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const freshDir = (): string => join(root, `data-${++counter}`);
const info = () => ({ pid: process.pid, startedAt: new Date().toISOString() });

/** The pid of a process that has exited, which no live process has (barring rare reuse). */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', '']);
  assert.ok(result.pid);
  return result.pid;
}

async function writeLockFile(dataDir: string, content: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, LOCK_FILE), content);
}

describe('data directory lock', () => {
  it('publishes the holder in a user-only file that readLock returns', async () => {
    const dataDir = freshDir();
    const lock = await acquireLock(dataDir, { ...info(), apiUrl: 'http://127.0.0.1:1234/hub/api' });
    if (process.platform !== 'win32') assert.equal((await stat(lock.file)).mode & 0o777, 0o600);
    assert.deepEqual(await readLock(dataDir), lock.info);
    assert.equal(lock.info.apiUrl, 'http://127.0.0.1:1234/hub/api');
    await lock.release();
  });

  it('refuses a second owner with a message saying what to do', async () => {
    const dataDir = freshDir();
    const lock = await acquireLock(dataDir, info());
    await assert.rejects(acquireLock(dataDir, info()), (error: unknown) => {
      assert.ok(error instanceof LockedError);
      assert.equal(error.pid, process.pid);
      assert.ok(
        error.message.startsWith(
          `Another Lectern (pid ${process.pid}) is using ${dataDir}. Stop it first, or use a different --data-dir.`,
        ),
        error.message,
      );
      return true;
    });
    await lock.release();
  });

  it('updates the published details atomically', async () => {
    const dataDir = freshDir();
    const lock = await acquireLock(dataDir, info());
    await lock.update({ apiUrl: 'http://127.0.0.1:5555/hub/api', token: 'secret-token', url: 'http://127.0.0.1:8000/' });
    const read = await readLock(dataDir);
    assert.equal(read?.apiUrl, 'http://127.0.0.1:5555/hub/api');
    assert.equal(read?.token, 'secret-token');
    assert.equal(read?.url, 'http://127.0.0.1:8000/');
    assert.equal(read?.pid, process.pid);
    assert.deepEqual(await readdir(dataDir), [LOCK_FILE]);
    if (process.platform !== 'win32') assert.equal((await stat(lock.file)).mode & 0o777, 0o600);
    await lock.release();
    await assert.rejects(lock.update({ apiUrl: 'x' }), /released/);
  });

  it('releases once, and only its own lock', async () => {
    const dataDir = freshDir();
    const lock = await acquireLock(dataDir, info());
    await lock.release();
    await lock.release();
    assert.deepEqual(await readdir(dataDir), []);
    assert.equal(await readLock(dataDir), null);

    const next = await acquireLock(dataDir, info());
    await lock.release();
    assert.deepEqual(await readLock(dataDir), next.info, "an old holder's release leaves the new lock alone");
    await next.release();
  });

  it('takes over a lock left by a process that has exited', async () => {
    const dataDir = freshDir();
    const pid = deadPid();
    await writeLockFile(dataDir, JSON.stringify({ pid, startedAt: '2020-01-01T00:00:00.000Z', id: 'old' }));
    assert.equal(await readLock(dataDir), null);
    const lock = await acquireLock(dataDir, info());
    assert.equal(JSON.parse(await readFile(lock.file, 'utf8')).pid, process.pid);
    await lock.release();
  });

  it('takes over a garbage lock file, and one naming this pid that this process does not hold', async () => {
    const dataDir = freshDir();
    await writeLockFile(dataDir, '{"pid": ');
    assert.equal(await readLock(dataDir), null);
    const lock = await acquireLock(dataDir, info());
    await lock.release();

    // Containers start the hub as pid 1 every time: a crash leaves a lock naming "our" pid.
    await writeLockFile(dataDir, JSON.stringify({ pid: process.pid, startedAt: '2020-01-01T00:00:00.000Z', id: 'old' }));
    assert.equal(await readLock(dataDir), null);
    const again = await acquireLock(dataDir, info());
    await again.release();
  });

  it('leaves exactly one winner when takers race for a stale lock in one process', async () => {
    const dataDir = freshDir();
    await writeLockFile(dataDir, JSON.stringify({ pid: deadPid(), startedAt: '2020-01-01T00:00:00.000Z', id: 'old' }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(dataDir, info())));
    const winners = results.filter((result) => result.status === 'fulfilled');
    assert.equal(winners.length, 1);
    for (const result of results) {
      if (result.status === 'rejected') assert.ok(result.reason instanceof LockedError, String(result.reason));
    }
    await winners[0]?.value.release();
  });

  it('leaves exactly one winner when processes race for a stale lock', async () => {
    const dataDir = freshDir();
    await writeLockFile(dataDir, JSON.stringify({ pid: deadPid(), startedAt: '2020-01-01T00:00:00.000Z', id: 'old' }));
    const children = Array.from({ length: 6 }, () => startFixture('acquire-lock', [dataDir]));
    try {
      const outcomes = await Promise.all(children.map(firstLine));
      assert.equal(outcomes.filter((line) => line === 'won').length, 1, outcomes.join(', '));
      assert.equal(outcomes.filter((line) => line === 'locked').length, children.length - 1);
    } finally {
      for (const child of children) child.stdin?.end();
      await Promise.all(children.map(exited));
    }
    assert.equal(await readLock(dataDir), null);
  });
});
