/**
 * Runs a single-user server as a child process of the hub, on loopback, through a launcher that
 * puts it in a sandbox or runs it as it is (sandbox/launcher.ts).
 *
 * A student's server runs below the hub's CPU priority, and so do its kernels (priority.ts).
 *
 * Each server gets its own process group (on Windows, taskkill stops its tree). Stopping escalates
 * SIGINT → SIGTERM → SIGKILL, each with a timeout, as JupyterHub's LocalProcessSpawner does. A
 * sandboxed server is signalled itself (its sandbox wrapper would die of the first signal and leave
 * it behind); as PID 1 of its own PID namespace, its end is the end of all its kernels. Output goes
 * to a log file per server, which the server keeps writing to even if the hub dies.
 *
 * After a hub crash a server can be adopted (`adopt`). It is then no child of ours: its death is
 * noticed by polling, and it is signalled only if its PIDs still name the processes we started
 * (same start times); otherwise it is asked to shut down over HTTP, with its own token.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, openSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../logging/logger.js';
import { commandLine } from './command-line.js';
import type { LaunchMode, LaunchPlan } from './discovery.js';
import { keptHubEnvironment } from './environment.js';
import { freeLoopbackPort } from './free-port.js';
import { BELOW_NORMAL, lowerPriority } from './priority.js';
import { processStartTime } from './processes.js';
import type { Launcher, SandboxKind } from './sandbox/launcher.js';
import type { SandboxPlace } from './sandbox/place.js';
import { SpawnError, type SpawnContext, type Spawner, type StopOptions } from './spawner.js';
import { ForkError, type ForkedServer, type ForkServer } from './fork/fork-server.js';
import { askServer } from '../net/ask-server.js';

/**
 * Seconds a server gets to shut down cleanly after SIGINT when the hub quits (at most
 * `spawner.stopTimeouts.interrupt`). One alone exits in under a second; thirty at once on two cores
 * take several, and the teacher closing the app should not wait for them.
 */
const QUIT_INTERRUPT_SECONDS = 3;

/** The name of the link to the course data in each student's folder. */
const COURSE_DATA_LINK = 'course-data';

export interface LocalProcessOptions {
  /** What to run (see launch-plan.ts); not needed to adopt a server a previous hub started. */
  plan: LaunchPlan | undefined;
  /** Runs the command as it is or in a sandbox. */
  launcher: Launcher;
  /** Forks the server instead of running its program (fork/fork-server.ts); null to run it. */
  forkServer: ForkServer | null;
  /** What the sandbox lets every server read, and hides from it, besides the server's own folders. */
  sandboxPaths: Pick<SandboxPlace, 'readOnly' | 'hidden'>;
  /** The hub's Jupyter config folder: the only user-level Jupyter config a server reads. */
  jupyterConfigDir: string;
  /** The class's read-only course data folder (resolved), or null. */
  courseData: string | null;
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
  /** The process the hub spawned: the server, or the sandbox holding it. */
  pid: number;
  port: number;
  /** How it was launched: decides how the proxy lets browsers in. */
  mode: LaunchMode;
  /** When the process started, as the OS tells it; null where the OS cannot say. */
  startTime: string | null;
  /** The server's own process, inside the sandbox (the same as `pid` without one), and when it started. */
  serverPid: number;
  serverStartTime: string | null;
  sandbox: SandboxKind | null;
}

/** How often an adopted server (no exit event to wait for) is checked for life. */
const ADOPTED_POLL_MS = 2000;
/** A sandbox wrapper tells the server's PID within milliseconds; this long means it is stuck. */
const SERVER_PID_TIMEOUT_MS = 30_000;

