/**
 * The gate in front of plain-mode servers: `jupyter lab`/`notebook`/`server` started with a random
 * token, knowing nothing of the hub (DESIGN.md, "two launch modes"). Such a server lets in whoever
 * presents its token, so the proxy asks the gate about every request to one of them. The proxy's
 * half (proxy/gate.ts) refuses other sites' state changes, sends those not admitted to log in, and
 * forwards the admitted with the server's token. This, the hub's half, decides who is admitted:
 *
 * - a browser by a per-server cookie (`lectern-server`, `Path=/user/<name>/`) that the hub issues to
 *   a logged-in viewer with access (`admit`), good only while the login it was issued in lives and
 *   only while its user still holds access to that server; or a client by a Lectern API token;
 * - the unauthenticated browser logs in at the hub's `/hub/user/…` page, which admits it.
 *
 * Servers run with jupyterhub-singleuser do their own OAuth with the hub and are never protected
 * here. Grants live in memory only: after a hub restart the browsers of adopted servers are sent
 * through the hub once more, which their login cookie makes invisible to the student.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { hashSecret } from '../auth/secrets.js';
import { appendSetCookie, cookieValues, serializeCookie } from '../net/cookies.js';
import { tokenFromAuthorizationHeader } from '../auth/tokens.js';
import type { Logger } from '../logging/logger.js';
import { gateGuard, type GatedRoute } from '../proxy/gate.js';
import type { RouteGuard } from '../proxy/proxy.js';
import { forwardedPath, segmentCount, stripSegments } from '../proxy/request-path.js';
import { normalizePrefix } from '../proxy/route-table.js';
import { LECTERN_COOKIE_PREFIX } from '../proxy/server-cookies.js';
import { hasScope, type ScopeTarget } from '../rbac/scopes.js';
import type { SessionRepository } from '../store/sessions.js';
import type { UserRepository } from '../store/users.js';
import type { Identity, IdentityResolver } from './identity.js';
import type { HubUrls } from './urls.js';

export interface ServerGateDeps {
  sessions: SessionRepository;
  users: UserRepository;
  identities: IdentityResolver;
  urls: HubUrls;
  /** TLS on the public listener: the cookie is `Secure`, and origins are `https://`. */
  secure: boolean;
  log: Logger;
}

/** The server a protected route leads to, as the hub knows it. */
export interface GatedServer {
  owner: string;
  /** '' for the default server. */
  serverName: string;
  /** The token the server was started with; it reaches the server only, in Authorization. */
  token: string;
}

/** The gate cookie's name; every cookie starting with `lectern-` is kept from the servers. */
export const SERVER_COOKIE = `${LECTERN_COOKIE_PREFIX}server`;
const ACCESS_SCOPE = 'access:servers';
/** The rest of a server's path, after its prefix, for a call to Jupyter's REST API. */
const API_PATH = /^\/api(?:[/?]|$)/;

interface ProtectedServer extends GatedServer, GatedRoute {
  /** The encoded URL prefix, ending with `/`: the cookie's Path, as browsers send the path. */
  cookiePath: string;
  scopeTarget: ScopeTarget;
}

/** A cookie issued by `admit`, by the hash of its value. */
interface Grant {
  sessionId: number;
  /** The login's user, checked again on use: the grant is the user's, not whoever holds that id next. */
  userId: number;
  prefix: string;
}

export class ServerGate {
  /** Protected servers by normalised route prefix. */
  private readonly servers = new Map<string, ProtectedServer>();
  /** Issued cookies by the hash of their value: the value itself is never kept. */
  private readonly grants = new Map<string, Grant>();
  /** The one live cookie hash per login and server (`<session id> <prefix>`), so a new one replaces it. */
  private readonly grantOf = new Map<string, string>();

  constructor(private readonly deps: ServerGateDeps) {
    const keeper = { admits: this.authenticated.bind(this), loginPage: this.hubPageFor.bind(this) };
    this.guard = gateGuard(this.servers, keeper, { secure: deps.secure, log: deps.log });
  }

  /** Puts a plain-mode server's route behind the gate; call before the route is added. */
  protect(routePrefix: string, server: GatedServer): void {
    const prefix = normalizePrefix(routePrefix);
    this.servers.set(prefix, {
      owner: server.owner,
      serverName: server.serverName,
      token: server.token,
      prefix,
      cookiePath: this.deps.urls.server(server.owner, server.serverName),
      scopeTarget: { user: server.owner, server: `${server.owner}/${server.serverName}` },
    });
  }

  /** The server stopped: forget it and every cookie issued for it. */
  unprotect(routePrefix: string): void {
    const prefix = normalizePrefix(routePrefix);
    this.servers.delete(prefix);
    for (const [hash, grant] of this.grants) if (grant.prefix === prefix) this.dropGrant(hash, grant);
  }

  isProtected(routePrefix: string): boolean {
    return this.servers.has(normalizePrefix(routePrefix));
  }

