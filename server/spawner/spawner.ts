/**
 * The Spawner contract: how the hub starts, watches and stops one single-user Jupyter server.
 * Written to match JupyterHub's `Spawner` so its docs apply:
 *
 * - `start()` launches the server and resolves with the URL the proxy should forward to
 *   (`http://127.0.0.1:PORT`, no path: the server serves under its own `/user/<name>/` prefix).
 *   It does not wait for the server to answer; the hub does that (see readiness.ts).
 * - `poll()` resolves `null` while the server runs, else its exit code (0 when unknown).
 * - `stop()` stops the server and everything it started. Idempotent. `{ quitting: true }` when the
 *   hub quits: no one waits for a clean shutdown then, so it may be cut short.
 * - `state` is what must survive a hub restart to find the server again.
 * - `onExit` is called once, as soon as the server's process ends for any reason, so the hub can
 *   drop its route within a second instead of waiting for a poll.
 *
 * The hub gets spawners from a `SpawnerFactory`, chosen from the configuration (server/index.ts):
 * the server manager never names an implementation.
 */
import type { LaunchMode } from './discovery.js';
import type { SandboxKind } from './sandbox/launcher.js';

/** What the hub tells a spawner about the server it wants. */
export interface SpawnContext {
  /** The student's name, and the server's name ('' for the default server). */
  user: string;
  serverName: string;
  /** The JupyterHub environment contract (JUPYTERHUB_*), minus what depends on the port. */
  hubEnvironment: Record<string, string>;
  /** The token the server accepts (its hub API token): how the hub proves it is talking to it. */
  token: string;
  /** URL prefix the server serves under, e.g. `/user/alice/`. */
  servicePrefix: string;
  /** The student's own folder: the server's root and the student's HOME. Created if missing. */
  home: string;
  /** Jupyter's runtime files (connection files hold kernel keys): outside the student's folder. */
  runtimeDir: string;
  /** The server's private temporary folder. */
  tmpDir: string;
  /** Where the server's output goes. */
  logFile: string;
  /** The page a student lands on (`/lab`, `/tree`); empty for the server's own default. */
  defaultUrl: string;
  /**
   * Run the server, and so its kernels, below the hub's CPU priority: a student's, so that while a
   * class starts its servers the hub's pages and proxy still answer at once. A teacher's own server
   * (a demo on the projector) keeps the hub's priority.
   */
  lowPriority: boolean;
}

export interface StopOptions {
  /** The hub is quitting: everything stops at once, and a slow clean shutdown is cut short. */
  quitting?: boolean;
}

export interface Spawner {
  start(): Promise<string>;
  /**
   * Takes over a server started by a previous hub process, from its saved `state`, and resolves
   * with its URL. Only called after the server answered at that URL with its own token.
   */
  adopt(state: Record<string, unknown>): Promise<string>;
  poll(): Promise<number | null>;
  stop(options?: StopOptions): Promise<void>;
  readonly state: Record<string, unknown>;
  /**
   * The process the spawner started, while it runs and may be signalled: the root of the server's
   * whole process tree (a sandbox, the server, its kernels and whatever they started), for CPU and
   * memory figures.
   */
  readonly pid?: number | undefined;
  /** The Jupyter server's own process while it runs (inside its sandbox): its children are its kernels. */
  readonly serverPid?: number | undefined;
  /** The sandbox the server runs in; null when it is not isolated from the rest of the machine. */
  readonly sandbox: SandboxKind | null;
  onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
}

/** How new servers start now: their launch mode (which decides how browsers are let in) and their spawners. */
export interface PreparedSpawn {
  mode: LaunchMode;
  sandbox: SandboxKind | null;
  create(context: SpawnContext): Spawner;
}

export interface SpawnerFactory {
  /**
   * Gets ready to start a server: rejects with a `SpawnError` saying what the teacher must fix when
   * servers cannot start (no Jupyter found, a sandbox required and none works here).
   */
  prepare(): Promise<PreparedSpawn>;
  /** A spawner to take over a server a previous hub started (then `adopt(state)`). */
  forAdoption(context: SpawnContext): Spawner;
  /** Ends what the factory keeps running for future starts (fork servers), once every server is stopped. */
  close(): Promise<void>;
}

/** A failure a student or teacher can act on: its message is shown to them as it is. */
export class SpawnError extends Error {
  override readonly name: string = 'SpawnError';
}

/** A start refused because the machine is full (too many servers, too little memory): try later. */
export class CapacityError extends SpawnError {
  override readonly name = 'CapacityError';
}
