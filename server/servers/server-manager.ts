/**
 * The life of each student's server, as JupyterHub's `User.spawn` / `User.stop` orchestrate it:
 *
 *   start: wait for a start slot → get ready to spawn (Jupyter found, sandbox as configured) →
 *          issue the server's credentials → spawner.start() → wait until it answers → add its proxy
 *          route → record it → "ready"
 *   stop:  remove the route → spawner.stop() (signal ladder) → revoke its credentials → record it
 *
 * Every step reports progress events, which the progress page shows live. A server whose process
 * dies is noticed at once (the spawner's `onExit`): its route goes, and the student is told why.
 *
 * This layer sits between the HTTP layer (`hub/`) and the spawners (`spawner/`): it gets spawners
 * from a `SpawnerFactory` and never names one, and it tells the hub of changes through the small
 * interfaces below, never by importing the hub's parts.
 */
import type { LecternConfig } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { askServer } from '../net/ask-server.js';
import type { RouteTable } from '../proxy/route-table.js';
import { loopbackPortTaken } from '../spawner/free-port.js';
import { waitForHttpServer } from '../spawner/readiness.js';
import { availableMemoryBytes, processStartTime, processTable, processTree, proportionalMemoryBytes, treeUsage } from '../spawner/processes.js';
import { lowerSessions } from '../spawner/priority.js';
import { readLogTail, rotateLogIfLarge } from '../spawner/server-log.js';
import { CapacityError, SpawnError, type SpawnContext, type Spawner, type PreparedSpawn, type SpawnerFactory, type StopOptions } from '../spawner/spawner.js';
import type { Database } from '../store/database.js';
import type { OAuthClientRepository } from '../store/oauth-clients.js';
import type { ServerRepository } from '../store/servers.js';
import type { TokenRepository } from '../store/tokens.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import type { RunningServer } from '../culler/idle-culler.js';
import { jupyterhubEnvironment, readServerToken, removeServerToken, saveServerToken, ServerCredentials } from './credentials.js';
import type { OriginPorts } from './origin-ports.js';
import { serverPaths, type ServerPaths } from './server-paths.js';
import type { ProgressEvent, ServerPhase, ServerState, ServerUsageSample, ServerView } from './server-state.js';
import { StartQueue } from './start-queue.js';
import { cpuPercent, killProcesses, largestKernel, memoryLimitNotice } from './usage.js';

export class ServerBusyError extends Error {
  override readonly name = 'ServerBusyError';
}

/** The URLs of servers (the hub's `HubUrls`). */
export interface ServerUrls {
  readonly base: string;
  /** `/user/alice/`, URL-encoded. */
  server(user: string, serverName?: string): string;
  /** The proxy's route key for a server: the decoded path. */
  serverRoute(user: string, serverName?: string): string;
}

/** Lets browsers into plain-mode servers, which check no logins with the hub themselves (the hub's `ServerGate`). */
export interface ServerGuard {
  protect(routePrefix: string, server: { owner: string; serverName: string; token: string }): void;
  unprotect(routePrefix: string): void;
}

/** Told of every phase change and usage sample (the teacher's live dashboard). */
export interface ServerEvents {
  serverChanged(state: ServerState): void;
  usageSampled(samples: ServerUsageSample[]): void;
}

export interface ServerManagerDeps {
  /** The hub's live configuration. */
  config: LecternConfig;
  db: Database;
  users: UserRepository;
  tokens: TokenRepository;
  oauthClients: OAuthClientRepository;
  servers: ServerRepository;
  routes: RouteTable;
  urls: ServerUrls;
  /** The hub API as single-user servers reach it (loopback), e.g. `http://127.0.0.1:8081/hub/api`. */
  hubApiUrl: () => string;
  log: Logger;
  metrics: { observeSpawn(seconds: number, status: 'success' | 'failure'): void };
  spawners: SpawnerFactory;
  /** Each server's own origin (a port of its own); undefined when servers share the hub's (`network.serverOrigins: shared`). */
  origins: OriginPorts | undefined;
  gate: ServerGuard;
  events: ServerEvents;
  /** Runs before a server starts, after it has its start slot (handouts it has not had are delivered). Never throws. */
  beforeStart?: (user: UserRecord) => Promise<void>;
}

