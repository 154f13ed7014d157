/**
 * The Linux sandbox: bubblewrap (`bwrap`, Debian package `bubblewrap`), which needs no root where
 * the kernel lets ordinary users create user namespaces (most desktop distributions do).
 *
 * Each server gets a new, empty filesystem namespace holding only: the OS (`/usr`, `/etc`…) and the
 * Python environment, read-only; the student's own folder, read-write, at the same path (it is
 * their HOME and their server's root); its Jupyter runtime folder; a private `/tmp` on disk (not
 * tmpfs, which would count against the laptop's memory). Nothing else of the data dir, of other
 * students or of the teacher's home exists inside. It also gets its own PID namespace, so no other
 * process on the machine (the hub, classmates' servers and kernels, with their tokens in
 * `/proc/*\/environ`) can be seen or signalled, and its own IPC and UTS namespaces. The network is
 * shared: the server listens on loopback for the proxy and reaches the hub's API there.
 *
 * Kernels talk to their server over Unix sockets in the server's runtime folder (Jupyter's `ipc`
 * transport), not over loopback TCP ports: no classmate's process can reach them, and a class
 * starting 30 kernels at once cannot collide on a port. (A TCP port chosen free can be taken before
 * the kernel binds it, even by the server's own connection to it, which on loopback may pick the
 * very port as its source; the kernel then dies of "Address already in use" at every restart.) The
 * runtime folder is mounted at the short `/run/jupyter`, so socket paths stay within the 107 bytes
 * a Unix socket's path may have, however long the data dir's path.
 *
 * `--as-pid-1` makes the server itself PID 1 of its namespace, so when it exits, however it exits,
 * the kernel ends every process left in the namespace: orphaned kernels cannot outlive their server.
 * There is no `--die-with-parent`: a server outlives a crashed hub, which adopts it on restart.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import type { Launcher } from './launcher.js';
import { isInside, type SandboxPlace } from './place.js';

/** The parts of the OS a server needs, read-only; those a machine lacks are skipped. */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt', '/nix'];

/** What of the OS exists on this machine, and how: merged-/usr systems have `/bin` as a symlink. */
export interface SystemLayout {
  entries: { path: string; symlinkTo: string | null }[];
  /**
   * Files the OS entries point to from outside themselves: `/etc/resolv.conf` is often a link into
   * `/run` (systemd-resolved), without which nothing in the sandbox resolves host names.
   */
  linkedFiles: string[];
}

export async function systemLayout(): Promise<SystemLayout> {
  const entries: SystemLayout['entries'] = [];
  for (const entry of SYSTEM_PATHS) {
    const stats = await lstat(entry).catch(() => null);
    if (!stats) continue;
    entries.push({ path: entry, symlinkTo: stats.isSymbolicLink() ? await readlink(entry) : null });
  }
  const linkedFiles: string[] = [];
  const resolv = await realpath('/etc/resolv.conf').catch(() => null);
  if (resolv && !entries.some((entry) => entry.symlinkTo === null && isInside(resolv, entry.path))) linkedFiles.push(resolv);
  return { entries, linkedFiles };
}

/**
 * bubblewrap's arguments for one server, up to and including the `--` before its command.
 *
 * Mounts go from the shallowest path to the deepest, each on top of those above it: so the
 * student's folder shows inside a private `/tmp` when the data dir lies under `/tmp`, a hidden
 * folder that a shown one holds (a data dir under `/opt`, the teacher's home holding the Python
 * environment) is covered by an empty one, and a shown folder inside a covered one (a conda
 * install in the teacher's home) shows again.
 */
export function bubblewrapArgs(place: SandboxPlace, system: SystemLayout): string[] {
  const systemFolders = system.entries.filter((entry) => entry.symlinkTo === null).map((entry) => entry.path);
  const shown = [...systemFolders, ...place.readOnly];
  const covered = place.hidden.filter((hidden) => shown.some((folder) => isInside(hidden, folder)));
  const mounts: Mount[] = [
    ...system.entries.map((entry): Mount =>
      entry.symlinkTo === null ? { path: entry.path, args: ['--ro-bind', entry.path, entry.path], order: 0 } : { path: entry.path, args: ['--symlink', entry.symlinkTo, entry.path], order: 0 },
    ),
    ...system.linkedFiles.map((file): Mount => ({ path: file, args: ['--ro-bind', file, file], order: 0 })),
    { path: '/proc', args: ['--proc', '/proc'], order: 0 },
    { path: '/dev', args: ['--dev', '/dev'], order: 0 },
    ...place.readOnly
      // The OS's folders show already, unless a covered folder holds them.
      .filter((folder) => !systemFolders.some((os) => isInside(folder, os)) || covered.some((hidden) => isInside(folder, hidden)))
      .map((folder): Mount => ({ path: folder, args: ['--ro-bind', folder, folder], order: 0 })),
    // After a read-only mount of the same folder: a hidden folder stays hidden.
    ...covered.map((hidden): Mount => ({ path: hidden, args: ['--tmpfs', hidden], order: 1 })),
    { path: SANDBOX_TMP, args: ['--bind', place.tmpDir, SANDBOX_TMP], order: 2 },
    { path: place.home, args: ['--bind', place.home, place.home], order: 2 },
    { path: SANDBOX_RUNTIME, args: ['--bind', place.runtimeDir, SANDBOX_RUNTIME], order: 2 },
  ];
  mounts.sort((a, b) => depth(a.path) - depth(b.path) || a.order - b.order);
  return ['--unshare-all', '--share-net', '--as-pid-1', ...mounts.flatMap((mount) => mount.args), '--chdir', place.home, '--info-fd', '3', '--'];
}

interface Mount {
  /** Where it appears in the sandbox. */
  path: string;
  args: string[];
  /** Among mounts at the same depth: read-only first, then covers, then the server's own folders. */
  order: number;
}

function depth(folder: string): number {
  return folder.split('/').filter(Boolean).length;
}

/** Where the server's private temporary folder appears inside the sandbox. */
const SANDBOX_TMP = '/tmp';
/** Where its Jupyter runtime folder appears: short, for the kernels' socket paths. */
export const SANDBOX_RUNTIME = '/run/jupyter';

/**
 * The Jupyter config that makes a server's kernels talk over Unix sockets, to be written as each
 * of `KERNELS_OVER_IPC_FILES` in a folder the sandbox can read (`kernelsConfigDir`).
 */
export const KERNELS_OVER_IPC = { KernelManager: { transport: 'ipc' } };
/** Jupyter Server reads the first, Notebook 6 (and `jupyterhub-singleuser` built on it) the second. */
export const KERNELS_OVER_IPC_FILES = ['jupyter_server_config.json', 'jupyter_notebook_config.json'];

export function bubblewrapLauncher(bwrap: string, system: SystemLayout, kernelsConfigDir: string): Launcher {
  return {
    sandbox: 'bubblewrap',
    wrap: (command, place) => ({
      command: [bwrap, ...bubblewrapArgs(place, system), ...command],
      environment: { TMPDIR: SANDBOX_TMP, JUPYTER_RUNTIME_DIR: SANDBOX_RUNTIME, JUPYTER_CONFIG_PATH: kernelsConfigDir },
      reportsServerPid: true,
    }),
  };
}

/** The arguments of the check that bubblewrap can make a sandbox here at all (user and PID namespaces). */
export const BUBBLEWRAP_CHECK_ARGS = ['--unshare-all', '--share-net', '--as-pid-1', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', 'true'];
