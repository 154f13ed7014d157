/**
 * Each server writes its output straight into its own log file, an open file it keeps writing to
 * even if the hub crashes. So logs rotate by copy-then-truncate (as logrotate's copytruncate): the
 * full file is copied to `.1` (the old `.1` to `.2`), then emptied in place, and the server's next
 * write lands at the new start, since it opened the file for appending.
 */
import { copyFile, open, rename, stat, truncate } from 'node:fs/promises';
import { redactSecrets } from '../logging/logger.js';

const KEEP = 2;

/** Rotates `file` if it has grown past `maxBytes`. Resolves true if it did. */
export async function rotateLogIfLarge(file: string, maxBytes: number): Promise<boolean> {
  const size = await stat(file).then(
    (info) => info.size,
    () => 0,
  );
  if (size <= maxBytes) return false;
  for (let i = KEEP - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
  await copyFile(file, `${file}.1`);
  await truncate(file, 0);
  return true;
}

/**
 * The last `maxLines` lines of a log (read from its last 64 KiB at most), or '' if there is none,
 * with the secrets Jupyter prints (tokens in URLs, headers on a server error) redacted: what it
 * returns is shown to teachers and students.
 */
export async function readLogTail(file: string, maxLines: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 65_536);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (length < size) lines.shift(); // the first line was cut by the 64 KiB window
    if (lines.at(-1) === '') lines.pop();
    return redactSecrets(lines.slice(-maxLines).join('\n'));
  } finally {
    await handle.close();
  }
}