interface ManagedServer extends ServerView {
  user: UserRecord;
  name: string;
  spawner: Spawner | undefined;
  /** Where the proxy forwards to while the server runs. */
  target: string | undefined;
  /** The previous CPU reading, to turn CPU seconds into a percentage. */
  cpuSample: { cpuSeconds: number; at: number } | undefined;
  /** The server's own API token, kept in memory while it runs (the culler asks the server with it). */
  token: string | undefined;
  tokenId: number | undefined;
  /** How browsers get in: jupyterhub-singleuser logs them in itself; plain modes sit behind the gate. */
  plainMode: boolean;
  events: ProgressEvent[];
  listeners: Set<(event: ProgressEvent) => void>;
  starting: Promise<void> | undefined;
  stopping: Promise<void> | undefined;
  abortStart: AbortController | undefined;
}

const LOG_TAIL_LINES = 12;
/** Starts on a port another program took meanwhile, before a server's start counts as failed. */
const PORT_ATTEMPTS = 3;

export class ServerManager {
  private readonly managed = new Map<string, ManagedServer>();
  private readonly log: Logger;
  private readonly startQueue: StartQueue;
  private readonly credentials: ServerCredentials;
  private changes = 0;

  constructor(private readonly deps: ServerManagerDeps) {
    this.log = deps.log;
    this.startQueue = new StartQueue(deps.config.spawner.concurrentSpawnLimit);
    this.credentials = new ServerCredentials(deps);
  }

  /** A new `spawner.concurrentSpawnLimit` from the settings page: starts waiting in line may go ahead. */
  setConcurrentSpawnLimit(limit: number): void {
    this.startQueue.setLimit(limit);
  }

  /**
   * Moves on whenever what `view` or `activeServerNames` answer may have changed: an answer made from
   * them at one revision still holds while the revision is the same (the API's answer cache). Every
   * change to a server's view goes through `changed` (or `setPhase`), or bumps it itself.
   */
  get revision(): number {
    return this.changes;
  }

  view(user: UserRecord, name = ''): ServerView {
    const server = this.managed.get(key(user, name));
    return server ?? { phase: 'stopped', usage: null, failure: null, notice: null, sandbox: null, queuePosition: null, started: null, events: [] };
  }

  /**
   * Starts the server if needed; resolves when it is ready, rejects with the reason it could not
   * start. `userOptions` are recorded with the server (JupyterHub's user_options).
   */
  start(user: UserRecord, name = '', userOptions: Record<string, unknown> = {}): Promise<void> {
    const server = this.entry(user, name);
    if (server.phase === 'running') return Promise.resolve();
    if (server.phase === 'spawning' && server.starting) return server.starting;
    if (server.phase === 'stopping') throw new ServerBusyError(`${user.name} is pending stop`);
    const limit = this.deps.config.spawner.activeServerLimit;
    const active = [...this.managed.values()].filter((other) => other.phase !== 'stopped').length;
    if (limit > 0 && active >= limit) {
      throw new CapacityError(
        `The class is full: ${active} servers are running, the most this computer is set to run ` +
          `(spawner.activeServerLimit). Try again when someone has stopped theirs.`,
      );
    }
    server.failure = null;
    server.notice = null;
    server.events = [];
    this.setPhase(server, 'spawning');
    server.abortStart = new AbortController();
    this.emit(server, { progress: 0, message: 'Server requested' });
    server.starting = this.spawn(server, userOptions, server.abortStart.signal).finally(() => {
      server.starting = undefined;
      server.abortStart = undefined;
    });
    return server.starting;
  }

  /** Stops the server if it runs (or cancels its start); resolves when it is gone. */
  stop(user: UserRecord, name = '', options: StopOptions = {}): Promise<void> {
    const server = this.managed.get(key(user, name));
    if (!server || server.phase === 'stopped') return Promise.resolve();
    if (server.stopping) return server.stopping;
    const cancelling = server.abortStart !== undefined;
    server.abortStart?.abort(new SpawnError('The server was stopped before it was ready.'));
    server.stopping = (async () => {
      await server.starting?.catch(() => undefined);
      if (cancelling && server.phase === 'stopped' && server.failure !== null) {
        // Stopped on purpose: the dashboard lists it as stopped, not as a start that failed.
        server.failure = null;
        this.changed(server);
      }
      if (server.phase === 'running') {
        this.setPhase(server, 'stopping');
        await this.teardown(server, options);
      }
    })().finally(() => {
      server.stopping = undefined;
    });
    return server.stopping;
  }

