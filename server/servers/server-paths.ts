/**
 * Where each server's files are. The student's own folder is shared by all their servers; each
 * server has a hub-owned folder of its own under the data dir's `runtime/`, holding its API token
 * (which only the hub reads) beside the two folders the server itself writes: Jupyter's runtime
 * files and its private temporary folder. Only those two, never the token, are inside its sandbox.
 */
import { join } from 'node:path';
import { folderNameFor, homeFolder } from './student-folders.js';

export interface ServerPaths {
  /** The student's own folder: the server's root and HOME. */
  home: string;
  /** JUPYTER_RUNTIME_DIR: connection files with kernel keys, outside the student's folder. */
  runtimeDir: string;
  /** The server's private temporary folder. */
  tmpDir: string;
  /** The server's API token while it runs, so a restarted hub can prove the server is ours. */
  tokenFile: string;
  logFile: string;
}

type PathsConfig = Parameters<typeof homeFolder>[0];

/** Server names cannot start with `_`, so `_default` is free for the default server's folder. */
export function serverPaths(config: PathsConfig, user: string, name: string): ServerPaths {
  const folder = folderNameFor(user);
  const serverDir = join(config.dataDir, 'runtime', folder, name || '_default');
  return {
    home: homeFolder(config, user),
    runtimeDir: join(serverDir, 'jupyter'),
    tmpDir: join(serverDir, 'tmp'),
    tokenFile: join(serverDir, 'hub-api-token'),
    logFile: name ? join(config.dataDir, 'logs', folder, `${name}.log`) : join(config.dataDir, 'logs', `${folder}.log`),
  };
}
