/**
 * The composition root: `startHub(config)` builds the hub, the proxy and the spawner in one process
 * and returns its URLs and a `dispose()` that stops everything cleanly. The CLI, the Electron app
 * and the tests all start Lectern through here.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createAuthenticator } from './auth/authenticator.js';
import { JoinCodes } from './auth/join-codes.js';
import { LoginAttempts } from './auth/login-attempts.js';
import { issueLoginLink } from './auth/login-links.js';
import { announceHostName, mdnsHostName, type MdnsAnnouncer } from './lan/mdns.js';
import { LoginThrottle } from './auth/throttle.js';
import { generatePassword, PasswordHasher } from './auth/passwords.js';
import { newSecret } from './auth/secrets.js';
import { portRange, type LecternConfig } from './config/schema.js';
import { createHubApp } from './hub/app.js';
import { CardSheets } from './hub/card-sheets.js';
import type { HubContext } from './hub/context.js';
import { HubEvents } from './hub/events.js';
import { IdleCuller } from './culler/idle-culler.js';
import { IdentityResolver } from './hub/identity.js';
import { JoinAddresses, type JoinAddressList } from './hub/join-addresses.js';
import { LiveSettings } from './hub/live-settings.js';
import { HubMetrics } from './hub/metrics.js';
import { errorPage } from './hub/pages/templates.js';
import { ServerGate } from './hub/server-gate.js';
import { HubUrls } from './hub/urls.js';
import { createLogger, type Logger } from './logging/logger.js';
import { Proxy, type GuardVerdict } from './proxy/proxy.js';
import { prometheusText } from './proxy/proxy-stats.js';
import { closeServer, listen, ListenError, type ListenAddress } from './net/listen.js';
import { createPublicListener } from './proxy/public-listener.js';
import { createRouteApi } from './proxy/route-api.js';
import { RouteTable } from './proxy/route-table.js';
import { studentServerCookies } from './proxy/server-cookies.js';
import { ServerOrigins } from './proxy/server-origins.js';
import { OriginPorts } from './servers/origin-ports.js';
import { ServerManager } from './servers/server-manager.js';
import { usersFolder } from './config/users-folder.js';
import { migrateStudentFolders } from './servers/student-folders.js';
import { launchPlanProvider } from './spawner/launch-plan.js';
import { localSpawners } from './spawner/local-spawners.js';
import { isolationProvider, type Isolation } from './spawner/sandbox/isolation.js';
import { Database } from './store/database.js';
import { acquireLock, type DataDirLock } from './store/lock.js';
import { GroupRepository } from './store/groups.js';
import { LoginLinkRepository } from './store/login-links.js';
import { OAuthClientRepository } from './store/oauth-clients.js';
import { ServerRepository } from './store/servers.js';
import { SettingsRepository } from './store/settings.js';
import { HandoutRepository } from './store/handouts.js';
import { Handouts } from './handouts/handouts.js';
import { SessionRepository } from './store/sessions.js';
import { TokenRepository } from './store/tokens.js';
import { UserRepository } from './store/users.js';

export interface StartOptions {
  log?: Logger;
  /**
   * Called when an admin asks the hub to shut down (`POST /hub/api/shutdown`), so the host (CLI,
   * Electron) can stop it and exit. Without it the hub disposes itself.
   */
  onShutdownRequest?: () => void;
  /**
   * Called when an admin asks for a restart (`POST /hub/api/lectern/restart`, to apply settings
   * that need one): the host disposes this hub and starts a new one. Without it the hub cannot
   * restart itself, and says so.
   */
  onRestartRequest?: () => void;
  /**
   * The hub's clock (epoch ms), for everything that waits for time to pass: the login throttle,
   * login links' and card codes' expiry, the idle culler, handouts' availability and due times.
   * Tests move it forward instead of sleeping.
   */
  clock?: () => number;
}