  /** Stops every server, all at once, as the hub quits. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.managed.values()].map((server) => this.stop(server.user, server.name, { quitting: true })));
  }

  /** Stops every student's server; teachers' own (a demo on the projector) keep running. */
  async stopStudents(): Promise<void> {
    const students = [...this.managed.values()].filter((server) => !this.isTeacher(server.user.name));
    await Promise.all(students.map((server) => this.stop(server.user, server.name)));
  }

  /** How many students' servers are running, starting or stopping. */
  activeStudentServers(): number {
    return this.states().filter((server) => server.phase !== 'stopped' && !this.isTeacher(server.user)).length;
  }

  /** Whether `name` is an admin now (an account made a teacher after its server started counts). */
  private isTeacher(name: string): boolean {
    return this.deps.users.find(name)?.admin ?? false;
  }

  /** Stops every server of `user` and closes their origins (before the account is deleted or renamed). */
  async stopAllOf(user: UserRecord): Promise<void> {
    const own = [...this.managed.values()].filter((server) => server.user.id === user.id);
    await Promise.all(own.map((server) => this.stop(server.user, server.name)));
    for (const server of own) this.managed.delete(key(server.user, server.name));
    this.changes++;
    await this.deps.origins?.close(user, this.deps.servers.listForUser(user.id).map((record) => record.name));
  }

  /** Stops a named server, closes its origin and deletes its record (JupyterHub's `remove`). */
  async remove(user: UserRecord, name: string): Promise<void> {
    await this.stop(user, name);
    await this.deps.origins?.close(user, [name]);
    this.managed.delete(key(user, name));
    this.changes++;
    this.deps.servers.delete(user.id, name);
    await this.deps.db.commit();
  }

  /** Names of the servers of `user` that are running, starting or stopping. */
  activeServerNames(user: UserRecord): string[] {
    return [...this.managed.values()]
      .filter((server) => server.user.id === user.id && server.phase !== 'stopped')
      .map((server) => server.name);
  }

  /** Every server running, starting or stopping, or stopped with a failure to show: the dashboard's list. */
  states(): ServerState[] {
    return [...this.managed.values()].filter((server) => server.phase !== 'stopped' || server.failure !== null).map(stateOf);
  }

  /** True if any of the user's servers is running, starting or stopping. */
  hasActiveServer(user: UserRecord): boolean {
    return this.activeServerNames(user).length > 0;
  }

  /**
   * Makes the proxy's routes match the running servers (JupyterHub's check_routes): adds missing
   * routes, drops routes of servers that are not running. Routes of starting servers are left alone.
   */
  syncRoutes(): { added: number; removed: number } {
    const running = new Map<string, ManagedServer>();
    const starting = new Set<string>();
    for (const server of this.managed.values()) {
      const prefix = this.deps.urls.serverRoute(server.user.name, server.name);
      if (server.phase === 'running' && server.target) running.set(prefix, server);
      if (server.phase === 'spawning' || server.phase === 'stopping') starting.add(prefix);
    }
    let added = 0;
    let removed = 0;
    for (const route of this.deps.routes.list()) {
      if (!running.has(route.prefix) && !starting.has(route.prefix) && route.data.user !== undefined) {
        this.deps.routes.delete(route.prefix);
        removed++;
      }
    }
    for (const [prefix, server] of running) {
      if (this.deps.routes.get(prefix)?.target !== server.target) {
        this.addRoute(server);
        added++;
      }
    }
    return { added, removed };
  }

  /** Past events of the current start, then live ones until the returned function is called. */
  subscribe(user: UserRecord, name: string, listener: (event: ProgressEvent) => void): () => void {
    const server = this.entry(user, name);
    for (const event of server.events) listener(event);
    server.listeners.add(listener);
    return () => server.listeners.delete(listener);
  }

