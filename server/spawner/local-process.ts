/**
 * Runs a single-user server as a child process of the hub, on loopback, as the same OS user.
 *
 * Each server gets its own process group (its own job on Windows), so stopping it also stops the
 * kernels it started. Stopping escalates SIGINT → SIGTERM → SIGKILL, each with a timeout, as
 * JupyterHub's LocalProcessSpawner does. Output goes to a log file per server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { findExecutable, keptHubEnvironment } from './environment.js';
import { freeLoopbackPort } from './free-port.js';
import { singleuserAppFor } from './singleuser-app.js';
import { SpawnError, type SpawnContext, type Spawner } from './spawner.js';

export interface LocalProcessOptions {
  command: string[];
  args: string[];
  /** Configured variables; they override everything else. */
  environment: Record<string, string>;
  /** Seconds to wait after SIGINT, SIGTERM and SIGKILL. */
  stopTimeouts: { interrupt: number; terminate: number; kill: number };
  log: Logger;
}

export class LocalProcessSpawner implements Spawner {
  onExit: Spawner['onExit'];
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private exitCode: number | null = null;
  private port = 0;

  constructor(
    private readonly context: SpawnContext,
    private readonly options: LocalProcessOptions,
  ) {}

  get state(): Record<string, unknown> {
    return this.child?.pid ? { pid: this.child.pid, port: this.port } : {};
  }

  async start(): Promise<string> {
    if (this.child && this.exitCode === null) return this.url();
    const [command, ...commandArgs] = this.options.command;
    const executable = command ? findExecutable(command) : null;
    if (!executable) {
      throw new SpawnError(
        `Cannot start a Jupyter server: the command "${command ?? ''}" was not found. ` +
          'Install Jupyter (on Debian or Ubuntu: apt install jupyterhub) or set spawner.command in the config file.',
      );
    }
    this.port = await freeLoopbackPort();
    mkdirSync(this.context.notebookDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.context.runtimeDir, { recursive: true, mode: 0o700 });
    mkdirSync(dirname(this.context.logFile), { recursive: true, mode: 0o700 });
    const args = [...commandArgs, ...this.options.args];
    // Jupyter refuses to run as root unless told; CI and some lab machines run everything as root.
    if (process.getuid?.() === 0 && !args.includes('--allow-root')) args.push('--allow-root');

    const environment = this.environment();
    if (!environment.JUPYTERHUB_SINGLEUSER_APP) {
      const app = await singleuserAppFor(executable);
      if (app) environment.JUPYTERHUB_SINGLEUSER_APP = app;
    }
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
    this.child = child;
    this.exitCode = null;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? 0;
        // The server is gone; anything it left in its group (kernels) goes too.
        this.signalGroup('SIGKILL');
        this.options.log.info(`server for ${this.context.user} exited`, { pid: child.pid, code, signal });
        resolve();
        this.onExit?.(code, signal);
      });
    });
    this.options.log.info(`started server for ${this.context.user}`, { pid: child.pid, port: this.port });
    return this.url();
  }

  async poll(): Promise<number | null> {
    if (!this.child) return 0;
    return this.exitCode;
  }

  async stop(): Promise<void> {
    if (!this.child || this.exitCode !== null) return;
    const { interrupt, terminate, kill } = this.options.stopTimeouts;
    const ladder: [NodeJS.Signals, number][] = [
      ['SIGINT', interrupt],
      ['SIGTERM', terminate],
      ['SIGKILL', kill],
    ];
    for (const [signal, seconds] of ladder) {
      this.signalGroup(signal);
      if (await this.exitsWithin(seconds * 1000)) return;
      this.options.log.warn(`server for ${this.context.user} still running after ${signal}`, { pid: this.child.pid });
    }
    this.options.log.error(`could not stop the server for ${this.context.user}`, { pid: this.child.pid });
  }

  private url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private environment(): Record<string, string> {
    return {
      ...keptHubEnvironment(),
      ...this.context.hubEnvironment,
      JUPYTERHUB_SERVICE_URL: `${this.url()}${this.context.servicePrefix}`,
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
      void this.exited?.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!pid) return;
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