export interface RunningHub {
  /** The hub's public URL as seen from this machine, e.g. `http://127.0.0.1:8000/`. */
  url: string;
  /** The port the public listener bound (useful with port 0). */
  port: number;
  /** The REST API on loopback, as single-user servers and the CLI reach it. */
  apiUrl: string;
  /** Accounts created on first start, with their one-time passwords, to show the teacher once. */
  initialAccounts: { name: string; password: string }[];
  /** The class join code students type now (the teacher may rotate it); null unless `auth.loginMode` is "join-code". */
  joinCode(): string | null;
  /** Where students join (each address with its URL), and the one to show them. */
  joinUrls(): JoinAddressList;
  /** Whether students' servers run in a sandbox, and if not, what that means and how to fix it. */
  isolation(): Promise<Isolation>;
  /** How many students' servers are running, starting or stopping. */
  activeStudentServers(): number;
  /** Stops every student's server (teachers' own keep running); the hub keeps running. */
  stopStudentServers(): Promise<void>;
  /**
   * For the desktop app's window: a one-time login link (valid a minute) that logs the first admin
   * in and opens the teacher dashboard. It revokes that admin's other login links.
   */
  desktopLoginUrl(): Promise<string>;
  /** Stops every single-user server, closes the listeners, flushes the database. Idempotent. */
  dispose(): Promise<void>;
}

const DEFAULT_FIRST_ADMIN = 'teacher';
/** How often route activity is recorded and server logs are checked for rotation. */
const HOUSEKEEPING_MS = 30_000;
/** How often servers' CPU and memory are measured (one pass over the process table). */
const USAGE_SAMPLE_MS = 5_000;
/** The desktop window uses its login link at once; a minute is ample, and little for anyone else. */
const DESKTOP_LOGIN_LINK_MS = 60_000;

/**
 * Starts the hub as a short list of steps, each returning what it built and what undoes it: the
 * data dir taken, the store opened, the accounts' parts, the hub (its context, proxy and servers),
 * the listeners, the background jobs. When a step fails, what the earlier ones did is undone in
 * reverse; `dispose()` undoes them all the same way.
 */
export async function startHub(config: LecternConfig, options: StartOptions = {}): Promise<RunningHub> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? Date.now;
  const undo = new UndoList();
  let disposing: Promise<void> | undefined;
  const dispose = () => (disposing ??= undo.run().then(() => log.info('Lectern stopped')));
  try {
    const lock = await undo.step(takeDataDir(config));
    const store = await undo.step(openStore(config, log));
    const accounts = await undo.step(openAccounts(store, log));
    // Known once the hub listens; what is built before asks for them later.
    const addresses: Addresses = { port: 0, hubUrl: '', apiUrl: '', url: '' };
    const hub = await undo.step(buildHub({ store, accounts, addresses, options, clock, log, dispose }));
    await undo.step(listenAll(hub, addresses, log));
    await lock.update({ apiUrl: addresses.apiUrl, token: accounts.cliToken, url: addresses.url });
    // Servers that outlived a previous hub check their users' tokens with this API: adopt them now.
    await hub.ctx.servers.adoptPreviousRun();
    await undo.step(startJobs(hub, clock, log, () => disposing !== undefined));
    log.info(`Lectern is running at ${addresses.url}`);
    reportHowServersRun(hub, log);
    const { ctx } = hub;
    return {
      url: addresses.url,
      port: addresses.port,
      apiUrl: addresses.apiUrl,
      initialAccounts: accounts.initialAccounts,
      joinCode: () => accounts.joinCodes?.current() ?? null,
      joinUrls: () => ctx.joinAddresses.list(),
      isolation: hub.isolation,
      activeStudentServers: () => ctx.servers.activeStudentServers(),
      stopStudentServers: () => ctx.servers.stopStudents(),
      desktopLoginUrl: async () => {
        const admin = ctx.users.list().find((user) => user.admin && user.approved);
        if (!admin) throw new Error('There is no admin account to open the teacher dashboard with. Create one with: lectern users add NAME --admin');
        const secret = issueLoginLink(ctx.loginLinks, admin.id, new Date(clock() + DESKTOP_LOGIN_LINK_MS), true);
        await ctx.db.commit();
        return new URL(`${ctx.urls.hub(`login-link/${secret}`)}?next=${encodeURIComponent(ctx.urls.hub('admin'))}`, addresses.url).href;
      },
      dispose,
    };
  } catch (error) {
    await undo.run();
    throw error;
  }
}

/** What a step of the start built, and what undoes it. */
interface Built<T> {
  value: T;
  undo?: () => Promise<void> | void;
}

/** The undoing of the steps done so far, run last first; running it again does nothing. */
class UndoList {
  private readonly undos: (() => Promise<void> | void)[] = [];

  async step<T>(built: Promise<Built<T>>): Promise<T> {
    const { value, undo } = await built;
    if (undo) this.add(undo);
    return value;
  }

  add(undo: () => Promise<void> | void): void {
    this.undos.push(undo);
  }

  async run(): Promise<void> {
    while (this.undos.length > 0) await (this.undos.pop() as () => Promise<void> | void)();
  }
}