  /**
   * Servers recorded as running by a previous hub process (it crashed, or was killed): each is
   * adopted only if it answers at its address with its own token, which proves it is the server we
   * started; its route comes back. Anything else is forgotten and its credentials revoked; its
   * process is signalled only if its PID still names the process we started (same start time).
   * Must run once the hub's API listens: a single-user server checks tokens with the hub.
   */
  async adoptPreviousRun(): Promise<void> {
    for (const record of this.deps.servers.listActive()) {
      const user = this.deps.users.findById(record.userId);
      if (!user) continue;
      const { name } = record;
      const prefix = this.deps.urls.server(user.name, name);
      const paths = this.paths(user.name, name);
      const token = await readServerToken(paths.tokenFile);
      const tokenRecord = token ? this.credentials.resolve(token) : undefined;
      const alive = Boolean(record.url && tokenRecord && (await answersWithToken(`${record.url}${prefix}api/status`, token)));
      if (alive && record.url && tokenRecord) {
        const spawner = this.deps.spawners.forAdoption(this.spawnContext(user.name, name, token));
        const server = this.entry(user, name);
        const target = await spawner.adopt(record.state);
        server.spawner = spawner;
        server.tokenId = tokenRecord.id;
        server.token = token;
        server.target = target;
        server.started = record.started;
        server.plainMode = isPlainMode(record.state.mode);
        server.sandbox = spawner.sandbox;
        this.setPhase(server, 'running');
        spawner.onExit = (code, exitSignal) => void this.onServerExit(server, code, exitSignal);
        this.addRoute(server);
        this.log.info(`adopted ${user.name}'s server from a previous run`, { url: prefix });
        continue;
      }
      this.log.warn(`${user.name}'s server from a previous run does not answer as itself: cleaning it up`);
      await killIfStillOurs(record.state);
      this.credentials.revoke(user, name, { prefix });
      await removeServerToken(paths.tokenFile);
    }
    await this.deps.db.commit();
  }

  /**
   * The running servers with their latest sign of use: a request or websocket message through the
   * proxy, an activity report from the server, or its start.
   */
  runningServers(): RunningServer[] {
    const running: RunningServer[] = [];
    for (const server of this.managed.values()) {
      if (server.phase !== 'running' || !server.target || !server.token) continue;
      const { user, name } = server;
      const route = this.deps.routes.get(this.deps.urls.serverRoute(user.name, name));
      const reported = this.deps.servers.find(user.id, name)?.lastActivity;
      const lastActivity = Math.max(
        route?.lastActivity ?? 0,
        reported ? Date.parse(reported) : 0,
        server.started ? Date.parse(server.started) : 0,
      );
      running.push({
        user: user.name,
        name,
        lastActivity,
        apiBase: `${server.target}${this.deps.urls.server(user.name, name)}`,
        token: server.token,
      });
    }
    return running;
  }

  /**
   * Measures the CPU and memory of every running server's process tree, in one pass over the
   * process table, and stops the largest kernel of a server over `spawner.memoryLimitMb`.
   */
  async sampleUsage(now = performance.now()): Promise<void> {
    const measured: [ManagedServer, number][] = [];
    for (const server of this.managed.values()) {
      const pid = server.phase === 'running' ? server.spawner?.pid : undefined;
      if (pid) measured.push([server, pid]);
      else {
        if (server.usage !== null) this.changes++;
        server.usage = null;
        server.cpuSample = undefined;
      }
    }
    const table = measured.length > 0 ? await processTable() : [];
    const limitMb = this.deps.config.spawner.memoryLimitMb;
    const samples: ServerUsageSample[] = [];
    for (const [server, pid] of measured) {
      const tree = processTree(table, pid);
      if (tree.length === 0) continue;
      // Kernels start in sessions of their own, at the hub's priority until lowered here.
      if (!this.isTeacher(server.user.name)) void lowerSessions(tree.map((entry) => entry.pid));
      // Each page once, where the OS can say: a server and its kernels share much of Python.
      const resident = treeUsage(tree);
      const usage = { ...resident, memoryBytes: (await proportionalMemoryBytes(tree.map((entry) => entry.pid))) ?? resident.memoryBytes };
      const reading = { cpuSeconds: usage.cpuSeconds, at: now };
      server.usage = { cpuPercent: cpuPercent(server.cpuSample, reading), memoryBytes: usage.memoryBytes, processes: usage.processes };
      this.changes++;
      server.cpuSample = reading;
      samples.push({ user: server.user.name, name: server.name, cpuPercent: server.usage.cpuPercent, memoryBytes: usage.memoryBytes });
      const serverPid = server.spawner?.serverPid;
      if (limitMb > 0 && usage.memoryBytes > limitMb * 2 ** 20 && serverPid) {
        const kernel = largestKernel(table, serverPid);
        if (!kernel) continue;
        killProcesses(kernel.processes);
        server.notice = memoryLimitNotice(usage, limitMb);
        this.log.warn(`stopped a kernel of ${server.user.name}'s server: over the memory limit`, {
          usedMb: Math.round(usage.memoryBytes / 2 ** 20),
          limitMb,
          kernelMb: Math.round(kernel.memoryBytes / 2 ** 20),
        });
        this.changed(server);
      }
    }
    this.deps.events.usageSampled(samples);
  }

