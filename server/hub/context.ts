/** Everything the hub's handlers share, built once by the composition root (server/index.ts). */
import type { Authenticator } from '../auth/authenticator.js';
import type { JoinCodes } from '../auth/join-codes.js';
import type { LoginAttempts } from '../auth/login-attempts.js';
import type { PasswordHasher } from '../auth/passwords.js';
import type { LecternConfig } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Database } from '../store/database.js';
import type { SessionRepository } from '../store/sessions.js';
import type { TokenRepository } from '../store/tokens.js';
import type { UserRepository } from '../store/users.js';
import type { OAuthClientRepository } from '../store/oauth-clients.js';
import type { ServerRepository } from '../store/servers.js';
import type { GroupRepository } from '../store/groups.js';
import type { LoginLinkRepository } from '../store/login-links.js';
import type { SettingsRepository } from '../store/settings.js';
import type { RouteTable } from '../proxy/route-table.js';
import type { CardSheets } from './card-sheets.js';
import type { HubEvents } from './events.js';
import type { IdentityResolver } from './identity.js';
import type { JoinAddresses } from './join-addresses.js';
import type { LiveSettings } from './live-settings.js';
import type { HubMetrics } from './metrics.js';
import type { ServerGate } from './server-gate.js';
import type { ServerManager } from '../servers/server-manager.js';
import type { Handouts } from '../handouts/handouts.js';
import type { Isolation } from '../spawner/sandbox/isolation.js';
import type { HubUrls } from './urls.js';

export interface HubContext {
  /** The configuration the hub runs with. Settings changed live (see `liveSettings`) are updated in it. */
  config: LecternConfig;
  /** The hub's clock, epoch ms (StartOptions.clock): what decides whether a wait is over. */
  clock: () => number;
  urls: HubUrls;
  log: Logger;
  db: Database;
  users: UserRepository;
  sessions: SessionRepository;
  tokens: TokenRepository;
  oauthClients: OAuthClientRepository;
  serverRecords: ServerRepository;
  groups: GroupRepository;
  /** One-time login links (the QR codes on login cards). */
  loginLinks: LoginLinkRepository;
  /** Login cards waiting to be printed: in memory only, as they may show passwords. */
  cardSheets: CardSheets;
  /** Settings the teacher changes while the hub runs, kept in the database. */
  settings: SettingsRepository;
  /** The settings page's settings: changes saved in the data dir, live ones applied to `config`. */
  liveSettings: LiveSettings;
  /** The proxy's route table. */
  routes: RouteTable;
  identities: IdentityResolver;
  servers: ServerManager;
  /** Files handed out to students, and the work taken back. */
  handouts: Handouts;
  /** The teacher dashboard's live feed. */
  events: HubEvents;
  /** The addresses students join at, and which one the teacher shows them. */
  joinAddresses: JoinAddresses;
  /** Issues the cookies that let browsers into plain-mode servers. */
  gate: ServerGate;
  metrics: HubMetrics;
  hasher: PasswordHasher;
  authenticator: Authenticator;
  /** Password logins, throttled: the login page and API clients that log in with a password. */
  logins: LoginAttempts;
  /** The class join code; null unless `auth.loginMode` is "join-code". */
  joinCodes: JoinCodes | null;
  /** True when the public listener speaks HTTPS (cookies get `Secure`). */
  secure: boolean;
  /** Whether students' servers run in a sandbox (found once, on first use). */
  isolation(): Promise<Isolation>;
  /** When the hub last handled a request (the last_activity of its route in `GET /proxy`). */
  hubActivity: { last: number };
  /** Where the hub listens on loopback, e.g. `http://127.0.0.1:40123`. */
  hubUrl(): string;
  /** The port students reach the hub on: the configured one, or the one chosen for port 0. */
  publicPort(): number;
  /** Asks the process hosting the hub to stop it (POST /hub/api/shutdown). */
  requestShutdown(): void;
  /** Asks the process hosting the hub to restart it (POST /hub/api/lectern/restart); null when it cannot. */
  requestRestart: (() => void) | null;
}
