/**
 * Writing handout files into a student's folder from the hub, which runs as the teacher, outside
 * every sandbox. The student controls the folder and can plant symbolic links where the hub is about
 * to write (`lesson -> /home/teacher`, `lesson/data.csv -> ~/.bashrc`), or swap a folder for a link
 * while it writes. So:
 *
 * - no link is ever followed: every folder on the way is checked to be a real folder (not a link),
 *   and created one level at a time where missing;
 * - a file is written to a fresh temporary name opened with O_EXCL | O_NOFOLLOW, checked once open to
 *   be inside the student's folder (a folder swapped for a link shows there), synced, and renamed over
 *   the target: a rename replaces a link instead of following it, and a crash or a full disk leaves
 *   either the old file or the new one, never half of one. A temporary file a crash left behind is
 *   hidden (a dot name) and removed by the next delivery.
 */
import { constants, createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, realpath, rm, type FileHandle } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { renameWithRetry, syncDirectory } from '../store/atomic-file.js';
import { errorCode } from '../store/errors.js';

const TEMP_PREFIX = '.lectern-handout-';

const CHUNK_BYTES = 256 * 1024;

/**
 * Each chunk of an open file, from its start, up to `limit` bytes. Read from the handle itself: a
 * stream made from a FileHandle keeps it from closing until the stream is destroyed.
 */
export async function* chunksOf(handle: FileHandle, limit = Infinity): AsyncGenerator<Buffer> {
  const buffer = Buffer.alloc(CHUNK_BYTES);
  for (let position = 0; position < limit; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, limit - position), position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/** The sha256 of every chunk, in hex. */
export async function sha256Of(chunks: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** Writes every chunk to `handle`, then flushes it to the disk. */
export async function writeSynced(handle: FileHandle, chunks: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of chunks) await handle.write(chunk);
  await handle.sync();
}

/** Something of the student's is where the handout needs a folder or a file: it is left alone. */
export class InTheWay extends Error {
  override readonly name = 'InTheWay';
}

/** What is at a path in the student's folder, as far as the handout is concerned. */
export type FoundFile = { kind: 'missing' } | { kind: 'file'; sha256: string } | { kind: 'other' };

export class StudentFolderWriter {
  private realRoot: string | undefined;

  constructor(private readonly root: string) {}

  /** Creates the student's folder itself when missing (a student who never started a server). */
  async ensureRoot(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    this.realRoot = await realpath(this.root);
  }

  /** Whether anything (a file, a folder, a link) is at `segments`. */
  async exists(segments: readonly string[]): Promise<boolean> {
    return (await lstat(this.join(segments)).catch(() => null)) !== null;
  }

  /** Makes sure each folder of `segments` is a real folder, creating those missing; throws InTheWay otherwise. */
  async ensureFolder(segments: readonly string[]): Promise<void> {
    for (let depth = 1; depth <= segments.length; depth++) {
      const folder = this.join(segments.slice(0, depth));
      const facts = await lstat(folder).catch((error: unknown) => {
        if (errorCode(error) === 'ENOENT') return null;
        throw error;
      });
      if (facts === null) {
        await mkdir(folder).catch((error: unknown) => {
          if (errorCode(error) !== 'EEXIST') throw error;
        });
        const made = await lstat(folder);
        if (!made.isDirectory() || made.isSymbolicLink()) throw new InTheWay(`${segments.slice(0, depth).join('/')} is in the way`);
      } else if (!facts.isDirectory() || facts.isSymbolicLink()) {
        throw new InTheWay(`${segments.slice(0, depth).join('/')} is not a folder`);
      }
    }
  }

  /** What is at `segments`: a regular file (with its sha256), nothing, or something else (a link, a folder). */
  async find(segments: readonly string[]): Promise<FoundFile> {
    const file = this.join(segments);
    const facts = await lstat(file).catch(() => null);
    if (facts === null) return { kind: 'missing' };
    if (!facts.isFile()) return { kind: 'other' };
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
    if (handle === null) return { kind: 'other' };
    try {
      if (!(await this.isInside(handle.fd))) return { kind: 'other' };
      return { kind: 'file', sha256: await sha256Of(chunksOf(handle)) };
    } finally {
      await handle.close();
    }
  }

  /**
   * Puts a copy of `source` (a file of the hub's) at `segments`, replacing what is there, atomically.
   * The folders on the way must be real folders (`ensureFolder`).
   */
  async write(segments: readonly string[], source: string): Promise<void> {
    const target = this.join(segments);
    const folder = path.dirname(target);
    const temp = path.join(folder, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      try {
        if (!(await this.isInside(handle.fd))) throw new InTheWay(`${segments.slice(0, -1).join('/')} is not a folder`);
        await writeSynced(handle, createReadStream(source));
      } finally {
        await handle.close();
      }
      const existing = await lstat(target).catch(() => null);
      if (existing?.isDirectory()) throw new InTheWay(`${segments.join('/')} is a folder`);
      await renameWithRetry(temp, target);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
    await syncDirectory(folder);
  }

  /** Removes the temporary files a crash mid-write left in the folder at `segments`. */
  async removeLeftovers(segments: readonly string[]): Promise<void> {
    const folder = this.join(segments);
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX)) await rm(path.join(folder, name), { force: true });
    }
  }

  private join(segments: readonly string[]): string {
    return path.join(this.root, ...segments);
  }

  /** Where Linux says the open file is: inside the student's folder, unless a folder became a link. */
  private async isInside(fd: number): Promise<boolean> {
    if (process.platform !== 'linux') return true;
    this.realRoot ??= await realpath(this.root);
    const opened = await readlink(`/proc/self/fd/${fd}`).catch(() => null);
    return opened !== null && opened.startsWith(this.realRoot + path.sep);
  }
}