  /** The log of a user's server (every server has one, running or not), its last `lines` lines. */
  readLog(user: UserRecord, name: string, lines: number): Promise<string> {
    return readLogTail(this.paths(user.name, name).logFile, lines);
  }

  /** Rotates the logs of running servers that have outgrown `spawner.logMaxBytes`. */
  async rotateLogs(): Promise<void> {
    for (const server of this.managed.values()) {
      if (server.phase === 'stopped') continue;
      const file = this.paths(server.user.name, server.name).logFile;
      if (await rotateLogIfLarge(file, this.deps.config.spawner.logMaxBytes).catch(() => false)) {
        this.log.debug(`rotated the log of ${server.user.name}'s server`);
      }
    }
  }

  /** Copies the proxy's per-route activity into the users' and servers' last_activity. */
  recordRouteActivity(): void {
    for (const server of this.managed.values()) {
      if (server.phase !== 'running') continue;
      const route = this.deps.routes.get(this.deps.urls.serverRoute(server.user.name, server.name));
      if (route) this.noteActivity(server.user, server.name, route.lastActivity);
    }
  }

  /** Moves a user's and their server's last_activity forward to `at` (epoch ms), if it is later. */
  noteActivity(user: UserRecord, name: string, at: number): void {
    const when = new Date(at).toISOString();
    this.deps.users.touch(user.id, when);
    this.deps.servers.touch(user.id, name, when);
    this.deps.db.markDirty();
  }

  private entry(user: UserRecord, name: string): ManagedServer {
    let server = this.managed.get(key(user, name));
    if (server) {
      server.user = user;
    } else {
      server = {
        user,
        name,
        phase: 'stopped',
        usage: null,
        cpuSample: undefined,
        failure: null,
        notice: null,
        sandbox: null,
        queuePosition: null,
        started: null,
        events: [],
        listeners: new Set(),
        spawner: undefined,
        target: undefined,
        token: undefined,
        tokenId: undefined,
        plainMode: false,
        starting: undefined,
        stopping: undefined,
        abortStart: undefined,
      };
      this.managed.set(key(user, name), server);
    }
    return server;
  }

  /** Every phase change goes through here, so the dashboard hears of each one. */
  private setPhase(server: ManagedServer, phase: ServerPhase): void {
    server.phase = phase;
    this.changed(server);
  }

  /** The dashboard hears of a change of `server`, and readers of `revision` see it. */
  private changed(server: ManagedServer): void {
    this.changes++;
    this.deps.events.serverChanged(stateOf(server));
  }

  private emit(server: ManagedServer, event: ProgressEvent): void {
    server.events.push(event);
    for (const listener of server.listeners) listener(event);
  }

