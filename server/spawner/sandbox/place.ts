/**
 * What a server's sandbox must know about where it lives, whatever the operating system's sandbox
 * (bubblewrap on Linux, Seatbelt on macOS). The caller resolves symbolic links first: a sandbox
 * sees the paths the kernel resolved, so a place named through a link would name nothing.
 */

import path from 'node:path';

/** Whether `child` is `parent` or lies inside it (both absolute, as the OS writes them). */
export function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Where one server lives, as its sandbox must know it. Every path absolute. */
export interface SandboxPlace {
  /** The student's folder: read-write, and their HOME. */
  home: string;
  /** Jupyter's runtime folder for this server (connection files): read-write. */
  runtimeDir: string;
  /** This server's private temporary folder (its TMPDIR): read-write. */
  tmpDir: string;
  /** Folders and files the server may read but not change: the Python environment, the hub's Jupyter config folder, the program run. */
  readOnly: string[];
  /** Folders the server must never read, even where a broader rule would allow it: the hub's data dir, the folder of all students' folders, the teacher's home. */
  hidden: string[];
}