/** A step's result with its undo; should the rest of the step fail, what it made is undone at once. */
async function undoable<T>(undo: () => Promise<void> | void, rest: () => Promise<T>): Promise<Built<T>> {
  try {
    return { value: await rest(), undo };
  } catch (error) {
    await undo();
    throw error;
  }
}

/** Where the hub listens, filled in by `listenAll`. */
interface Addresses {
  /** The public listener's port. */
  port: number;
  /** The loopback listener, and the REST API on it, as servers and the CLI reach them. */
  hubUrl: string;
  apiUrl: string;
  /** The hub's public URL as seen from this machine. */
  url: string;
}

/** The data dir, created if missing, and its lock: one hub per data dir. */
async function takeDataDir(config: LecternConfig): Promise<Built<DataDirLock>> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = await acquireLock(config.dataDir, { pid: process.pid, startedAt: new Date().toISOString() });
  return { value: lock, undo: () => lock.release() };
}

interface Store {
  db: Database;
  settings: SettingsRepository;
  liveSettings: LiveSettings;
  /** The effective configuration: the given one with the changes saved from the settings page. */
  config: LecternConfig;
}

/** The database, the settings changed on the settings page, and students' folders in today's layout. */
async function openStore(given: LecternConfig, log: Logger): Promise<Built<Store>> {
  const db = await Database.open(join(given.dataDir, 'lectern.sqlite'), { log: log.child('store') });
  return undoable(
    () => db.close(),
    async () => {
      const settings = new SettingsRepository(db);
      const liveSettings = await LiveSettings.open(given, { store: settings, db, log });
      const config = liveSettings.running;
      // Before anything makes a student's folder: each student's files move one level down, into `home`.
      const moved = await migrateStudentFolders(usersFolder(config));
      if (moved.length > 0) log.info(`moved ${moved.length} students' files into their folder's "home" (the new layout)`);
      return { db, settings, liveSettings, config };
    },
  );
}

interface Accounts {
  users: UserRepository;
  tokens: TokenRepository;
  sessions: SessionRepository;
  groups: GroupRepository;
  oauthClients: OAuthClientRepository;
  hasher: PasswordHasher;
  identities: IdentityResolver;
  authenticator: ReturnType<typeof createAuthenticator>;
  joinCodes: JoinCodes | null;
  /** The CLI's credential while this hub runs: in memory and in the 0600 lock file, never in the database. */
  cliToken: string;
  initialAccounts: { name: string; password: string }[];
}

/** Who may do what: accounts, tokens and logins, the configured services, and the first admin. */
async function openAccounts({ db, settings, config }: Store, log: Logger): Promise<Built<Accounts>> {
  const hasher = new PasswordHasher();
  return undoable(
    () => hasher.close(),
    async () => {
      const users = new UserRepository(db);
      const tokens = new TokenRepository(db);
      const sessions = new SessionRepository(db);
      const groups = new GroupRepository(db);
      const oauthClients = new OAuthClientRepository(db);
      const identities = new IdentityResolver({
        users,
        groups,
        tokens,
        sessions,
        oauthClients,
        roles: config.roles,
        secure: config.network.tls !== undefined,
        markDirty: () => db.markDirty(),
      });
      for (const service of config.services) identities.addService(service.name, service.apiToken, service.admin);
      const cliToken = newSecret();
      identities.addService('lectern-cli', cliToken, true, false);
      const initialAccounts = await prepareAccounts(config, db, users, hasher, log);
      const authenticator = createAuthenticator(config, { db, users, hasher });
      const joinCodes = config.auth.loginMode === 'join-code' ? await JoinCodes.open({ db, settings, fixed: config.auth.joinCode }) : null;
      return { users, tokens, sessions, groups, oauthClients, hasher, identities, authenticator, joinCodes, cliToken, initialAccounts };
    },
  );
}

interface Hub {
  ctx: HubContext;
  proxy: Proxy;
  origins: ServerOrigins | undefined;
  originPorts: OriginPorts | undefined;
  /** The hub's express app: what the proxy hands every request no route takes. */
  app: RequestListener;
  launch: ReturnType<typeof launchPlanProvider>;
  isolation: () => Promise<Isolation>;
  tls: { cert: Buffer; key: Buffer } | undefined;
}

/**
 * The hub itself: its context (every part a request handler uses), the proxy in front of it,
 * students' servers and their origins, and handouts. Undoing it stops every server.
 */
