import { join } from 'node:path';

/**
 * The folder holding every student's folder: `spawner.notebookRoot`, else `users` in the data dir
 * (servers/student-folders.ts places each student's in it).
 */
export function usersFolder(config: { dataDir: string; spawner: { notebookRoot: string | null } }): string {
  return config.spawner.notebookRoot ?? join(config.dataDir, 'users');
}
