/**
 * What the rest of the hub may know about a student's server: its phase, its progress while it
 * starts, its use of the machine, and whether it is sandboxed. The server manager keeps these; the
 * pages, the REST API and the teacher's live dashboard read them.
 */
import type { SandboxKind } from '../spawner/sandbox/launcher.js';

export type ServerPhase = 'stopped' | 'spawning' | 'running' | 'stopping';

/** One event of the progress stream, in JupyterHub's shape. */
export interface ProgressEvent {
  progress: number;
  message: string;
  ready?: true;
  failed?: true;
  url?: string;
  html_message?: string;
}

/** A running server's use of the machine: its whole process tree (server and kernels). */
export interface ServerUsage {
  cpuPercent: number;
  /** Each page once (proportional set size) where the OS says, else resident memory (spawner/processes.ts). */
  memoryBytes: number;
  processes: number;
}

export interface ServerView {
  phase: ServerPhase;
  /** Latest CPU and memory figures while it runs, if the OS gives them. */
  usage: ServerUsage | null;
  /** Why the last start failed or the server stopped on its own; cleared by the next start. */
  failure: string | null;
  /** Something the student should know about the running server (a kernel stopped for using too much memory); cleared by the next start. */
  notice: string | null;
  /** The sandbox it runs in, null when it is not isolated; null too while stopped. */
  sandbox: SandboxKind | null;
  /** While it waits for a free start slot, its 1-based place in the line; null otherwise. */
  queuePosition: number | null;
  started: string | null;
  events: readonly ProgressEvent[];
}

/** A server as the teacher's dashboard lists it. */
export interface ServerState {
  user: string;
  /** `''` for the user's default server. */
  name: string;
  phase: ServerPhase;
  started: string | null;
  /** Why its last start failed, or why it stopped on its own; null otherwise. */
  failure: string | null;
  notice: string | null;
  sandbox: SandboxKind | null;
  /** While it waits for a free start slot, its 1-based place in the line; null otherwise. */
  queuePosition: number | null;
}

/** A running server's latest CPU and memory figures. */
export interface ServerUsageSample {
  user: string;
  name: string;
  cpuPercent: number;
  memoryBytes: number;
}
