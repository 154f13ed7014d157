/**
 * Runs a single-user server as a child process of the hub, on loopback, as the same OS user.
 *
 * Each server gets its own process group (on Windows, taskkill stops its tree), so stopping it also
 * stops the kernels it started. Stopping escalates SIGINT → SIGTERM → SIGKILL, each with a timeout,
 * as JupyterHub's LocalProcessSpawner does. Output goes to a log file per server, which the server
 * keeps writing to even if the hub dies.
 *
 * After a hub crash a server can be adopted (`adopt`). It is then no child of ours: its death is
 * noticed by polling, and it is signalled only if its PID still names the process we started (same
 * start time); otherwise it is asked to shut down over HTTP, with its own token.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { delimiter } from 'node:path';
import { commandLine } from './command-line.js';
import type { LaunchMode, LaunchPlan } from './discovery.js';
import { keptHubEnvironment } from './environment.js';
import { freeLoopbackPort } from './free-port.js';
import { processStartTime } from './processes.js';
import { SpawnError, type SpawnContext, type Spawner } from './spawner.js';

export interface LocalProcessOptions {
  /** What to run (see launch-plan.ts); not needed to adopt a server a previous hub started. */
  plan: LaunchPlan | undefined;
  /** The teacher's extra arguments, after Lectern's. */
  args: string[];
  /** Configured variables; they override everything else. */
  environment: Record<string, string>;
  /** Seconds to wait after SIGINT, SIGTERM and SIGKILL. */
  stopTimeouts: { interrupt: number; terminate: number; kill: number };
  log: Logger;
}

/** What a hub restart needs to find the server again. */
export interface LocalProcessState {
  pid: number;
  port: number;
  /** How it was launched: decides how the proxy lets browsers in. */
  mode: LaunchMode;
  /** When the process started, as the OS tells it; null where the OS cannot say. */
  startTime: string | null;
}

/** How often an adopted server (no exit event to wait for) is checked for life. */
const ADOPTED_POLL_MS = 2000;

export class LocalProcessSpawner implements Spawner {
  onExit: Spawner['onExit'];
  private pid: number | undefined;
  private port = 0;
  private mode: LaunchMode = 'singleuser';
  private startTime: string | null = null;
  /** May signal `pid`: it is our child, or adopted with a matching start time. */
  private mayHaveSignals = false;
  private exitCode: number | null = null;
  private exited: Promise<void> = Promise.resolve();
  private markExited: (code: number | null, signal: NodeJS.Signals | null) => void = () => {};
  private watcher: NodeJS.Timeout | undefined;

  constructor(
    private readonly context: SpawnContext,
    private readonly options: LocalProcessOptions,
  ) {}

  get state(): Record<string, unknown> {
    if (!this.pid) return {};
    const state: LocalProcessState = { pid: this.pid, port: this.port, mode: this.mode, startTime: this.startTime };
    return { ...state };
  }

  /** The server's process group (its PID), while it runs and may be signalled. */
  get processGroup(): number | undefined {
    return this.mayHaveSignals && this.exitCode === null ? this.pid : undefined;
  }

