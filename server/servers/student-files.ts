/**
 * Reading a student's files from the hub, which runs as the teacher, outside every sandbox: the
 * student controls the folder, so every path is checked to stay inside it. A student can make
 * symbolic links to anything (`grades -> /home/teacher/grades.xlsx`, `x -> ../anna/home`); a path is
 * followed only where it really ends up inside the student's folder, and the file opened is checked
 * again once open, so that swapping a folder for a link in between gains nothing. Hidden files
 * (`.ssh`, `.ipython`) are not shown, as Jupyter does not show them.
 */
import { constants } from 'node:fs';
import { open, readdir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface StudentEntry {
  name: string;
  kind: 'folder' | 'file';
  size: number;
  modified: string;
}

/** A path outside the student's folder, hidden, or not there: all the same to the caller (a 404). */
export class NotInStudentFolder extends Error {
  override readonly name = 'NotInStudentFolder';
}

export type StudentPath = { kind: 'folder'; entries: StudentEntry[] } | { kind: 'file'; size: number; modified: string };

export class StudentFiles {
  constructor(private readonly home: string) {}

  /** What is at `segments` (URL-decoded path segments below the student's folder). */
  async at(segments: readonly string[]): Promise<StudentPath> {
    const real = await this.resolve(segments);
    const facts = await stat(real);
    if (facts.isDirectory()) return { kind: 'folder', entries: await this.list(real) };
    if (!facts.isFile()) throw new NotInStudentFolder('not a file');
    return { kind: 'file', size: facts.size, modified: facts.mtime.toISOString() };
  }

  /** The file's first `maxBytes` bytes, and whether that was all of it. */
  async read(segments: readonly string[], maxBytes: number): Promise<{ bytes: Buffer; complete: boolean }> {
    const { handle, size } = await this.open(segments);
    try {
      const length = Math.min(size, maxBytes);
      const bytes = Buffer.alloc(length);
      const { bytesRead } = await handle.read(bytes, 0, length, 0);
      return { bytes: bytes.subarray(0, bytesRead), complete: size <= maxBytes };
    } finally {
      await handle.close();
    }
  }

  /** The file at `segments`, open for reading, and its size; the caller closes it. */
  async open(segments: readonly string[]): Promise<{ handle: FileHandle; size: number }> {
    const real = await this.resolve(segments);
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => {
      throw new NotInStudentFolder('cannot be opened');
    });
    try {
      await this.checkOpened(handle.fd);
      const facts = await handle.stat();
      if (!facts.isFile()) throw new NotInStudentFolder('not a file');
      return { handle, size: facts.size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  private async list(folder: string): Promise<StudentEntry[]> {
    const entries: StudentEntry[] = [];
    const here = path.relative(await this.root(), folder).split(path.sep).filter(Boolean);
    for (const name of await readdir(folder)) {
      if (name.startsWith('.')) continue;
      // A link is listed as what it leads to only when that is inside the folder.
      const target = await this.resolve([...here, name]).catch(() => null);
      const facts = target === null ? null : await stat(target).catch(() => null);
      if (facts === null || (!facts.isDirectory() && !facts.isFile())) continue;
      entries.push({ name, kind: facts.isDirectory() ? 'folder' : 'file', size: facts.size, modified: facts.mtime.toISOString() });
    }
    return entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1));
  }

  /** The real path `segments` lead to, which must be inside the student's folder. */
  private async resolve(segments: readonly string[]): Promise<string> {
    for (const segment of segments) {
      if (segment === '' || segment === '.' || segment === '..' || segment.startsWith('.') || /[/\\\0]/.test(segment)) {
        throw new NotInStudentFolder(`not a name in a student's folder: ${JSON.stringify(segment)}`);
      }
    }
    const root = await this.root();
    const real = await realpath(path.join(root, ...segments)).catch(() => {
      throw new NotInStudentFolder('not there');
    });
    if (!inside(real, root)) throw new NotInStudentFolder('outside the folder');
    return real;
  }

  private async root(): Promise<string> {
    return realpath(this.home).catch(() => {
      throw new NotInStudentFolder('the student has no folder yet');
    });
  }

  /** Where Linux says the open file is: a folder swapped for a link after `resolve` shows here. */
  private async checkOpened(fd: number): Promise<void> {
    const opened = await readlink(`/proc/self/fd/${fd}`).catch(() => null);
    if (opened !== null && !inside(opened, await this.root())) throw new NotInStudentFolder('outside the folder');
  }
}

function inside(child: string, root: string): boolean {
  return child === root || child.startsWith(root + path.sep);
}