async function buildHub(parts: {
  store: Store;
  accounts: Accounts;
  addresses: Addresses;
  options: StartOptions;
  clock: () => number;
  log: Logger;
  dispose: () => Promise<void>;
}): Promise<Built<Hub>> {
  const { store, accounts, addresses, options, clock, log, dispose } = parts;
  const { db, settings, liveSettings, config } = store;
  const { users, sessions, groups, identities, authenticator } = accounts;
  const urls = new HubUrls(config.network.baseUrl);
  const secure = config.network.tls !== undefined;
  const routes = new RouteTable();
  const metrics = new HubMetrics();
  const isolation = isolationProvider(config.spawner);
  const gate = new ServerGate({ sessions, users, identities, urls, secure, log: log.child('gate') });
  const ctx: HubContext = {
    clock,
    config,
    gate,
    urls,
    log,
    db,
    users,
    sessions,
    tokens: accounts.tokens,
    oauthClients: accounts.oauthClients,
    serverRecords: new ServerRepository(db),
    groups,
    loginLinks: new LoginLinkRepository(db),
    settings,
    cardSheets: new CardSheets(clock),
    routes,
    metrics,
    identities,
    hasher: accounts.hasher,
    authenticator,
    logins: new LoginAttempts({ authenticator, users, throttle: new LoginThrottle({ clock }), log: log.child('login') }),
    joinCodes: accounts.joinCodes,
    liveSettings,
    secure,
    hubActivity: { last: Date.now() },
    isolation,
    hubUrl: () => addresses.hubUrl,
    publicPort: () => addresses.port,
    requestShutdown: () => {
      log.info('shutdown requested through the API');
      if (options.onShutdownRequest) options.onShutdownRequest();
      else void dispose();
    },
    requestRestart: options.onRestartRequest
      ? () => {
          log.info('restart requested through the API');
          options.onRestartRequest?.();
        }
      : null,
    servers: undefined as unknown as ServerManager, // set just below: the manager needs the context's parts
    handouts: new Handouts({
      config,
      db,
      handouts: new HandoutRepository(db),
      users,
      groups,
      log: log.child('handouts'),
      changed: (handoutId) => ctx.events.handoutChanged(handoutId),
      clock,
    }),
    events: new HubEvents({
      servers: () => ctx.servers.states(),
      accounts: () => ({ users: users.count(), signedIn: sessions.countSignedInUsers(), pendingApproval: users.countAwaitingApproval() }),
      announcement: () => settings.announcement(),
      log: log.child('events'),
    }),
    joinAddresses: new JoinAddresses({ network: config.network, port: () => addresses.port, settings, db }),
  };
  const launch = launchPlanProvider(config.spawner);
  // The hub's app is made once the context is whole; the proxy hands it what no route takes.
  let hubApp: RequestListener = (_req, res) => res.writeHead(503).end();
  const proxy: Proxy = new Proxy({
    log: log.child('proxy'),
    routes,
    fallback: (req, res) => hubApp(req, res),
    homeUrl: urls.hub('home'),
    renderErrorPage: (status, message) => errorPage(urls, status, message),
    guard: (req, route): GuardVerdict => {
      const verdict = origins?.guard(req, route) ?? gate.guard(req, route);
      // What it forwards to a student's server is also how the hub knows who opened a handout.
      if (verdict.forward && typeof route.data.user === 'string') ctx.handouts.noteServerRequest(route.data.user, req.method, req.url ?? '/', route.prefix);
      return verdict;
    },
    setCookiePolicy: studentServerCookies,
  });
  const tls = config.network.tls && { cert: readFileSync(config.network.tls.cert), key: readFileSync(config.network.tls.key) };
  const origins: ServerOrigins | undefined =
    config.network.serverOrigins === 'ports'
      ? new ServerOrigins({ proxy, ip: config.network.ip, tls, hubPort: () => addresses.port, log: log.child('origins') })
      : undefined;
  const originPorts =
    origins &&
    new OriginPorts({
      origins,
      db,
      servers: ctx.serverRecords,
      users,
      routeOf: (user, serverName) => urls.serverRoute(user, serverName),
      range: portRange(config.network.serverPorts),
      hubPort: () => addresses.port,
      log: log.child('origins'),
    });
  const spawners = localSpawners({
    settings: config.spawner,
    launch,
    isolation,
    jupyterConfigDir: join(config.dataDir, 'jupyter-config'),
    hidden: [config.dataDir, usersFolder(config), homedir()],
    forkServerDir: join(config.dataDir, 'fork-server'),
    log: log.child('spawner'),
  });
  ctx.servers = new ServerManager({
    config,
    db,
    users,
    tokens: accounts.tokens,
    oauthClients: accounts.oauthClients,
    servers: ctx.serverRecords,
    routes,
    urls,
    hubApiUrl: () => addresses.apiUrl,
    log: log.child('servers'),
    metrics,
    spawners,
    origins: originPorts,
    gate,
    events: ctx.events,
    beforeStart: (user) => ctx.handouts.deliverBeforeStart(user),
  });
  const stopServers = async () => {
    ctx.handouts.stop();
    await ctx.servers.stopAll();
    await spawners.close();
  };
  return undoable(stopServers, async () => {
    await ctx.handouts.start();
    const app = createHubApp(ctx);
    hubApp = origins ? origins.fallback(app) : app;
    metrics.addSource(() => prometheusText(proxy.stats, routes.size));
    return { ctx, proxy, origins, originPorts, app, launch, isolation, tls: tls || undefined };
  });
}

