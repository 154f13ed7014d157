import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renameWithRetry, writeFileAtomic } from '../../../server/store/atomic-file.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lectern-atomic-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('writeFileAtomic', () => {
  it('creates a user-only file with the data', async () => {
    const file = join(dir, 'new.bin');
    await writeFileAtomic(file, bytes('hello'));
    assert.equal(await readFile(file, 'utf8'), 'hello');
    if (process.platform !== 'win32') assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  it('replaces an existing file and leaves no temp file behind', async () => {
    const sub = join(dir, 'replace');
    await mkdir(sub);
    const file = join(sub, 'data.bin');
    await writeFile(file, 'old contents that are longer than the new ones');
    await writeFileAtomic(file, bytes('new'));
    assert.equal(await readFile(file, 'utf8'), 'new');
    assert.deepEqual(await readdir(sub), ['data.bin']);
  });

  it('removes its temp file when the rename fails', async () => {
    const sub = join(dir, 'fail');
    await mkdir(join(sub, 'target'), { recursive: true });
    // A file cannot replace a non-empty directory, not even for root.
    await writeFile(join(sub, 'target', 'keep'), '');
    await assert.rejects(writeFileAtomic(join(sub, 'target'), bytes('x')));
    assert.deepEqual(await readdir(sub), ['target']);
  });

  it('rejects when the directory does not exist', async () => {
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'file'), bytes('x')), { code: 'ENOENT' });
  });
});

describe('renameWithRetry', () => {
  const failing = (codes: string[]) => {
    let calls = 0;
    const rename = async (): Promise<void> => {
      const code = codes[calls++];
      if (code) throw Object.assign(new Error(`rename failed: ${code}`), { code });
    };
    return { rename, calls: () => calls };
  };

  it('retries while Windows reports the target busy', async () => {
    const fake = failing(['EPERM', 'EBUSY', 'EACCES']);
    await renameWithRetry('a', 'b', { platform: 'win32', rename: fake.rename });
    assert.equal(fake.calls(), 4);
  });

  it('gives up on Windows once the deadline passes', async () => {
    const fake = failing(Array<string>(100).fill('EBUSY'));
    await assert.rejects(renameWithRetry('a', 'b', { platform: 'win32', rename: fake.rename, timeoutMs: 50 }), {
      code: 'EBUSY',
    });
    // However slow the machine (how many tries fit in 50 ms is its speed's doing), it stops at the
    // deadline, long before the failures run out; that it retries is the test above.
    assert.ok(fake.calls() < 100, `${fake.calls()} tries`);
  });

  it('does not retry elsewhere, or for other errors', async () => {
    const linux = failing(['EPERM']);
    await assert.rejects(renameWithRetry('a', 'b', { platform: 'linux', rename: linux.rename }), { code: 'EPERM' });
    assert.equal(linux.calls(), 1);
    const windows = failing(['ENOENT']);
    await assert.rejects(renameWithRetry('a', 'b', { platform: 'win32', rename: windows.rename }), { code: 'ENOENT' });
    assert.equal(windows.calls(), 1);
  });
});