  private async spawn(server: ManagedServer, userOptions: Record<string, unknown>, signal: AbortSignal): Promise<void> {
    const { urls } = this.deps;
    const { user, name } = server;
    const prefix = urls.server(user.name, name);
    const paths = this.paths(user.name, name);
    const startedAt = performance.now();
    let release: (() => void) | undefined;
    try {
      release = await this.startQueue.acquire((position) => {
        server.queuePosition = position;
        this.changed(server);
        this.emit(server, { progress: 5, message: `Waiting for a free start slot: number ${position} in line` });
      }, signal);
      this.leaveQueue(server);
      await this.refuseWhenMemoryIsLow();
      const prepared = await this.deps.spawners.prepare();
      const { token, tokenId } = this.credentials.issue(user, name, prefix, userOptions, prepared.mode);
      server.token = token;
      server.tokenId = tokenId;
      server.plainMode = isPlainMode(prepared.mode);
      server.sandbox = prepared.sandbox;
      this.changes++;
      await this.deps.origins?.open(user, name);
      // Not committed yet: the server checks its token against the database in memory, and a
      // restart only looks for servers recorded running, which is committed once this one is ready.
      // The start waits for no disk write; the next commit or the flush timer saves the token.
      await saveServerToken(paths.tokenFile, token);
      await this.deps.beforeStart?.(user);
      const { target, spawner } = await this.launch(server, prepared, token, signal);
      server.target = target;
      this.addRoute(server);
      server.started = new Date().toISOString();
      this.changes++;
      this.deps.servers.saveRunning(user.id, name, target, spawner.state, server.started);
      // As JupyterHub does: starting a server is activity, of the server and of its user.
      this.noteActivity(user, name, Date.parse(server.started));
      await this.deps.db.commit();
      this.setPhase(server, 'running');
      this.deps.metrics.observeSpawn((performance.now() - startedAt) / 1000, 'success');
      this.log.info(`${user.name}'s server is ready`, { url: prefix });
      this.emit(server, {
        progress: 100,
        ready: true,
        message: `Server ready at ${prefix}`,
        html_message: `Server ready at <a href="${prefix}">${prefix}</a>`,
        url: prefix,
      });
    } catch (error) {
      const reason = error instanceof SpawnError ? error.message : `Could not start the server: ${(error as Error).message}`;
      const failure = error instanceof CapacityError || !server.spawner ? reason : `${reason}${await logTail(paths.logFile)}`;
      this.deps.metrics.observeSpawn((performance.now() - startedAt) / 1000, 'failure');
      this.log.warn(`${user.name}'s server failed to start: ${reason}`);
      // Set before the teardown, so the dashboard hears "stopped" once, with the reason.
      server.failure = failure;
      this.setPhase(server, 'stopping');
      await this.teardown(server);
      this.emit(server, { progress: 100, failed: true, message: `Spawn failed: ${failure}` });
      throw error instanceof CapacityError ? error : new SpawnError(failure);
    } finally {
      this.leaveQueue(server);
      release?.();
    }
  }

  /**
   * Starts the server's process and waits until it answers; resolves with its URL. A server is
   * given a port that was free a moment before; when another program took it meanwhile (a kernel's,
   * another server's), the server exits at once, and is started again on another port.
   */
  private async launch(server: ManagedServer, prepared: PreparedSpawn, token: string, signal: AbortSignal): Promise<{ target: string; spawner: Spawner }> {
    const { user, name } = server;
    const prefix = this.deps.urls.server(user.name, name);
    for (let attempt = 1; ; attempt++) {
      const spawner = prepared.create(this.spawnContext(user.name, name, token));
      server.spawner = spawner;
      const exited = new AbortController();
      spawner.onExit = (code, exitSignal) => {
        exited.abort(new SpawnError(`The server exited (${describeExit(code, exitSignal)}) before it was ready.`));
        void this.onServerExit(server, code, exitSignal);
      };
      if (attempt === 1) this.emit(server, { progress: 25, message: 'Spawning server...' });
      const target = await spawner.start();
      this.emit(server, { progress: 50, message: 'Waiting for the server to answer...' });
      try {
        await waitForHttpServer(`${target}${prefix}`, {
          timeoutMs: this.deps.config.spawner.startTimeout * 1000,
          signal: AbortSignal.any([signal, exited.signal]),
        });
        return { target, spawner };
      } catch (error) {
        if (!exited.signal.aborted || signal.aborted || attempt === PORT_ATTEMPTS || !(await loopbackPortTaken(target))) throw error;
        this.log.info(`${user.name}'s server found its port taken by another program as it started: starting it on another`, { url: target });
        await spawner.stop();
      }
    }
  }

  /** The server is no longer waiting for a start slot (it has one, or its start ended): the dashboard hears so. */
  private leaveQueue(server: ManagedServer): void {
    if (server.queuePosition === null) return;
    server.queuePosition = null;
    this.changed(server);
  }

  private async refuseWhenMemoryIsLow(): Promise<void> {
    const floorMb = this.deps.config.spawner.minFreeMemoryMb;
    if (floorMb === 0) return;
    const freeMb = Math.floor((await availableMemoryBytes()) / 2 ** 20);
    if (freeMb < floorMb) {
      throw new CapacityError(
        `Not starting: this computer has only ${freeMb} MiB of memory free, and a server needs at least ${floorMb} MiB ` +
          '(spawner.minFreeMemoryMb). Stop some servers or close other programs, then try again.',
      );
    }
  }

