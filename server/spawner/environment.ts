/**
 * The environment a single-user server starts with: an allow-list of the hub's own variables (never
 * everything: the hub's environment can hold secrets), the JupyterHub 3.0 contract, then the
 * teacher's configured variables, which win.
 */
import { delimiter, join } from 'node:path';
import { accessSync, constants } from 'node:fs';

/** JupyterHub's `env_keep`, plus what each OS needs for Python to start at all. */
const KEEP_EVERYWHERE = [
  'PATH',
  'PYTHONPATH',
  'CONDA_ROOT',
  'CONDA_DEFAULT_ENV',
  'VIRTUAL_ENV',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'JUPYTERHUB_SINGLEUSER_APP',
];
const KEEP_ON_WINDOWS = ['SYSTEMROOT', 'SYSTEMDRIVE', 'WINDIR', 'COMSPEC', 'PATHEXT', 'TEMP', 'TMP', 'PROGRAMDATA'];

export function keptHubEnvironment(
  hubEnv: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Record<string, string> {
  // Not TMPDIR: each server gets a private one (see sandbox/launcher.ts).
  const names = [...KEEP_EVERYWHERE, ...(platform === 'win32' ? KEEP_ON_WINDOWS : [])];
  const kept: Record<string, string> = {};
  for (const name of names) {
    const value = hubEnv[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/** The full path of `command` found on `path` (or the command itself if it is a path), or null. */
export function findExecutable(
  command: string,
  path = process.env.PATH ?? '',
  platform: NodeJS.Platform = process.platform,
): string | null {
  const extensions = platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : [''];
  const candidates = /[\\/]/.test(command)
    ? extensions.map((ext) => command + ext)
    : path
        .split(delimiter)
        .filter(Boolean)
        .flatMap((dir) => extensions.map((ext) => join(dir, command + ext)));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, platform === 'win32' ? constants.F_OK : constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}
