/**
 * The folder name for a student's files, safe on every OS. Usernames are already lower-case and
 * NFKC-normalised (see auth/usernames.ts), so case-insensitive file systems and Unicode forms
 * cannot merge two students. What remains are names Windows will not create or silently changes:
 * device names (`con`, `nul`, `com1`…, with or without an extension) and a trailing dot, which
 * Windows drops (`alice.` would become `alice`). Those get a `_` in front (and `_` after a trailing
 * dot); no username starts with `_`, so an escaped folder never collides with another student's.
 */
import { join } from 'node:path';

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/;

export function folderNameFor(username: string): string {
  const trailingDot = username.endsWith('.');
  if (!trailingDot && !WINDOWS_DEVICE.test(username)) return username;
  return `_${username}${trailingDot ? '_' : ''}`;
}

/** The folder holding every student's folder: `spawner.notebookRoot`, else `users` in the data dir. */
export function usersFolder(config: { dataDir: string; spawner: { notebookRoot: string | null } }): string {
  return config.spawner.notebookRoot ?? join(config.dataDir, 'users');
}
