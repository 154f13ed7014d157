/**
 * The file system as environment discovery sees it: a handful of read-only questions, asked about
 * paths of the platform being searched. The real machine answers them directly; tests build a
 * fake Windows, macOS or Linux tree in a temp folder and answer through `fileSystemAt(root, …)`,
 * so every OS's layout is checked on any OS.
 *
 * Every answer is a value, never an exception: a folder that cannot be read is a folder with
 * nothing in it, for discovery's purposes.
 */
import { constants } from 'node:fs';
import { access, open, readdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export interface FileFacts {
  kind: 'file' | 'directory' | 'other';
  /** May be run: the execute bit on POSIX; any file on Windows, where the name decides. */
  executable: boolean;
}

export interface DiscoveryFileSystem {
  /** Path functions of the searched platform (its separators, its idea of absolute). */
  readonly path: path.PlatformPath;
  /** What is at `file`, following links; null when nothing is there (a dangling link included). */
  stat(file: string): Promise<FileFacts | null>;
  /** The target of the symbolic link at `file`, as written in the link; null if it is not one. */
  readlink(file: string): Promise<string | null>;
  /** The names in a folder, sorted so that discovery's order is stable; [] when unreadable. */
  readdir(folder: string): Promise<string[]>;
  /** Up to `maxBytes` of a file as UTF-8, or null. */
  readText(file: string, maxBytes: number): Promise<string | null>;
  /** `file` with every link resolved; `file` itself when that is impossible. */
  realpath(file: string): Promise<string>;
  /** Where `file` is on the machine running Lectern, to run it. */
  hostPath(file: string): string;
}

/**
 * The file system of a `platform` machine whose root is the folder `root` here (for tests), or
 * this machine's own when `root` is null. A Windows path `C:\a\b` lives at `<root>/C/a/b`.
 */
export function fileSystemAt(root: string | null, platform: NodeJS.Platform = process.platform): DiscoveryFileSystem {
  const virtual = platform === 'win32' ? path.win32 : path.posix;
  const host = (file: string): string => (root === null ? file : path.join(root, ...split(virtual, file)));

  return {
    path: virtual,
    async stat(file) {
      try {
        const facts = await stat(host(file));
        const kind = facts.isFile() ? 'file' : facts.isDirectory() ? 'directory' : 'other';
        return { kind, executable: kind === 'file' && (await mayRun(host(file), platform)) };
      } catch {
        return null;
      }
    },
    async readlink(file) {
      try {
        return await readlink(host(file));
      } catch {
        return null;
      }
    },
    async readdir(folder) {
      try {
        return (await readdir(host(folder))).sort();
      } catch {
        return [];
      }
    },
    async readText(file, maxBytes) {
      try {
        const handle = await open(host(file), 'r');
        try {
          const buffer = Buffer.alloc(maxBytes);
          const { bytesRead } = await handle.read(buffer, 0, maxBytes, 0);
          return buffer.toString('utf8', 0, bytesRead);
        } finally {
          await handle.close();
        }
      } catch {
        return null;
      }
    },
    async realpath(file) {
      if (root === null) {
        try {
          return await realpath(file);
        } catch {
          return file;
        }
      }
      return resolveInRoot(root, virtual, file);
    },
    hostPath: host,
  };
}

async function mayRun(file: string, platform: NodeJS.Platform): Promise<boolean> {
  if (platform === 'win32') return true;
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The parts of an absolute path after its root: `C:\a\b` → ['C', 'a', 'b'], `/a/b` → ['a', 'b']. */
function split(virtual: path.PlatformPath, file: string): string[] {
  const parsed = virtual.parse(virtual.resolve(file));
  const drive = parsed.root.replace(/[:\\/]/g, '');
  const parts = virtual.resolve(file).slice(parsed.root.length).split(virtual.sep).filter(Boolean);
  return drive ? [drive, ...parts] : parts;
}

/**
 * Resolves links one component at a time, treating `root` as `/`: an absolute link target inside a
 * fake tree (`bin/python -> /usr/bin/python3.11`) must land in the tree, not on this machine.
 */
async function resolveInRoot(root: string, virtual: path.PlatformPath, file: string): Promise<string> {
  const rootOf = (p: string): string => virtual.parse(virtual.resolve(p)).root;
  let base = rootOf(file);
  let pending = virtual.resolve(file).slice(base.length).split(virtual.sep).filter(Boolean);
  let resolved: string[] = [];
  for (let hops = 0; pending.length > 0; ) {
    const part = pending.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    let target: string;
    try {
      target = await readlink(path.join(root, ...split(virtual, virtual.join(base, ...candidate))));
    } catch {
      resolved = candidate;
      continue;
    }
    if (++hops > 40) return file; // a loop of links
    if (virtual.isAbsolute(target)) {
      base = rootOf(target);
      resolved = [];
      pending = [...target.slice(base.length).split(/[\\/]/).filter(Boolean), ...pending];
    } else {
      pending = [...target.split(/[\\/]/).filter(Boolean), ...pending];
    }
  }
  return virtual.join(base, ...resolved);
}