  private spawnContext(user: string, name: string, token: string): SpawnContext {
    const { urls, config } = this.deps;
    const prefix = urls.server(user, name);
    const { home, runtimeDir, tmpDir, logFile } = this.paths(user, name);
    return {
      user,
      serverName: name,
      hubEnvironment: jupyterhubEnvironment({
        user,
        serverName: name,
        prefix,
        token,
        apiUrl: this.deps.hubApiUrl(),
        baseUrl: urls.base,
        rootDir: home,
        defaultUrl: config.spawner.defaultUrl,
      }),
      token,
      servicePrefix: prefix,
      defaultUrl: config.spawner.defaultUrl,
      home,
      runtimeDir,
      tmpDir,
      logFile,
      lowPriority: !this.isTeacher(user),
    };
  }

  /**
   * Routes the proxy to a server that answers; a plain-mode server, which checks no logins with
   * the hub, is put behind the gate first.
   */
  private addRoute(server: ManagedServer): void {
    const { user, name, target, token } = server;
    const prefix = this.deps.urls.serverRoute(user.name, name);
    if (server.plainMode && token) this.deps.gate.protect(prefix, { owner: user.name, serverName: name, token });
    this.deps.routes.add(prefix, target as string, { user: user.name, server_name: name });
  }

  private removeRoute(server: ManagedServer): void {
    const prefix = this.deps.urls.serverRoute(server.user.name, server.name);
    this.deps.routes.delete(prefix);
    this.deps.gate.unprotect(prefix);
  }

  /** Removes the route, stops the process, revokes the server's credentials. */
  private async teardown(server: ManagedServer, options: StopOptions = {}): Promise<void> {
    this.removeRoute(server);
    await server.spawner?.stop(options);
    this.forgetCredentials(server);
    server.started = null;
    this.setPhase(server, 'stopped');
    await this.deps.db.commit();
  }

  private forgetCredentials(server: ManagedServer): void {
    const { user, name } = server;
    void removeServerToken(this.paths(user.name, name).tokenFile);
    this.credentials.revoke(user, name, server.tokenId !== undefined ? { tokenId: server.tokenId } : { prefix: this.deps.urls.server(user.name, name) });
    server.tokenId = undefined;
    server.token = undefined;
    server.spawner = undefined;
    server.target = undefined;
    server.sandbox = null;
  }

  /** A running server's process ended without being asked to: drop its route and say why. */
  private async onServerExit(server: ManagedServer, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (server.phase !== 'running') return;
    this.log.warn(`${server.user.name}'s server stopped unexpectedly (${describeExit(code, signal)})`);
    this.removeRoute(server);
    this.forgetCredentials(server);
    server.started = null;
    server.failure = `Your server stopped unexpectedly (${describeExit(code, signal)}). You can start it again.`;
    this.setPhase(server, 'stopped');
    await this.deps.db.commit();
  }

  private paths(user: string, name: string): ServerPaths {
    return serverPaths(this.deps.config, user, name);
  }
}

/** Plain `jupyter lab` / `notebook` / `server`, as opposed to jupyterhub-singleuser (the default of older state). */
function isPlainMode(mode: unknown): boolean {
  return mode === 'lab' || mode === 'notebook' || mode === 'server';
}

function stateOf(server: ManagedServer): ServerState {
  const { user, name, phase, started, failure, notice, sandbox, queuePosition } = server;
  return { user: user.name, name, phase, started, failure, notice, sandbox, queuePosition };
}

function key(user: UserRecord, name: string): string {
  return `${user.id}/${name}`;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`;
}

/** The last lines of a server's log, to show with a failure (Jupyter explains itself there). */
async function logTail(file: string): Promise<string> {
  const tail = await readLogTail(file, LOG_TAIL_LINES);
  return tail ? `\n\nLast lines of the server's log:\n${tail}` : '';
}

/** True if `url` answers 200 with JSON when asked with `token`: the server we started, and alive. */
async function answersWithToken(url: string, token: string): Promise<boolean> {
  const answer = await askServer(url, { token, timeoutMs: 5000 });
  return answer?.status === 200 && /application\/json/.test(String(answer.headers['content-type']));
}

/** Stops a server left by a previous run, but only if its PID still names that very process. */
async function killIfStillOurs(state: Record<string, unknown>): Promise<void> {
  const { pid, startTime } = state as { pid?: number; startTime?: string | null };
  if (!pid || !startTime || (await processStartTime(pid)) !== startTime) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
