/**
 * The life of each student's server, as JupyterHub's `User.spawn` / `User.stop` orchestrate it:
 *
 *   start: issue the server's API token and OAuth client → spawner.start() → wait until it answers
 *          → add its proxy route → record it → "ready"
 *   stop:  remove the route → spawner.stop() (signal ladder) → revoke token and OAuth client → record it
 *
 * Every step reports progress events, which the progress page shows live. A server whose process
 * dies is noticed at once (the spawner's `onExit`): its route goes, and the student is told why.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import type { LecternConfig } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { RouteTable } from '../proxy/route-table.js';
import { accessScopesFor, serverOAuthClientAllowedScopes, serverTokenScopes } from '../rbac/roles.js';
import { hashSecret } from '../auth/secrets.js';
import { issueToken } from '../auth/tokens.js';
import type { Database } from '../store/database.js';
import type { OAuthClientRepository } from '../store/oauth-clients.js';
import type { ServerRepository } from '../store/servers.js';
import type { TokenRepository } from '../store/tokens.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import type { LaunchPlan } from '../spawner/discovery.js';
import type { LaunchResolution } from '../spawner/launch-plan.js';
import { LocalProcessSpawner } from '../spawner/local-process.js';
import { waitForHttpServer } from '../spawner/readiness.js';
import { availableMemoryBytes, processGroupsUsage, processStartTime } from '../spawner/processes.js';
import { readLogTail, rotateLogIfLarge } from '../spawner/server-log.js';
import { folderNameFor, usersFolder } from '../spawner/user-folders.js';
import { CapacityError, SpawnError, type SpawnContext, type Spawner } from '../spawner/spawner.js';
import { resolveToken } from '../auth/tokens.js';
import { StartQueue } from './start-queue.js';
import type { RunningServer } from '../culler/idle-culler.js';
import type { HubEvents, ServerState, ServerUsageSample } from './events.js';
import type { HubMetrics } from './metrics.js';
import type { ServerGate } from './server-gate.js';
import type { HubUrls } from './urls.js';

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

/** What the pages and the API may know about a server. */
/** A running server's use of the machine: its whole process tree (server and kernels). */
export interface ServerUsage {
  cpuPercent: number;
  memoryBytes: number;
  processes: number;
}

export interface ServerView {
  phase: ServerPhase;
  /** Latest CPU and memory figures while it runs, if the OS gives them. */
  usage: ServerUsage | null;
  /** Why the last start failed or the server stopped on its own; cleared by the next start. */
  failure: string | null;
  started: string | null;
  events: readonly ProgressEvent[];
}

export class ServerBusyError extends Error {
  override readonly name = 'ServerBusyError';
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
  events: ProgressEvent[];
  listeners: Set<(event: ProgressEvent) => void>;
  starting: Promise<void> | undefined;
  stopping: Promise<void> | undefined;
  abortStart: AbortController | undefined;
}

export interface ServerManagerDeps {
  config: LecternConfig;
  db: Database;
  users: UserRepository;
  tokens: TokenRepository;
  oauthClients: OAuthClientRepository;
  servers: ServerRepository;
  routes: RouteTable;
  urls: HubUrls;
  /** The hub API as single-user servers reach it (loopback), e.g. `http://127.0.0.1:8081/hub/api`. */
  hubApiUrl: () => string;
  log: Logger;
  metrics: HubMetrics;
  /** How servers are launched (see spawner/launch-plan.ts), resolved when the first one starts. */
  launch: () => Promise<LaunchResolution>;
  /** Lets browsers into plain-mode servers, which do not check logins with the hub themselves. */
  gate: ServerGate;
  /** Told of every phase change and usage sample, for the teacher's live dashboard. */
  events: HubEvents;
}

const LOG_TAIL_LINES = 12;

export class ServerManager {
  private readonly managed = new Map<string, ManagedServer>();
  private readonly log: Logger;
  private readonly startQueue: StartQueue;

  constructor(private readonly deps: ServerManagerDeps) {
    this.log = deps.log;
    this.startQueue = new StartQueue(deps.config.spawner.concurrentSpawnLimit);
  }

  /** A new `spawner.concurrentSpawnLimit` from the settings page: starts waiting in line may go ahead. */
  setConcurrentSpawnLimit(limit: number): void {
    this.startQueue.setLimit(limit);
  }

