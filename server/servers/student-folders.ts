/**
 * Where each student's files live. Every student has a hub-owned folder `<usersFolder>/<folderName>`
 * and inside it `home`, the root and HOME of their Jupyter server.
 *
 * The extra level keeps students apart. Notebook 6 checks that a path is inside the server root with
 * a plain string prefix test, with no trailing separator. When the roots sat side by side, `ann`'s
 * root `/d/users/ann` was a prefix of `anna`'s `/d/users/anna`, so
 * `/user/ann/api/contents/..%2Fanna%2Fx.txt` read anna's file. When every root ends in the same
 * fixed component, no root is a prefix of another (`/d/users/ann/home`, `/d/users/anna/home`).
 */
import { lstat, mkdir, open, readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { usersFolder } from '../config/users-folder.js';
import { renameWithRetry, syncDirectory } from '../store/atomic-file.js';
import { errorCode } from '../store/errors.js';

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/;

/** Whether Windows reserves `name` for a device (`con`, `nul.txt`, `COM1`…), so no file can have it. */
export function isWindowsDeviceName(name: string): boolean {
  return WINDOWS_DEVICE.test(name.toLowerCase());
}

/**
 * The folder name for a student's files, safe on every OS. Usernames are already lower-case and
 * NFKC-normalised (see auth/usernames.ts), so case-insensitive file systems and Unicode forms
 * cannot merge two students. What remains are names Windows will not create or silently changes:
 * device names (`con`, `nul`, `com1`…, with or without an extension) and a trailing dot, which
 * Windows drops (`alice.` would become `alice`). Those get a `_` in front (and `_` after a trailing
 * dot); no username starts with `_`, so an escaped folder never collides with another student's.
 */
export function folderNameFor(username: string): string {
  const trailingDot = username.endsWith('.');
  if (!trailingDot && !isWindowsDeviceName(username)) return username;
  return `_${username}${trailingDot ? '_' : ''}`;
}

/** The part of the hub's config that places student folders. */
type FoldersConfig = Parameters<typeof usersFolder>[0];

/**
 * The last component of every server root. A student can reach `../<anything starting with "home">`
 * from `<studentFolder>/home` through Notebook 6's prefix check, so nothing the hub keeps beside `home`
 * may have a name that starts with `home`.
 */
const HOME = 'home';

/** The folder holding one student's things (hub-owned): `<usersFolder>/<folderName>`. */
export function studentFolder(config: FoldersConfig, username: string): string {
  return join(usersFolder(config), folderNameFor(username));
}

/** The student's own files, their server's root and HOME: `<studentFolder>/home`. */
export function homeFolder(config: FoldersConfig, username: string): string {
  return join(studentFolder(config, username), HOME);
}

// Dot names cannot clash with student folders: usernames start with a letter or digit, and
// folderNameFor adds at most a leading `_`.
/** Present (holding LAYOUT) once every student folder is in the new layout or in HOLDING. */
const MARKER = '.lectern-layout';
const LAYOUT = '2';
/** Old-layout student folders waiting to become `<root>/<name>/home`. */
const HOLDING = '.lectern-migrating';

/**
 * The file operations the migration uses, one call each, so that a test can stop it after any of them
 * the way a crash would.
 */
export interface FolderOps {
  /** Does not follow a symlink, so a link is never taken for a student folder. */
  lstat(path: string): Promise<{ isDirectory(): boolean }>;
  readdir(path: string): Promise<string[]>;
  readText(path: string): Promise<string>;
  mkdir(path: string, options?: { recursive: boolean }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  /** Creates or truncates `path` and writes `text` to it, on disk before it returns. */
  writeFileSynced(path: string, text: string): Promise<void>;
  /** Makes the renames into and out of the folder `path` durable. */
  syncFolder(path: string): Promise<void>;
}

/** The real file system, syncing for real. */
export const nodeFolderOps: FolderOps = {
  lstat: (path) => lstat(path),
  readdir: (path) => readdir(path),
  readText: (path) => readFile(path, 'utf8'),
  mkdir: async (path, options) => {
    await mkdir(path, options);
  },
  // Windows antivirus and the indexer briefly hold files open, which blocks renaming their folder.
  rename: (from, to) => renameWithRetry(from, to),
  rmdir: (path) => rmdir(path),
  writeFileSynced: async (path, text) => {
    const handle = await open(path, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  syncFolder: (path) => syncDirectory(path),
};

/**
 * Moves student folders from the old layout (`<root>/<name>` holding the files) to the new one
 * (`<root>/<name>/home`) without losing or overwriting a file, and so that a crash (kill -9, power
 * cut) at any moment leaves a state the next call finishes correctly. Idempotent; moves nothing in a
 * root already in the new layout, empty or missing. Returns the names moved, for a log line.
 *
 * A missing or empty root is created and marked as new-layout, so that folders the hub creates later
 * are not taken for old-layout ones at the next start. For the same reason, call this before anything
 * creates a student folder. Only real folders whose names do not start with `.` are moved. Top-level
 * files, symlinks and hidden entries stay where they are.
 *
 * Only `mkdir`, atomic `rename` and the marker file change the tree. Nothing is copied, and nothing is
 * deleted except the empty holding folder.
 * 1. No marker: move each `<root>/<name>` to `<root>/.lectern-migrating/<name>`, sync both folders,
 *    then write the marker (temp file, fsync, rename, sync the root).
 * 2. For each `.lectern-migrating/<name>`: `mkdir <root>/<name>`, rename the held folder to
 *    `<root>/<name>/home`. Then remove the empty holding folder.
 * Crash points: each rename is atomic, so a folder is always in exactly one place: its old place, the
 * holding folder, or its `home`. Without the marker, only step 1 can have run. Repeating it skips
 * folders already held and overwrites a torn temp file. The marker reaches the disk only after every
 * step 1 rename has, and before any step 2 rename. So a folder that step 2 moved can never be moved
 * again, and `home/home` is impossible. In step 2, a crash can leave `<root>/<name>` created but still
 * empty; the next call reuses it. Any target that already exists is a conflict, and the migration stops
 * with an error, never replacing it. An error is handled like a crash: the next call resumes.
 */
export async function migrateStudentFolders(root: string, fs: FolderOps = nodeFolderOps): Promise<string[]> {
  if (!(await hasMarker(root, fs))) {
    await fs.mkdir(root, { recursive: true });
    await holdOldFolders(root, fs);
    await writeMarker(root, fs);
  }
  return moveHeldFolders(root, fs);
}

async function hasMarker(root: string, fs: FolderOps): Promise<boolean> {
  const marker = join(root, MARKER);
  let layout: string;
  try {
    layout = (await fs.readText(marker)).trim();
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
  if (layout === LAYOUT) return true;
  throw new Error(
    `${marker} says the student folders are in layout "${layout}", which this version of Lectern does not know. ` +
      'Use the newer Lectern that arranged them.',
  );
}

/** Step 1: every old-layout student folder into the holding folder, durably. */
async function holdOldFolders(root: string, fs: FolderOps): Promise<void> {
  const holding = join(root, HOLDING);
  try {
    await fs.mkdir(holding);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  }
  for (const name of await studentFolderNames(root, fs)) {
    await renameWithoutReplacing(join(root, name), join(holding, name), fs);
  }
  await fs.syncFolder(holding);
  await fs.syncFolder(root);
}

async function writeMarker(root: string, fs: FolderOps): Promise<void> {
  // A fixed temp name: a copy torn by a crash is truncated by the next attempt, not left behind.
  const temp = join(root, `${MARKER}.tmp`);
  await fs.writeFileSynced(temp, `${LAYOUT}\n`);
  await fs.rename(temp, join(root, MARKER));
  await fs.syncFolder(root);
}

/** Step 2: each held folder becomes `<root>/<name>/home`. */
async function moveHeldFolders(root: string, fs: FolderOps): Promise<string[]> {
  const holding = join(root, HOLDING);
  let names: string[];
  try {
    names = await studentFolderNames(holding, fs);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  for (const name of names) {
    const folder = join(root, name);
    const existing = await lstatIfExists(folder, fs);
    if (existing === null) await fs.mkdir(folder);
    else if (!existing.isDirectory()) throw conflict(join(holding, name), folder);
    await renameWithoutReplacing(join(holding, name), join(folder, HOME), fs);
  }
  try {
    await fs.rmdir(holding);
  } catch (error) {
    // Only something other than a student folder can be left, such as a file browser's `.DS_Store`.
    // That is not worth failing a start over. The folder stays, and its remaining entries are ignored.
    if (errorCode(error) !== 'ENOTEMPTY') throw error;
  }
  return names;
}

/** Real folders (not symlinks) in `dir` whose names do not start with `.`, sorted so logs read the same every run. */
async function studentFolderNames(dir: string, fs: FolderOps): Promise<string[]> {
  const names: string[] = [];
  for (const name of (await fs.readdir(dir)).sort()) {
    if (name.startsWith('.')) continue;
    if ((await fs.lstat(join(dir, name))).isDirectory()) names.push(name);
  }
  return names;
}

/**
 * `rename` refusing an existing target. POSIX lets a folder replace an empty folder, and nothing
 * should be replaced here. Nothing else touches the root while the hub starts, so the check cannot race.
 */
async function renameWithoutReplacing(from: string, to: string, fs: FolderOps): Promise<void> {
  if ((await lstatIfExists(to, fs)) !== null) throw conflict(from, to);
  await fs.rename(from, to);
}

async function lstatIfExists(path: string, fs: FolderOps): Promise<{ isDirectory(): boolean } | null> {
  try {
    return await fs.lstat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

function conflict(from: string, to: string): Error {
  return new Error(
    `Cannot move the student folder ${from} to ${to}: something is already there. ` +
      'Move one of them aside, then start Lectern again to finish rearranging the student folders.',
  );
}