/**
 * The listeners: the public one (the proxy, then the hub), each server's origin from the last run,
 * the hub's loopback API, and configurable-http-proxy's route API when asked for; the `.local`
 * name announced. Undoing closes them all.
 */
async function listenAll(hub: Hub, addresses: Addresses, log: Logger): Promise<Built<void>> {
  const { ctx, proxy, origins } = hub;
  const { config, urls } = ctx;
  // Closed last opened first, as the hub stops or should a later one fail to open.
  const listeners = new UndoList();
  return undoable(() => listeners.run(), async () => {
    const publicServer = createPublicListener(proxy, { tls: hub.tls });
    await listenOrExplain(publicServer, { host: config.network.ip, port: config.network.port }, 'the hub');
    listeners.add(async () => {
      // The proxy first: a listener closes only once its connections have, and it does not count
      // websockets (students' open notebooks), which only the proxy can end.
      proxy.close();
      await origins?.closeAll();
      await closeServer(publicServer);
    });
    addresses.port = (publicServer.address() as AddressInfo).port;
    const announcer = await announceOnLan(ctx, log);
    if (announcer) listeners.add(() => announcer.close());
    // Each server's origin from the last run, so bookmarks of servers not started yet lead somewhere.
    await hub.originPorts?.reopenAll();

    const apiServer = createHttpServer(hub.app);
    await listenOnHubPort(apiServer, config.dataDir, log);
    listeners.add(() => closeServer(apiServer));
    if (config.proxy.apiPort !== null) {
      // configurable-http-proxy's REST API, for tools that manage routes as they would CHP's.
      const routeApi = createHttpServer(createRouteApi({ routes: ctx.routes, authToken: config.proxy.apiToken, log: log.child('route-api') }));
      await listenOrExplain(routeApi, { host: config.proxy.apiIp, port: config.proxy.apiPort }, 'the proxy’s REST API');
      listeners.add(() => closeServer(routeApi));
    }
    addresses.hubUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
    addresses.apiUrl = `${addresses.hubUrl}${urls.api().slice(0, -1)}`;
    const host = ['0.0.0.0', '::', ''].includes(config.network.ip) ? '127.0.0.1' : config.network.ip;
    addresses.url = `${ctx.secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${addresses.port}${urls.base}`;
  });
}

/** The background jobs: the idle culler (built again when its settings change), housekeeping, usage samples. */
async function startJobs(hub: Hub, clock: () => number, log: Logger, disposing: () => boolean): Promise<Built<void>> {
  const { ctx } = hub;
  const { config, users, liveSettings } = ctx;
  let culler: IdleCuller | undefined;
  const startCuller = async () => {
    await culler?.stop();
    culler = undefined;
    if (!config.culler.enabled || disposing()) return;
    culler = new IdleCuller({
      idleTimeoutMs: config.culler.idleTimeout * 1000,
      everyMs: config.culler.every * 1000,
      running: () => ctx.servers.runningServers(),
      stop: (userName, serverName) => {
        const user = users.find(userName);
        return user ? ctx.servers.stop(user, serverName) : Promise.resolve();
      },
      noteActivity: (userName, serverName, at) => {
        const user = users.find(userName);
        if (user) ctx.servers.noteActivity(user, serverName, at);
      },
      log: log.child('culler'),
      clock,
    });
    culler.start();
  };
  await startCuller();
  liveSettings.onChange(['culler.enabled', 'culler.idleTimeout'], startCuller);
  liveSettings.onChange(['spawner.concurrentSpawnLimit'], () => ctx.servers.setConcurrentSpawnLimit(config.spawner.concurrentSpawnLimit));

  const housekeeping = setInterval(() => {
    ctx.servers.recordRouteActivity();
    ctx.gate.forgetDeadGrants();
    void ctx.servers.rotateLogs();
  }, HOUSEKEEPING_MS);
  housekeeping.unref();
  const usageSampler = setInterval(() => void ctx.servers.sampleUsage(), USAGE_SAMPLE_MS);
  usageSampler.unref();
  return {
    value: undefined,
    undo: async () => {
      clearInterval(usageSampler);
      clearInterval(housekeeping);
      await culler?.stop();
    },
  };
}