  view(user: UserRecord, name = ''): ServerView {
    const server = this.managed.get(key(user, name));
    return server ?? { phase: 'stopped', usage: null, failure: null, started: null, events: [] };
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
  stop(user: UserRecord, name = ''): Promise<void> {
    const server = this.managed.get(key(user, name));
    if (!server || server.phase === 'stopped') return Promise.resolve();
    if (server.stopping) return server.stopping;
    server.abortStart?.abort(new SpawnError('The server was stopped before it was ready.'));
    server.stopping = (async () => {
      await server.starting?.catch(() => undefined);
      if (server.phase === 'running') {
        this.setPhase(server, 'stopping');
        await this.teardown(server);
      }
    })().finally(() => {
      server.stopping = undefined;
    });
    return server.stopping;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.managed.values()].map((server) => this.stop(server.user, server.name)));
  }

  /** Stops every server of `user` (before the account is deleted or renamed). */
  async stopAllOf(user: UserRecord): Promise<void> {
    const own = [...this.managed.values()].filter((server) => server.user.id === user.id);
    await Promise.all(own.map((server) => this.stop(server.user, server.name)));
    for (const server of own) this.managed.delete(key(server.user, server.name));
  }

  /** Stops a named server and deletes its record (JupyterHub's `remove`). */
  async remove(user: UserRecord, name: string): Promise<void> {
    await this.stop(user, name);
    this.managed.delete(key(user, name));
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
      const token = await readFile(tokenFile(paths.runtimeDir), 'utf8').catch(() => '');
      const tokenRecord = token ? resolveToken(this.deps.tokens, token) : undefined;
      const alive = Boolean(record.url && tokenRecord && (await answersWithToken(`${record.url}${prefix}api/status`, token)));
      const spawner = this.localSpawner(this.spawnContext(user.name, name, token), undefined);
      if (alive && record.url && tokenRecord) {
        const server = this.entry(user, name);
        const target = await spawner.adopt(record.state);
        server.spawner = spawner;
        server.tokenId = tokenRecord.id;
        server.token = token;
        server.target = target;
        server.started = record.started;
        this.setPhase(server, 'running');
        spawner.onExit = (code, exitSignal) => void this.onServerExit(server, code, exitSignal);
        this.addRoute(server);
        this.log.info(`adopted ${user.name}'s server from a previous run`, { url: prefix });
        continue;
      }
      this.log.warn(`${user.name}'s server from a previous run does not answer as itself: cleaning it up`);
      await killIfStillOurs(record.state);
      this.deps.db.transaction(() => {
        this.deps.oauthClients.delete(clientId(user.name, name));
        this.deps.tokens.deleteServerTokens(user.id, serverTokenNote(prefix));
        this.deps.servers.saveStopped(user.id, name);
      });
      await rm(tokenFile(paths.runtimeDir), { force: true });
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

  /** Samples the CPU and memory of every running server's process tree, in one pass. */
  async sampleUsage(now = performance.now()): Promise<void> {
    const byGroup = new Map<number, ManagedServer>();
    for (const server of this.managed.values()) {
      const group = server.phase === 'running' ? server.spawner?.processGroup : undefined;
      if (group) byGroup.set(group, server);
      else {
        server.usage = null;
        server.cpuSample = undefined;
      }
    }
    const usage = await processGroupsUsage(new Set(byGroup.keys()));
    const samples: ServerUsageSample[] = [];
    for (const [group, server] of byGroup) {
      const sample = usage.get(group);
      if (!sample) continue;
      const previous = server.cpuSample;
      const seconds = previous ? (now - previous.at) / 1000 : 0;
      server.usage = {
        cpuPercent: previous && seconds > 0 ? Math.max(0, ((sample.cpuSeconds - previous.cpuSeconds) / seconds) * 100) : 0,
        memoryBytes: sample.memoryBytes,
        processes: sample.processes,
      };
      server.cpuSample = { cpuSeconds: sample.cpuSeconds, at: now };
      samples.push({ user: server.user.name, name: server.name, cpuPercent: server.usage.cpuPercent, memoryBytes: server.usage.memoryBytes });
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
    let changed = false;
    for (const server of this.managed.values()) {
      if (server.phase !== 'running') continue;
      const route = this.deps.routes.get(this.deps.urls.serverRoute(server.user.name, server.name));
      if (!route) continue;
      const when = new Date(route.lastActivity).toISOString();
      this.deps.users.touch(server.user.id, when);
      this.deps.servers.touch(server.user.id, server.name, when);
      changed = true;
    }
    if (changed) this.deps.db.markDirty();
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
        started: null,
        events: [],
        listeners: new Set(),
        spawner: undefined,
        target: undefined,
        token: undefined,
        tokenId: undefined,
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
      release = await this.startQueue.acquire(
        (position) => this.emit(server, { progress: 5, message: `Waiting for a free start slot: number ${position} in line` }),
        signal,
      );
      await this.refuseWhenMemoryIsLow();
      const plan = await this.launchPlan();
      const token = this.registerServer(server, prefix, userOptions, plan);
      server.token = token;
      // Not committed yet: the server checks its token against the database in memory, and a
      // restart only looks for servers recorded running, which is committed once this one is ready.
      // The start waits for no disk write; the next commit or the flush timer saves the token.
      await saveServerToken(paths.runtimeDir, token);
      const spawner = this.localSpawner(this.spawnContext(user.name, name, token), plan);
      server.spawner = spawner;
      const exited = new AbortController();
      spawner.onExit = (code, exitSignal) => {
        exited.abort(new SpawnError(`The server exited (${describeExit(code, exitSignal)}) before it was ready.`));
        void this.onServerExit(server, code, exitSignal);
      };
      this.emit(server, { progress: 25, message: 'Spawning server...' });
      const target = await spawner.start();
      this.emit(server, { progress: 50, message: 'Waiting for the server to answer...' });
      await waitForHttpServer(`${target}${prefix}`, {
        timeoutMs: this.deps.config.spawner.startTimeout * 1000,
        signal: AbortSignal.any([signal, exited.signal]),
      });
      server.target = target;
      this.addRoute(server);
      server.started = new Date().toISOString();
      this.deps.servers.saveRunning(user.id, name, target, spawner.state, server.started);
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
      const failure = error instanceof CapacityError ? reason : `${reason}${await logTail(paths.logFile)}`;
      this.deps.metrics.observeSpawn((performance.now() - startedAt) / 1000, 'failure');
      this.log.warn(`${user.name}'s server failed to start: ${reason}`);
      // Set before the teardown, so the dashboard hears "stopped" once, with the reason.
      server.failure = failure;
      this.setPhase(server, 'stopping');
      await this.teardown(server);
      this.emit(server, { progress: 100, failed: true, message: `Spawn failed: ${failure}` });
      throw error instanceof CapacityError ? error : new SpawnError(failure);
    } finally {
      release?.();
    }
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

  /**
   * Issues the server's API token and, for jupyterhub-singleuser (which logs browsers in with
   * OAuth), registers its OAuth client; returns the token.
   */
  private registerServer(server: ManagedServer, prefix: string, userOptions: Record<string, unknown>, plan: LaunchPlan): string {
    const { user, name } = server;
    return this.deps.db.transaction(() => {
      this.deps.servers.saveOptions(user.id, name, userOptions);
      const { token, record } = issueToken(this.deps.tokens, {
        kind: 'server',
        userId: user.id,
        scopes: serverTokenScopes(),
        note: serverTokenNote(prefix),
      });
      server.tokenId = record.id;
      if (plan.mode !== 'singleuser') return token;
      this.deps.oauthClients.upsert({
        identifier: clientId(user.name, name),
        secretHash: hashSecret(token),
        redirectUri: `${prefix}oauth_callback`,
        description: `Server at ${prefix}`,
        allowedScopes: serverOAuthClientAllowedScopes(user.name, name),
        userId: user.id,
      });
      return token;
    });
  }

  private hubEnvironment(user: string, name: string, prefix: string, token: string): Record<string, string> {
    const apiUrl = this.deps.hubApiUrl();
    const accessScopes = JSON.stringify(accessScopesFor(user, name));
    const env: Record<string, string> = {
      JUPYTERHUB_API_TOKEN: token,
      JPY_API_TOKEN: token,
      JUPYTERHUB_CLIENT_ID: clientId(user, name),
      JUPYTERHUB_API_URL: apiUrl,
      JUPYTERHUB_ACTIVITY_URL: `${apiUrl}/users/${encodeURIComponent(user)}/activity`,
      JUPYTERHUB_BASE_URL: this.deps.urls.base,
      JUPYTERHUB_SERVICE_PREFIX: prefix,
      JUPYTERHUB_USER: user,
      JUPYTERHUB_SERVER_NAME: name,
      JUPYTERHUB_HOST: '',
      JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
      JUPYTERHUB_OAUTH_ACCESS_SCOPES: accessScopes,
      JUPYTERHUB_OAUTH_SCOPES: accessScopes,
      JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '[]',
      JUPYTERHUB_ROOT_DIR: this.paths(user, name).notebookDir,
    };
    if (this.deps.config.spawner.defaultUrl) env.JUPYTERHUB_DEFAULT_URL = this.deps.config.spawner.defaultUrl;
    return env;
  }

  /** The launch plan, or the reason there is none as the student's error. */
  private async launchPlan(): Promise<LaunchPlan> {
    const resolution = await this.deps.launch();
    if (!resolution.plan) throw new SpawnError(`Cannot start a Jupyter server: ${resolution.problem ?? resolution.reason}`);
    return resolution.plan;
  }

  private spawnContext(user: string, name: string, token: string): SpawnContext {
    const prefix = this.deps.urls.server(user, name);
    return {
      user,
      serverName: name,
      hubEnvironment: this.hubEnvironment(user, name, prefix, token),
      token,
      servicePrefix: prefix,
      defaultUrl: this.deps.config.spawner.defaultUrl,
      ...this.paths(user, name),
    };
  }

  private localSpawner(context: SpawnContext, plan: LaunchPlan | undefined): LocalProcessSpawner {
    return new LocalProcessSpawner(context, {
      plan,
      args: this.deps.config.spawner.args,
      environment: this.deps.config.spawner.environment,
      stopTimeouts: this.deps.config.spawner.stopTimeouts,
      log: this.log.child('spawner'),
    });
  }

  /**
   * Routes the proxy to a server that answers; a plain-mode server, which checks no logins with
   * the hub, is put behind the gate first.
   */
  private addRoute(server: ManagedServer): void {
    const { user, name, spawner, target, token } = server;
    const prefix = this.deps.urls.serverRoute(user.name, name);
    if (isPlainMode(spawner?.state.mode) && token) this.deps.gate.protect(prefix, { owner: user.name, serverName: name, token });
    this.deps.routes.add(prefix, target as string, { user: user.name, server_name: name });
  }

  private removeRoute(server: ManagedServer): void {
    const prefix = this.deps.urls.serverRoute(server.user.name, server.name);
    this.deps.routes.delete(prefix);
    this.deps.gate.unprotect(prefix);
  }

  /** Removes the route, stops the process, revokes the server's credentials. */
  private async teardown(server: ManagedServer): Promise<void> {
    this.removeRoute(server);
    await server.spawner?.stop();
    this.forgetCredentials(server);
    server.started = null;
    this.setPhase(server, 'stopped');
    await this.deps.db.commit();
  }

  private forgetCredentials(server: ManagedServer): void {
    const { user, name } = server;
    void rm(tokenFile(this.paths(user.name, name).runtimeDir), { force: true });
    this.deps.db.transaction(() => {
      if (server.tokenId !== undefined) this.deps.tokens.delete(server.tokenId);
      // The OAuth client's access tokens go with it.
      this.deps.oauthClients.delete(clientId(user.name, name));
      this.deps.servers.saveStopped(user.id, name);
    });
    server.tokenId = undefined;
    server.token = undefined;
    server.spawner = undefined;
    server.target = undefined;
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

  /**
   * Where a server's files go. Every server of a user shares the user's notebook folder; each has
   * its own runtime folder and log (server names cannot start with `_`, so `_default` is free).
   */
  private paths(user: string, name: string): Pick<SpawnContext, 'notebookDir' | 'runtimeDir' | 'logFile'> {
    const { dataDir } = this.deps.config;
    const folder = folderNameFor(user);
    return {
      notebookDir: join(usersFolder(this.deps.config), folder),
      runtimeDir: join(dataDir, 'runtime', folder, name || '_default'),
      logFile: name ? join(dataDir, 'logs', folder, `${name}.log`) : join(dataDir, 'logs', `${folder}.log`),
    };
  }
}

/** The OAuth client id JupyterHub gives a server; also the single-user server's cookie name. */
export function clientId(user: string, serverName: string): string {
  return `jupyterhub-user-${encodeURIComponent(user)}${serverName ? `-${encodeURIComponent(serverName)}` : ''}`;
}

/** Plain `jupyter lab` / `notebook` / `server`, as opposed to jupyterhub-singleuser (the default of older state). */
function isPlainMode(mode: unknown): boolean {
  return mode === 'lab' || mode === 'notebook' || mode === 'server';
}

function stateOf(server: ManagedServer): ServerState {
  return { user: server.user.name, name: server.name, phase: server.phase, started: server.started, failure: server.failure };
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

/** The note on a server's API token, as JupyterHub writes it; also how a leftover token is found. */
function serverTokenNote(prefix: string): string {
  return `Server at ${prefix}`;
}

/** Where a running server's API token is kept, so a restarted hub can prove the server is ours. */
function tokenFile(runtimeDir: string): string {
  return join(runtimeDir, 'hub-api-token');
}

/** Kept beside Jupyter's own runtime files (0600 in a 0700 folder), never in the database. */
async function saveServerToken(runtimeDir: string, token: string): Promise<void> {
  await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
  await writeFile(tokenFile(runtimeDir), token, { mode: 0o600 });
}

/** True if `url` answers 200 with JSON when asked with `token`: the server we started, and alive. */
function answersWithToken(url: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { headers: { Authorization: `token ${token}` }, timeout: 5000 }, (res) => {
      const json = /application\/json/.test(String(res.headers['content-type']));
      res.resume();
      resolve(res.statusCode === 200 && json);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
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