export class LocalProcessSpawner implements Spawner {
  onExit: Spawner['onExit'];
  private launched: (LocalProcessState & { port: number }) | undefined;
  /** May signal the processes in `launched`: our child, or adopted with matching start times. */
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
    return this.launched ? { ...this.launched } : {};
  }

  get pid(): number | undefined {
    return this.mayHaveSignals && this.exitCode === null ? this.launched?.pid : undefined;
  }

  get serverPid(): number | undefined {
    return this.pid === undefined ? undefined : this.launched?.serverPid;
  }

  get sandbox(): SandboxKind | null {
    return this.launched ? this.launched.sandbox : this.options.launcher.sandbox;
  }

  async start(): Promise<string> {
    if (this.launched && this.exitCode === null) return this.url();
    const { plan, launcher, forkServer } = this.options;
    if (!plan) throw new Error('LocalProcessSpawner.start() needs a launch plan');
    const { context } = this;
    const port = await freeLoopbackPort();
    this.prepareFolders();
    const launch = commandLine(
      plan,
      { port, servicePrefix: context.servicePrefix, notebookDir: context.home, defaultUrl: context.defaultUrl },
      { ...context.hubEnvironment, JUPYTERHUB_SERVICE_URL: `${loopbackUrl(port)}${context.servicePrefix}` },
      context.token,
    );
    const args = [...launch.args, ...this.options.args];
    // Jupyter refuses to run as root unless told; CI and some lab machines run everything as root.
    if (process.getuid?.() === 0 && ![...plan.command, ...args].includes('--allow-root')) args.push('--allow-root');
    const place: SandboxPlace = { home: context.home, runtimeDir: context.runtimeDir, tmpDir: context.tmpDir, ...this.options.sandboxPaths };
    const server: ServerLaunch = { plan, port, args, environment: launch.environment, place };
    const forked = forkServer !== null && (await this.startForked(forkServer, server));
    if (!forked) await this.startProcess(server);
    const { pid } = this.launched as LocalProcessState;
    this.options.log.info(`started server for ${context.user}`, { pid, port, sandbox: launcher.sandbox ?? 'none', forked });
    return this.url();
  }

  /** Launches the server's program, in the sandbox if there is one. */
  private async startProcess({ plan, port, args, environment, place }: ServerLaunch): Promise<void> {
    const { context, options } = this;
    const wrapped = options.launcher.wrap([...plan.command, ...args], place);
    const child = await spawnLogged(wrapped.command, this.environment(environment, wrapped.environment), context, wrapped.reportsServerPid ? 'pipe' : 'ignore');
    const pid = child.pid as number;
    if (context.lowPriority) lowerPriority(pid, options.log);
    this.track({ pid, port, mode: plan.mode, startTime: null, serverPid: pid, serverStartTime: null, sandbox: options.launcher.sandbox }, true);
    child.once('exit', (code, signal) => this.processExited(code, signal));
    const launched = this.launched as LocalProcessState;
    launched.startTime = await processStartTime(pid);
    if (wrapped.reportsServerPid) {
      launched.serverPid = await serverPidReported(child.stdio[3] as Readable, this.exited);
      // The sandbox may have started the server before it was lowered: long before any kernel.
      if (context.lowPriority) lowerPriority(launched.serverPid, options.log);
      launched.serverStartTime = await processStartTime(launched.serverPid);
    } else {
      launched.serverStartTime = launched.startTime;
    }
  }

  /**
   * Forks the server from the fork server, into the student's sandbox if there is one (see
   * fork/fork-server.py). False when the fork server could not: the server then starts the normal way.
   */
  private async startForked(forkServer: ForkServer, { plan, port, args, environment, place }: ServerLaunch): Promise<boolean> {
    const { context, options } = this;
    const wrapped = options.launcher.wrap(SANDBOX_PLACEHOLDER, place);
    const placeholder = wrapped.reportsServerPid ? await openSandbox(wrapped.command, context) : null;
    let forked: ForkedServer;
    try {
      forked = await forkServer.fork({
        argv: [plan.command.at(-1) ?? '', ...args],
        environment: this.environment(environment, wrapped.environment),
        cwd: context.home,
        logFile: context.logFile,
        sandboxPlaceholder: placeholder?.pid ?? null,
        nice: context.lowPriority ? BELOW_NORMAL : null,
      });
    } catch (error) {
      if (!(error instanceof ForkError)) throw error;
      options.log.warn(`could not fork the server for ${context.user}: starting it the normal way`, { error: error.message });
      return false;
    } finally {
      placeholder?.release();
    }
    const { pid } = forked;
    // The fork set its own nice value, before its kernel zygote started; its session's is lowered here.
    if (context.lowPriority) lowerPriority(pid, options.log);
    this.track({ pid, port, mode: plan.mode, startTime: null, serverPid: pid, serverStartTime: null, sandbox: options.launcher.sandbox }, true);
    // Its end is told by the fork server, its parent; should that end first, by polling.
    void forked.exited.then((exit) => (exit ? this.processExited(exit.code, exit.signal) : this.watchByPolling()));
    const launched = this.launched as LocalProcessState;
    launched.startTime = launched.serverStartTime = await processStartTime(pid);
    return true;
  }

  /** The server's process ended: anything it left in its process group goes too. */
  private processExited(code: number | null, signal: NodeJS.Signals | null): void {
    // Only for a process whose end was seen: the group of one seen dead by polling may have a new owner by now.
    this.markExited(code, signal);
    this.signal('SIGKILL');
  }

  /**
   * Takes over a server a previous hub process started, from its saved state. The caller has
   * already checked that the server answers at its port with its token.
   */
  async adopt(state: Record<string, unknown>): Promise<string> {
    const saved = state as Partial<LocalProcessState> & Pick<LocalProcessState, 'pid' | 'port' | 'mode' | 'startTime'>;
    const launched: LocalProcessState = {
      serverPid: saved.pid,
      serverStartTime: saved.startTime,
      sandbox: null,
      ...saved,
    };
    const same = async (pid: number, startTime: string | null) => startTime !== null && (await processStartTime(pid)) === startTime;
    const sameProcesses = (await same(launched.pid, launched.startTime)) && (await same(launched.serverPid, launched.serverStartTime));
    this.track(launched, sameProcesses);
    this.watchByPolling();
    this.options.log.info(`adopted the server for ${this.context.user}`, { pid: launched.pid, port: launched.port, signals: sameProcesses });
    return this.url();
  }

  async poll(): Promise<number | null> {
    return this.launched ? this.exitCode : 0;
  }

  async stop(options: StopOptions = {}): Promise<void> {
    if (!this.launched || this.exitCode !== null) return;
    const { terminate, kill } = this.options.stopTimeouts;
    const interrupt = options.quitting ? Math.min(this.options.stopTimeouts.interrupt, QUIT_INTERRUPT_SECONDS) : this.options.stopTimeouts.interrupt;
    if (!this.mayHaveSignals) {
      // Not provably the process we started: ask the server itself, which its token allows.
      await this.shutdownOverHttp();
      if (await this.exitsWithin(interrupt * 1000)) return;
      this.options.log.error(`the adopted server for ${this.context.user} did not shut down`, { pid: this.launched.pid });
      return;
    }
    // Jupyter handles SIGTERM as it does SIGINT, so a server still shutting down when the hub quits
    // gains nothing from it: SIGKILL (its kernels are in its group or its sandbox) comes next.
    const ladder: [NodeJS.Signals, number][] = options.quitting
      ? [
          ['SIGINT', interrupt],
          ['SIGKILL', kill],
        ]
      : [
          ['SIGINT', interrupt],
          ['SIGTERM', terminate],
          ['SIGKILL', kill],
        ];
    for (const [signal, seconds] of ladder) {
      this.signal(signal);
      if (await this.exitsWithin(seconds * 1000)) return;
      // Expected of a server still shutting down as the hub quits; worth a warning otherwise.
      this.options.log[options.quitting ? 'info' : 'warn'](`server for ${this.context.user} still running after ${signal}`, { pid: this.launched.pid });
    }
    this.options.log.error(`could not stop the server for ${this.context.user}`, { pid: this.launched.pid });
  }

  /**
   * The student's folder, and the server's runtime and temporary folders, which start empty: what
   * a previous run left in them (kernel keys, stray files) is not this run's business.
   */
  private prepareFolders(): void {
    const { home, runtimeDir, tmpDir, logFile } = this.context;
    mkdirSync(home, { recursive: true, mode: 0o700 });
    for (const fresh of [runtimeDir, tmpDir]) {
      rmSync(fresh, { recursive: true, force: true });
      mkdirSync(fresh, { recursive: true, mode: 0o700 });
    }
    mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
    if (this.options.courseData) this.linkCourseData(this.options.courseData);
  }

  /**
   * `course-data` in the student's folder: a link to the class's course data, made where the name is
   * free, pointed again where it is a link to an earlier folder, and left alone where the student
   * has something of her own by that name. On Windows, where making links takes rights a teacher's
   * account may lack, LECTERN_COURSE_DATA names the folder instead.
   */
  private linkCourseData(target: string): void {
    if (process.platform === 'win32') return;
    const link = join(this.context.home, COURSE_DATA_LINK);
    try {
      const existing = lstatSync(link, { throwIfNoEntry: false });
      if (existing?.isSymbolicLink() && readlinkSync(link) !== target) unlinkSync(link);
      else if (existing) {
        if (!existing.isSymbolicLink()) this.options.log.info(`${this.context.user} has a ${COURSE_DATA_LINK} of their own: no link to the course data made`);
        return;
      }
      symlinkSync(target, link, 'dir');
    } catch (error) {
      this.options.log.warn(`could not link the course data into ${this.context.user}'s folder`, { error: (error as Error).message });
    }
  }

  private track(launched: LocalProcessState, mayHaveSignals: boolean): void {
    this.launched = launched;
    this.mayHaveSignals = mayHaveSignals;
    this.exitCode = null;
    this.exited = new Promise((resolve) => {
      this.markExited = (code, signal) => {
        if (this.exitCode !== null) return;
        this.exitCode = code ?? 0;
        clearInterval(this.watcher);
        this.options.log.info(`server for ${this.context.user} exited`, { pid: launched.pid, code, signal });
        resolve();
        this.onExit?.(code, signal);
      };
    });
  }

  /** For a server whose end no process will tell: one adopted, or forked by a fork server that ended. */
  private watchByPolling(): void {
    this.watcher = setInterval(() => void this.checkAdopted(), ADOPTED_POLL_MS);
    this.watcher.unref();
  }

  /** An adopted server has no exit event: it is alive while its process (or, unverified, its port) is. */
  private async checkAdopted(): Promise<void> {
    const launched = this.launched as LocalProcessState;
    const alive = this.mayHaveSignals
      ? (await processStartTime(launched.pid)) === launched.startTime
      : await answers(`${this.url()}${this.context.servicePrefix}api`);
    if (!alive) this.markExited(null, null);
  }

  private async shutdownOverHttp(): Promise<void> {
    await askServer(`${this.url()}${this.context.servicePrefix}api/shutdown`, { method: 'POST', token: this.context.token, timeoutMs: 5000 });
  }

  private url(): string {
    return loopbackUrl(this.launched?.port ?? 0);
  }

  /**
   * The launch's own variables (JupyterHub contract or token), those every server shares, the
   * student's folders, then the teacher's configured variables, which win.
   */
  private environment(launch: Record<string, string>, sandbox: Record<string, string>): Record<string, string> {
    const { home } = this.context;
    return {
      ...launch,
      ...sharedServerEnvironment(this.options),
      HOME: home,
      USER: this.context.user,
      JUPYTER_RUNTIME_DIR: this.context.runtimeDir,
      // JupyterLab keeps a student's own preferences (theme, shortcuts) under the config folder by
      // default; they are the student's to change, so they stay in the student's folder.
      JUPYTERLAB_SETTINGS_DIR: join(home, '.jupyter', 'lab', 'user-settings'),
      JUPYTERLAB_WORKSPACES_DIR: join(home, '.jupyter', 'lab', 'workspaces'),
      ...sandbox,
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

  /**
   * Sends `signal` to the server. Unsandboxed, to its process group. Sandboxed, to the server
   * itself: the wrapper shares its group and dies of SIGINT at once, without passing it on; SIGKILL
   * goes to the group too, to take the wrapper along.
   */
  private signal(signal: NodeJS.Signals): void {
    const launched = this.launched;
    if (!launched || !this.mayHaveSignals) return;
    if (process.platform === 'win32') {
      // Windows has no signals for console-less children: stop the whole tree.
      spawnSync('taskkill', ['/pid', String(launched.pid), '/T', '/F'], { windowsHide: true });
      return;
    }
    const wrapped = launched.serverPid !== launched.pid;
    const targets = !wrapped ? [-launched.pid] : signal === 'SIGKILL' ? [launched.serverPid, -launched.pid] : [launched.serverPid];
    for (const target of targets) {
      try {
        process.kill(target, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  }
}

/**
 * The variables every server launched with `options` gets alike, before its own: the hub's
 * allow-listed ones (a variable the teacher exported before starting the hub, such as
 * JUPYTERHUB_SINGLEUSER_APP, wins over Lectern's guess), the environment's programs first on PATH,
 * and the hub's Jupyter config in place of any of the student's.
 */
export function sharedServerEnvironment(options: Pick<LocalProcessOptions, 'plan' | 'jupyterConfigDir' | 'courseData'>): Record<string, string> {
  const kept = keptHubEnvironment();
  const path = [...(options.plan?.pathPrefix ?? []), kept.PATH].filter(Boolean).join(delimiter);
  return {
    ...kept,
    ...(path ? { PATH: path } : {}),
    // The server's Jupyter config is the hub's, never the student's: `~/.jupyter` is not read
    // (a student could otherwise restart her server with headers and settings of her choosing).
    // jupyterhub-singleuser also drops every config folder under HOME when told to.
    JUPYTER_CONFIG_DIR: options.jupyterConfigDir,
    JUPYTERHUB_DISABLE_USER_CONFIG: '1',
    ...(options.courseData ? { LECTERN_COURSE_DATA: options.courseData } : {}),
  };
}

/** What starting one server takes, however it is started. */
interface ServerLaunch {
  plan: LaunchPlan;
  port: number;
  /** Its arguments after its program. */
  args: string[];
  /** Its launch's own variables (commandLine). */
  environment: Record<string, string>;
  place: SandboxPlace;
}

/**
 * What runs in a student's sandbox while a fork joins it: it says it runs (the sandbox is then
 * complete) and waits for its stdin to end. Once the server has joined the sandbox's namespaces they
 * are the server's, and the placeholder ends.
 */
const SANDBOX_PLACEHOLDER = ['/bin/sh', '-c', 'echo ready; read _'];

/**
 * Spawns `command` in its own process group, in the student's folder, with its output appended to
 * the server's log, and file descriptor 3 a pipe when asked (a sandbox reports on it).
 */
async function spawnLogged(
  command: readonly string[],
  environment: Record<string, string>,
  context: Pick<SpawnContext, 'home' | 'logFile'>,
  fd3: 'pipe' | 'ignore',
  stdio: { stdin: 'pipe' | 'ignore'; stdout: 'pipe' | 'log' } = { stdin: 'ignore', stdout: 'log' },
): Promise<ChildProcess> {
  const [executable = '', ...args] = command;
  const logFd = openSync(context.logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(executable, args, {
      cwd: context.home,
      env: environment,
      detached: process.platform !== 'win32',
      stdio: [stdio.stdin, stdio.stdout === 'log' ? logFd : 'pipe', logFd, fd3],
      windowsHide: true,
    });
  } finally {
    closeSync(logFd);
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new SpawnError(`Cannot start a Jupyter server with "${executable}": ${error.message}`)));
  });
  return child;
}

/**
 * Makes the student's sandbox around a placeholder (SANDBOX_PLACEHOLDER), for a fork to join:
 * resolves once it is complete, with the placeholder's PID and how to let it end.
 */
async function openSandbox(command: readonly string[], context: Pick<SpawnContext, 'home' | 'logFile'>): Promise<{ pid: number; release(): void }> {
  const sandbox = await spawnLogged(command, {}, context, 'pipe', { stdin: 'pipe', stdout: 'pipe' });
  const ended = new Promise<void>((resolve) => sandbox.once('exit', () => resolve()));
  const release = () => sandbox.stdin?.end();
  try {
    const pid = await serverPidReported(sandbox.stdio[3] as Readable, ended);
    await new Promise<void>((resolve, reject) => {
      sandbox.stdout?.once('data', () => resolve());
      void ended.then(() => reject(new SpawnError("The sandbox did not start. Its own message is in the server's log.")));
    });
    return { pid, release };
  } catch (error) {
    release();
    throw error;
  }
}

function loopbackUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/**
 * The server's PID as a sandbox wrapper reports it on `stream` (bubblewrap's `--info-fd` JSON).
 * The stream is read to its end, never closed early: the wrapper writes the rest of its JSON after
 * the PID, and a write to a closed pipe would kill it (SIGPIPE) along with the server it holds.
 */
function serverPidReported(stream: Readable, exited: Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    let pid: number | undefined;
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new SpawnError(`The sandbox did not start the server: ${why}. Its own message is in the server's log.`));
    };
    const timer = setTimeout(() => fail(`no word from it within ${SERVER_PID_TIMEOUT_MS / 1000} s`), SERVER_PID_TIMEOUT_MS);
    void exited.then(() => fail('it exited'));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      if (pid !== undefined) return;
      text += chunk;
      const found = /"child-pid"\s*:\s*(\d+)/.exec(text)?.[1];
      if (found === undefined) return;
      pid = Number(found);
      clearTimeout(timer);
      resolve(pid);
    });
    stream.on('end', () => pid === undefined && fail('it said nothing'));
    stream.on('error', () => undefined);
  });
}

/** True if something answers HTTP at `url` (any status): used to tell whether an adopted server lives. */
async function answers(url: string): Promise<boolean> {
  return (await askServer(url, { timeoutMs: 3000 })) !== null;
}