  /**
   * Gives `viewer` the cookie for the protected server `path` leads to (`/user/alice/lab?x=1`), just
   * before the hub redirects there. Only for a login (the cookie dies with it) that may access that
   * exact server. Returns whether a cookie was set; false when `path` leads to no protected server,
   * so the caller can call this for every server it redirects to.
   */
  admit(res: ServerResponse, viewer: Identity, path: string): boolean {
    const server = this.serverAt(path);
    if (server === undefined || viewer.session === undefined) return false;
    if (!hasScope(viewer.scopes, ACCESS_SCOPE, server.scopeTarget, viewer.groupsOf)) return false;

    const value = randomBytes(32).toString('base64url');
    const hash = hashSecret(value);
    const key = `${viewer.session.id} ${server.prefix}`;
    const previous = this.grantOf.get(key);
    if (previous !== undefined) this.grants.delete(previous);
    this.grants.set(hash, { sessionId: viewer.session.id, userId: viewer.session.userId, prefix: server.prefix });
    this.grantOf.set(key, hash);

    // A session cookie (no Max-Age): the login it hangs on decides how long it is any good.
    appendSetCookie(res, serializeCookie(SERVER_COOKIE, value, { path: server.cookiePath, secure: this.deps.secure }));
    this.deps.log.debug(`admitted ${viewer.name} to ${server.prefix}`);
    return true;
  }

  /** The proxy's guard for the protected routes (proxy/gate.ts), with this gate deciding who gets in. */
  readonly guard: RouteGuard;

  /** Drops cookies whose login has ended, for the hub's periodic housekeeping. */
  forgetDeadGrants(): void {
    const now = new Date();
    for (const [hash, grant] of this.grants) {
      if (this.deps.sessions.findLive(grant.sessionId, now) === undefined) this.dropGrant(hash, grant);
    }
  }

  /** The protected server whose URL prefix `path` starts with, the longest if several do. */
  private serverAt(path: string): ProtectedServer | undefined {
    const query = path.search(/[?#]/);
    const pathname = query === -1 ? path : path.slice(0, query);
    let found: ProtectedServer | undefined;
    for (const server of this.servers.values()) {
      if (pathname.startsWith(server.cookiePath) && server.cookiePath.length > (found?.cookiePath.length ?? 0)) found = server;
    }
    return found;
  }

  /** A live gate cookie for this server, or a Lectern API token with access to it. */
  private authenticated(req: IncomingMessage, server: ProtectedServer): boolean {
    // Cookies from other paths (alice's `/user/alice/` one on `/user/alice/nb1/`) share the name.
    for (const value of cookieValues(req.headers.cookie, SERVER_COOKIE)) {
      const hash = hashSecret(value);
      const grant = this.grants.get(hash);
      if (grant?.prefix === server.prefix && this.grantHolds(hash, grant, server)) return true;
    }
    const token = tokenFromAuthorizationHeader(req.headers.authorization);
    if (token === undefined) return false;
    const identity = this.deps.identities.fromToken(token);
    return identity !== undefined && hasScope(identity.scopes, ACCESS_SCOPE, server.scopeTarget, identity.groupsOf);
  }

  /**
   * Whether a grant still admits: its login lives (logging out and password resets delete logins)
   * and its user still has access to the server (an admin may have lost the role since).
   */
  private grantHolds(hash: string, grant: Grant, server: ProtectedServer): boolean {
    const session = this.deps.sessions.findLive(grant.sessionId);
    const user = session?.userId === grant.userId ? this.deps.users.findById(grant.userId) : undefined;
    if (user === undefined) {
      this.dropGrant(hash, grant);
      return false;
    }
    const { identities } = this.deps;
    return hasScope(identities.userScopes(user), ACCESS_SCOPE, server.scopeTarget, identities.groupsOf);
  }

  /**
   * The hub page that admits the browser to the page it asked for (`/user/alice/lab?a=1` →
   * `/hub/user/alice/lab?a=1`), or undefined for a call to Jupyter's API, which no browser shows.
   * Built from the server's own prefix, so it always lands on the hub.
   */
  private hubPageFor(req: IncomingMessage, server: ProtectedServer): string | undefined {
    const path = forwardedPath(req.url ?? '/');
    if (path === undefined) return undefined;
    const rest = stripSegments(path, segmentCount(server.prefix));
    if (API_PATH.test(rest)) return undefined;
    const serverPath = server.cookiePath.slice(this.deps.urls.base.length);
    return this.deps.urls.hub(`${serverPath}${rest.startsWith('/') ? rest.slice(1) : rest}`);
  }

  private dropGrant(hash: string, grant: Grant): void {
    this.grants.delete(hash);
    const key = `${grant.sessionId} ${grant.prefix}`;
    if (this.grantOf.get(key) === hash) this.grantOf.delete(key);
  }
}