/** Finds, once the hub is up, how students' servers will run, and says so (it takes a second). */
function reportHowServersRun(hub: Hub, log: Logger): void {
  void hub.launch().then(
    (resolution) => (resolution.plan ? log.info(`students' servers: ${resolution.reason}`) : log.warn(`students' servers cannot start: ${resolution.problem ?? ''}`)),
    (error: unknown) => log.warn(`could not find how to launch students' servers: ${(error as Error).message}`),
  );
  void hub.isolation().then((status) => {
    if (status.problem) log.error(status.problem);
    else if (status.warning) log.warn(status.warning);
    else log.info(`students' servers run in a sandbox (${status.sandbox ?? ''})`);
  });
}

/**
 * On the very first start (no accounts at all), creates the admin accounts with generated
 * passwords so the teacher can log in; afterwards, makes sure configured admins are admins.
 */
async function prepareAccounts(
  config: LecternConfig,
  db: Database,
  users: UserRepository,
  hasher: PasswordHasher,
  log: Logger,
): Promise<{ name: string; password: string }[]> {
  const created: { name: string; password: string }[] = [];
  if (users.count() === 0) {
    const names = config.adminUsers.length > 0 ? config.adminUsers : [DEFAULT_FIRST_ADMIN];
    for (const name of names) {
      const password = generatePassword(config.auth.minPasswordLength);
      users.create({ name, admin: true, passwordHash: await hasher.hash(password) });
      created.push({ name, password });
      log.info(`created the first admin account, ${name}`);
    }
  } else {
    for (const name of config.adminUsers) {
      const user = users.find(name);
      if (!user) log.warn(`admin user ${name} has no account yet: create it with "lectern users add ${name} --admin"`);
      else if (!user.admin) users.setAdmin(user.id, true);
    }
  }
  await db.commit();
  return created;
}

/** A reason the hub cannot start that the teacher can fix (a busy port, a wrong address). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Listens, or fails the start with what to do about it. */
async function listenOrExplain(server: Server, address: ListenAddress, what: string): Promise<void> {
  try {
    await listen(server, address, what);
  } catch (error) {
    throw error instanceof ListenError ? new StartupError(error.message) : error;
  }
}

/**
 * The hub's loopback API listens on the same port as last time when it can: single-user servers
 * that outlived a crashed hub have that address (JUPYTERHUB_API_URL) and are adopted only if they
 * can still reach it. The first start picks a free port.
 */
async function listenOnHubPort(server: Server, dataDir: string, log: Logger): Promise<void> {
  const file = join(dataDir, 'hub-api-port');
  const previous = Number(await readFile(file, 'utf8').catch(() => '0'));
  try {
    await listenOrExplain(server, { host: '127.0.0.1', port: previous }, 'the hub’s API');
  } catch (error) {
    if (previous === 0) throw error;
    log.warn(`the hub's previous API port ${previous} is taken: servers from the previous run cannot be adopted`);
    await listenOrExplain(server, { host: '127.0.0.1', port: 0 }, 'the hub’s API');
  }
  const port = (server.address() as AddressInfo).port;
  if (port !== previous) await writeFile(file, String(port), { mode: 0o600 });
}

/**
 * Announces the machine's `.local` name when students can reach the hub over the network, so that
 * the dashboard and the cards can offer an address that survives a new IP address.
 */
async function announceOnLan(ctx: HubContext, log: Logger): Promise<MdnsAnnouncer | undefined> {
  const name = mdnsHostName();
  if (!name || ctx.joinAddresses.lanIPv4().length === 0) return undefined;
  const announcer = await announceHostName(name, () => ctx.joinAddresses.lanIPv4(), log.child('mdns'));
  if (!announcer) return undefined;
  ctx.joinAddresses.setAnnouncedName(announcer.name);
  return announcer;
}
