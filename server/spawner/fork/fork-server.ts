/**
 * The hub's side of a fork server (fork-server.py, which says how a fork becomes a student's
 * server): one Python process per Jupyter environment and launch mode, which has imported the
 * server's modules once and forks each student's server from itself. A server then starts without
 * importing Jupyter again, and the pages those imports filled are shared by every server forked.
 *
 * The fork server speaks JSON lines on its stdin and stdout. The requests hold the students' tokens
 * (in their environments): they go through the pipe only, never on a command line or into a log.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../logging/logger.js';
import { installRoot } from '../../package-info.js';

/**
 * The fork server's program, beside this file's source. Python cannot read inside the desktop app's
 * archive (`app.asar`), so the app ships it unpacked beside the archive (electron-builder.yml).
 */
export const FORK_SERVER_SCRIPT = join(installRoot.replace(/\.asar$/, '.asar.unpacked'), 'server', 'spawner', 'fork', 'fork-server.py');

/** How a forked server runs its program: as `python -m MODULE` or as `python SCRIPT`. */
export type ForkProgram = { module: string } | { script: string };

/** What a fork server is started with: the environment's interpreter, and what it imports. */
export interface ForkServerSpec {
  python: string;
  program: ForkProgram;
  /** Modules to import before forking: the server's own, which is most of its start. */
  preload: string[];
  /** Whether each server forks its ipykernel kernels too (kernel-forks.py); `preload` then imports ipykernel. */
  forkKernels: boolean;
  /**
   * Its environment while it imports: what every server of this environment gets alike (a
   * module may read a variable as it is imported, as `jupyterhub.singleuser` reads
   * JUPYTERHUB_SINGLEUSER_APP). Each server gets its own full environment in place of it.
   */
  environment: Record<string, string>;
}

export interface ForkRequest {
  /** The server's command line after the interpreter: `sys.argv`. */
  argv: string[];
  environment: Record<string, string>;
  cwd: string;
  logFile: string;
  /** The PID of the placeholder in the student's sandbox, whose namespaces the server joins; null unsandboxed. */
  sandboxPlaceholder: number | null;
  /** Its nice value, set in the fork before anything else starts (its kernels inherit it); null: the fork server's. */
  nice: number | null;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ForkedServer {
  pid: number;
  /** Its end; null when the fork server itself ended first, and with it the news of the server's end. */
  exited: Promise<ServerExit | null>;
}

/** How long importing a server's modules may take (a cold disk, a slow laptop) before forking is given up. */
const PRELOAD_TIMEOUT_MS = 120_000;

type Message =
  | { ready: { modules: string[]; seconds: number } }
  | { unusable: string }
  | { forked: number; pid?: number; error?: string }
  | { exited: number; code: number | null; signal: number | null };

/** Why a fork server could not be started, or could not fork a server. */
export class ForkError extends Error {
  override readonly name = 'ForkError';
}

export class ForkServer {
  private nextRequest = 1;
  private readonly waiting = new Map<number, { resolve: (server: ForkedServer) => void; reject: (error: Error) => void }>();
  private readonly exits = new Map<number, (exit: ServerExit | null) => void>();
  private ended = false;
  private closing = false;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
    private readonly program: ForkProgram,
    private readonly log: Logger,
  ) {}

  /** Starts one and waits until it has imported everything; rejects with a ForkError saying why it cannot serve. */
  static async start(spec: ForkServerSpec, log: Logger): Promise<ForkServer> {
    // -s: no user site folder; each server's environment, its HOME included, comes with its fork.
    const child = spawn(spec.python, ['-s', FORK_SERVER_SCRIPT], {
      env: spec.environment,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C in the hub's terminal is the hub's to handle.
      detached: true,
    });
    const server = new ForkServer(child, spec.program, log);
    return server.ready(spec);
  }

  /** Whether it has ended (closed, or died): it forks no more servers. */
  get hasEnded(): boolean {
    return this.ended;
  }

  /** Forks a server; rejects with a ForkError when it could not be started. */
  fork(request: ForkRequest): Promise<ForkedServer> {
    if (this.ended) return Promise.reject(new ForkError('the fork server has ended'));
    const id = this.nextRequest++;
    this.send({ fork: id, run: this.program, argv: request.argv, env: request.environment, cwd: request.cwd, log: request.logFile, sandbox: request.sandboxPlaceholder, nice: request.nice });
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  /** Ends it. The servers it forked run on; their ends are then no longer reported (`exited` gives null). */
  close(): void {
    this.closing = true;
    this.child.stdin.end();
  }

  private ready(spec: ForkServerSpec): Promise<ForkServer> {
    let started = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new ForkError(`importing ${spec.preload.join(', ')} took over ${PRELOAD_TIMEOUT_MS / 1000} s`));
        this.child.kill('SIGKILL');
      }, PRELOAD_TIMEOUT_MS);
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new ForkError(why));
      };
      this.child.once('error', (error) => fail(`${spec.python} could not be run: ${error.message}`));
      this.child.once('exit', (code, signal) => {
        const serving = this.exits.size;
        this.end();
        fail(`it ended at its start (${signal ?? `exit code ${code}`})`);
        if (started && !this.closing) this.log.warn('a fork server ended: its servers run on, watched by polling; the next start begins a new one', { code, signal, serving });
      });
      this.child.stdin.on('error', () => undefined);
      const stderr = createInterface({ input: this.child.stderr });
      stderr.on('line', (line) => this.log.warn('fork server', { python: spec.python, output: line }));
      const lines = createInterface({ input: this.child.stdout });
      lines.on('line', (line) => {
        const message = JSON.parse(line) as Message;
        if ('ready' in message) {
          clearTimeout(timer);
          started = true;
          this.log.info('fork server ready', { python: spec.python, modules: message.ready.modules.join(' '), seconds: message.ready.seconds });
          resolve(this);
        } else if ('unusable' in message) {
          fail(message.unusable);
        } else {
          this.receive(message);
        }
      });
      this.send({ preload: spec.preload, forkKernels: spec.forkKernels });
    });
  }

  private receive(message: Exclude<Message, { ready: unknown } | { unusable: string }>): void {
    if ('forked' in message) {
      const waiter = this.waiting.get(message.forked);
      this.waiting.delete(message.forked);
      if (message.pid === undefined) return waiter?.reject(new ForkError(message.error ?? 'no reason given'));
      const exited = new Promise<ServerExit | null>((resolve) => this.exits.set(message.pid as number, resolve));
      waiter?.resolve({ pid: message.pid, exited });
      return;
    }
    const resolve = this.exits.get(message.exited);
    this.exits.delete(message.exited);
    resolve?.({ code: message.code, signal: message.signal === null ? null : signalName(message.signal) });
  }

  /** Its end, expected or not: whoever still waits is told. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const { reject } of this.waiting.values()) reject(new ForkError('the fork server ended'));
    this.waiting.clear();
    for (const resolve of this.exits.values()) resolve(null);
    this.exits.clear();
  }

  private send(message: object): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }
}

function signalName(number: number): NodeJS.Signals | null {
  const names = Object.entries(constants.signals) as [NodeJS.Signals, number][];
  return names.find(([, value]) => value === number)?.[0] ?? null;
}