  async start(): Promise<string> {
    if (this.pid && this.exitCode === null) return this.url();
    const { plan } = this.options;
    if (!plan) throw new Error('LocalProcessSpawner.start() needs a launch plan');
    const [executable = '', ...commandArgs] = plan.command;
    this.mode = plan.mode;
    this.port = await freeLoopbackPort();
    mkdirSync(this.context.notebookDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.context.runtimeDir, { recursive: true, mode: 0o700 });
    mkdirSync(dirname(this.context.logFile), { recursive: true, mode: 0o700 });
    const launch = commandLine(
      plan,
      { port: this.port, servicePrefix: this.context.servicePrefix, notebookDir: this.context.notebookDir, defaultUrl: this.context.defaultUrl },
      { ...this.context.hubEnvironment, JUPYTERHUB_SERVICE_URL: `${this.url()}${this.context.servicePrefix}` },
      this.context.token,
    );
    const args = [...commandArgs, ...launch.args, ...this.options.args];
    // Jupyter refuses to run as root unless told; CI and some lab machines run everything as root.
    if (process.getuid?.() === 0 && !args.includes('--allow-root')) args.push('--allow-root');
    const environment = this.environment(launch.environment, plan.pathPrefix);
    const logFd = openSync(this.context.logFile, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(executable, args, {
        cwd: this.context.notebookDir,
        env: environment,
        detached: process.platform !== 'win32',
        stdio: ['ignore', logFd, logFd],
        windowsHide: true,
      });
    } finally {
      closeSync(logFd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(new SpawnError(`Cannot start a Jupyter server with "${executable}": ${error.message}`)),
      );
    });
    this.track(child.pid as number, true);
    child.once('exit', (code, signal) => {
      // The server is gone; anything it left in its group (kernels) goes too. Only for our own
      // child: the group of a process seen dead by polling may have a new owner by now.
      this.markExited(code, signal);
      this.signalGroup('SIGKILL');
    });
    this.startTime = await processStartTime(this.pid as number);
    this.options.log.info(`started server for ${this.context.user}`, { pid: child.pid, port: this.port });
    return this.url();
  }

  /**
   * Takes over a server a previous hub process started, from its saved state. The caller has
   * already checked that the server answers at its port with its token.
   */
  async adopt(state: Record<string, unknown>): Promise<string> {
    const saved = state as unknown as LocalProcessState;
    this.port = saved.port;
    this.mode = saved.mode;
    this.startTime = saved.startTime;
    const sameProcess = saved.startTime !== null && (await processStartTime(saved.pid)) === saved.startTime;
    this.track(saved.pid, sameProcess);
    this.watcher = setInterval(() => void this.checkAdopted(), ADOPTED_POLL_MS);
    this.watcher.unref();
    this.options.log.info(`adopted the server for ${this.context.user}`, { pid: saved.pid, port: saved.port, signals: sameProcess });
    return this.url();
  }

  async poll(): Promise<number | null> {
    return this.pid ? this.exitCode : 0;
  }

  async stop(): Promise<void> {
    if (!this.pid || this.exitCode !== null) return;
    if (!this.mayHaveSignals) {
      // Not provably the process we started: ask the server itself, which its token allows.
      await this.shutdownOverHttp();
      if (await this.exitsWithin(this.options.stopTimeouts.interrupt * 1000)) return;
      this.options.log.error(`the adopted server for ${this.context.user} did not shut down`, { pid: this.pid });
      return;
    }
    const { interrupt, terminate, kill } = this.options.stopTimeouts;
    const ladder: [NodeJS.Signals, number][] = [
      ['SIGINT', interrupt],
      ['SIGTERM', terminate],
      ['SIGKILL', kill],
    ];
    for (const [signal, seconds] of ladder) {
      this.signalGroup(signal);
      if (await this.exitsWithin(seconds * 1000)) return;
      this.options.log.warn(`server for ${this.context.user} still running after ${signal}`, { pid: this.pid });
    }
    this.options.log.error(`could not stop the server for ${this.context.user}`, { pid: this.pid });
  }

  private track(pid: number, mayHaveSignals: boolean): void {
    this.pid = pid;
    this.mayHaveSignals = mayHaveSignals;
    this.exitCode = null;
    this.exited = new Promise((resolve) => {
      this.markExited = (code, signal) => {
        if (this.exitCode !== null) return;
        this.exitCode = code ?? 0;
        clearInterval(this.watcher);
        this.options.log.info(`server for ${this.context.user} exited`, { pid, code, signal });
        resolve();
        this.onExit?.(code, signal);
      };
    });
  }

  /** An adopted server has no exit event: it is alive while its process (or, unverified, its port) is. */
  private async checkAdopted(): Promise<void> {
    const alive = this.mayHaveSignals
      ? (await processStartTime(this.pid as number)) === this.startTime
      : await answers(`${this.url()}${this.context.servicePrefix}api`);
    if (!alive) this.markExited(null, null);
  }

  private shutdownOverHttp(): Promise<void> {
    const { token } = this.context;
    return new Promise((resolve) => {
      const req = request(`${this.url()}${this.context.servicePrefix}api/shutdown`, {
        method: 'POST',
        headers: { Authorization: `token ${token}` },
        timeout: 5000,
      });
      req.on('response', (res) => {
        res.resume();
        resolve();
      });
      req.on('error', () => resolve());
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }

  private url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * The hub's allow-listed variables, the launch's own (JupyterHub contract or token), the
   * student's folders, then the teacher's configured variables, which win. A variable the teacher
   * exported before starting the hub (JUPYTERHUB_SINGLEUSER_APP, say) wins over Lectern's guess.
   */
  private environment(launch: Record<string, string>, pathPrefix: readonly string[]): Record<string, string> {
    const kept = keptHubEnvironment();
    const path = [...pathPrefix, kept.PATH].filter(Boolean).join(delimiter);
    return {
      ...launch,
      ...kept,
      ...(path ? { PATH: path } : {}),
      // Students share the teacher's OS account: keep the teacher's ~/.jupyter config and runtime
      // files out of the student's server, and the student's home inside their own folder.
      HOME: this.context.notebookDir,
      USER: this.context.user,
      JUPYTERHUB_DISABLE_USER_CONFIG: '1',
      JUPYTER_RUNTIME_DIR: this.context.runtimeDir,
      ...this.options.environment,
    };
  }

  private exitsWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (!pid || !this.mayHaveSignals) return;
    if (process.platform === 'win32') {
      // Windows has no signals for console-less children: stop the whole tree.
      spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { windowsHide: true });
      return;
    }
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

/** True if something answers HTTP at `url` (any status): used to tell whether an adopted server lives. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 3000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
