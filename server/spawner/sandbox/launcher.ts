/**
 * A launcher turns the command that runs a student's server into the command the hub spawns: as it
 * is, or inside a sandbox. The local process spawner composes one; nothing else about starting,
 * watching or stopping a server depends on which.
 */
import type { SandboxPlace } from './place.js';

/** The sandboxes Lectern knows: bubblewrap on Linux, sandbox-exec (Seatbelt) on macOS. */
export type SandboxKind = 'bubblewrap' | 'sandbox-exec';

export interface LaunchCommand {
  /** What to spawn: the program, then its arguments. */
  command: string[];
  /** Variables that differ inside the sandbox (its private TMPDIR). */
  environment: Record<string, string>;
  /**
   * The spawned process is a wrapper that reports the sandboxed server's PID on file descriptor 3,
   * as bubblewrap's `--info-fd` JSON (`{"child-pid": N}`): the server is then a process of its own,
   * to be signalled directly, since the wrapper dies of the first SIGINT without passing it on.
   */
  reportsServerPid: boolean;
}

export interface Launcher {
  /** The sandbox servers run in; null when they are not isolated. */
  readonly sandbox: SandboxKind | null;
  wrap(command: readonly string[], place: SandboxPlace): LaunchCommand;
}

/** No sandbox: the server runs as the hub's own OS user, with everything that user can reach. */
export const unsandboxed: Launcher = {
  sandbox: null,
  wrap: (command, place) => ({ command: [...command], environment: { TMPDIR: place.tmpDir }, reportsServerPid: false }),
};
