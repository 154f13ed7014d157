/**
 * Replacing a file so that a crash or power cut at any moment leaves either the old contents or the
 * new ones, never a mix or an empty file. Writing in place can leave a torn file; renaming an
 * un-synced temp file can leave a zero-length one after a power cut (the rename reaches the disk
 * before the data); not syncing the directory can lose the rename itself.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode } from './errors.js';

/**
 * Windows antivirus scanners and the search indexer briefly open freshly written files without
 * FILE_SHARE_DELETE, so replacing them fails until they let go. graceful-fs waits up to 60 s; a
 * commit holds up HTTP responses, so give up sooner and let the next commit try again.
 */
const WINDOWS_RENAME_TIMEOUT_MS = 10_000;
const WINDOWS_TRANSIENT_CODES = new Set(['EPERM', 'EBUSY', 'EACCES']);

/**
 * Atomically replaces `path` with `data`. The temp file lives in the same directory (a rename
 * across file systems is a copy) and is created 0o600, so the replaced file ends up user-only.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameWithRetry(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

/**
 * `rename`, retried with backoff on Windows while another process holds the target open. Other
 * platforms replace open files without complaint, so an error there is real and returned at once.
 */
export async function renameWithRetry(
  from: string,
  to: string,
  options: {
    platform?: NodeJS.Platform;
    timeoutMs?: number;
    rename?: (from: string, to: string) => Promise<void>;
  } = {},
): Promise<void> {
  const platform = options.platform ?? process.platform;
  const doRename = options.rename ?? rename;
  const deadline = Date.now() + (options.timeoutMs ?? WINDOWS_RENAME_TIMEOUT_MS);
  let delay = 10;
  for (;;) {
    try {
      await doRename(from, to);
      return;
    } catch (error) {
      const transient = platform === 'win32' && WINDOWS_TRANSIENT_CODES.has(errorCode(error) ?? '');
      if (!transient || Date.now() + delay > deadline) throw error;
      await sleep(delay);
      delay = Math.min(delay * 2, 500);
    }
  }
}

/**
 * Makes a rename in `dir` durable. Windows cannot open a directory for syncing (NTFS journals the
 * rename itself), and some file systems (network mounts, some FUSE) do not support it.
 */
/** Makes renames into and out of `dir` durable, where the OS and file system can. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR') throw error;
  } finally {
    await handle.close();
  }
}
