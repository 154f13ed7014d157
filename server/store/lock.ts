/**
 * One process owns a data directory at a time. sql.js keeps the database in memory and saves it
 * whole, so two hubs on one directory would silently overwrite each other's changes. The lock
 * file doubles as the running hub's business card: its loopback API URL and an admin token let
 * CLI commands act through the hub instead of touching the database behind its back (hence 0o600).
 *
 * A lock whose process has died is taken over. Deciding that a lock is stale and removing it are
 * two steps, so takeovers are serialised through a second exclusive file: without it, two starting
 * hubs could both see the same stale lock, and the slower one would delete the lock the faster one
 * had just created, leaving two owners.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { LockedError, StoreError, errorCode } from './errors.js';

export const LOCK_FILE = 'lectern.lock';
const TAKEOVER_SUFFIX = '.takeover';

/**
 * Ids of the locks and takeover markers this process holds. A file naming our own pid is only ours
 * if its id is here: in a container the hub is pid 1 on every start, so a lock left by a crash
 * names a pid that is alive (us) yet belongs to nobody.
 */
const heldHere = new Set<string>();

export interface LockInfo {
  pid: number;
  /** ISO-8601 UTC. */
  startedAt: string;
  /** Loopback URL of the running hub's API, once it listens. */
  apiUrl?: string;
  /** An admin token that lives only in the running hub's memory and this file. */
  token?: string;
  /** The hub's public URL on this machine, for CLI commands that send the teacher to a page. */
  url?: string;
}

/** What is stored: the public info plus an id telling this holder apart from a later one. */
interface LockRecord extends LockInfo {
  id: string;
}

export class DataDirLock {
  private released = false;

  /** @internal Use `acquireLock`. */
  constructor(
    readonly file: string,
    private record: LockRecord,
  ) {}

  get info(): LockInfo {
    return publicInfo(this.record);
  }

  /** Publishes new details (the API URL once the hub listens); readers never see a partial file. */
  async update(info: Partial<LockInfo>): Promise<void> {
    if (this.released) throw new StoreError(`The lock ${this.file} has been released.`);
    const record: LockRecord = { ...this.record, ...info, id: this.record.id };
    await writeFileAtomic(this.file, encode(record));
    this.record = record;
  }

  /** Removes the lock file if it is still this holder's. Safe to call again. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const current = await readRecord(this.file);
    if (current.kind === 'valid' && current.record.id === this.record.id) await removeIfPresent(this.file);
    heldHere.delete(this.record.id);
  }
}

/**
 * Claims `dataDir` for this process, taking over a lock left by a process that no longer exists.
 * Throws LockedError, whose message tells the user what to do, when a live process holds it.
 */
export async function acquireLock(dataDir: string, info: LockInfo): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, LOCK_FILE);
  const record: LockRecord = { ...info, id: randomUUID() };
  for (let attempt = 0; attempt < 2; attempt++) {
    // Registered first: from the moment the file exists, a concurrent caller here must see it held.
    heldHere.add(record.id);
    if (await createExclusive(file, encode(record))) return new DataDirLock(file, record);
    heldHere.delete(record.id);
    const holder = await readRecord(file);
    if (holder.kind === 'valid' && isHeld(holder.record)) throw new LockedError(dir, holder.record.pid, file);
    // Absent now (its owner released it) needs no takeover: just try again.
    if (holder.kind !== 'absent') await removeStale(dir, file, holder.text);
  }
  const holder = await readRecord(file);
  if (holder.kind === 'valid') throw new LockedError(dir, holder.record.pid, file);
  throw new StoreError(`Could not take over the stale lock ${file}. Make sure no Lectern is running, delete it, and try again.`);
}

/** The running hub's details, or null when no live process holds the directory. */
export async function readLock(dataDir: string): Promise<LockInfo | null> {
  const holder = await readRecord(join(resolve(dataDir), LOCK_FILE));
  if (holder.kind !== 'valid' || !isHeld(holder.record)) return null;
  return publicInfo(holder.record);
}

/**
 * Removes the lock at `file` if it still reads `staleText`. Only the holder of the takeover file
 * removes locks, and nobody can create one while one exists, so the text cannot change between the
 * check and the unlink. If the takeover file is itself held by a live process, that process is
 * starting up and will own the directory: report it as the owner.
 */
async function removeStale(dir: string, file: string, staleText: string): Promise<void> {
  const takeover = file + TAKEOVER_SUFFIX;
  const marker: LockRecord = { pid: process.pid, startedAt: new Date().toISOString(), id: randomUUID() };
  heldHere.add(marker.id);
  try {
    if (!(await createExclusive(takeover, encode(marker)))) {
      const other = await readRecord(takeover);
      if (other.kind === 'valid' && isHeld(other.record)) throw new LockedError(dir, other.record.pid, file);
      // Its taker died mid-takeover (a window of microseconds); clear it for the retry.
      await removeIfPresent(takeover);
      return;
    }
    try {
      const current = await readRecord(file);
      if (current.kind !== 'absent' && current.text === staleText) await removeIfPresent(file);
    } finally {
      await removeIfPresent(takeover);
    }
  } finally {
    heldHere.delete(marker.id);
  }
}

/**
 * Creates `file` holding `data` unless it exists; false if it does. The data is written to a temp
 * file first and hard-linked into place (which fails if the name is taken), so nobody ever reads a
 * half-written lock and mistakes it for garbage to take over. File systems without hard links
 * (FAT) fall back to an exclusive create, with that small window.
 */
async function createExclusive(file: string, data: Uint8Array): Promise<boolean> {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeNew(temp, data);
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
  } finally {
    await removeIfPresent(temp);
  }
  try {
    await writeNew(file, data);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
}

async function writeNew(file: string, data: Uint8Array): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await removeIfPresent(file);
    throw error;
  }
  await handle.close();
}

type Holder =
  | { kind: 'absent' }
  | { kind: 'invalid'; text: string }
  | { kind: 'valid'; text: string; record: LockRecord };

async function readRecord(file: string): Promise<Holder> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { kind: 'absent' };
    // Unreadable is as good as garbage: nobody can tell who owns it, so it is stale.
    return { kind: 'invalid', text: '' };
  }
  const record = parseRecord(text);
  return record ? { kind: 'valid', text, record } : { kind: 'invalid', text };
}

function parseRecord(text: string): LockRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { pid, startedAt, apiUrl, token, url, id } = value as Record<string, unknown>;
  // pid 0 and negative pids address process groups in kill(); never treat them as an owner.
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return null;
  if (typeof startedAt !== 'string' || typeof id !== 'string') return null;
  if (apiUrl !== undefined && typeof apiUrl !== 'string') return null;
  if (token !== undefined && typeof token !== 'string') return null;
  if (url !== undefined && typeof url !== 'string') return null;
  return { pid, startedAt, id, ...(apiUrl !== undefined && { apiUrl }), ...(token !== undefined && { token }), ...(url !== undefined && { url }) };
}

function publicInfo(record: LockRecord): LockInfo {
  const { id: _id, ...info } = record;
  return info;
}

function encode(record: LockRecord): Uint8Array {
  return Buffer.from(JSON.stringify(record, null, 2) + '\n', 'utf8');
}

/** Whether the process that wrote `record` still runs and still holds it. */
function isHeld(record: LockRecord): boolean {
  return record.pid === process.pid ? heldHere.has(record.id) : isAlive(record.pid);
}

/** Signal 0 checks existence without disturbing the process; EPERM means it exists as another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}

async function removeIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}
