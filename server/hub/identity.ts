/**
 * Who is asking, and with which scopes. Two ways in, as JupyterHub 3.0:
 *
 * - an API token in `Authorization: token …` / `bearer …` (never in the URL): a user's token, a
 *   server's token, an OAuth access token, or a configured service's token;
 * - the login cookie, for pages, and for API calls only when they come from the hub's own pages
 *   (see same-origin.ts): a page on another site must not act as a logged-in teacher.
 *
 * Scopes come from roles: the built-in ones (`user`, `admin`) and the config's `roles`, held
 * directly or through a group. A token never carries more than its owner holds.
 */
import type { IncomingMessage } from 'node:http';
import type { Response } from 'express';
import { hashSecret } from '../auth/secrets.js';
import { findSession } from '../auth/sessions.js';
import { resolveToken, tokenFromAuthorizationHeader } from '../auth/tokens.js';
import { expandScopes, resolveTokenScopes, type GroupsOf } from '../rbac/scopes.js';
import { assignedRoles, effectiveUserRoles, roleScopes, type RoleAssignment } from '../rbac/roles.js';
import type { GroupRepository } from '../store/groups.js';
import type { SessionRecord, SessionRepository } from '../store/sessions.js';
import type { TokenRecord, TokenRepository } from '../store/tokens.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import type { OAuthClientRepository } from '../store/oauth-clients.js';
import { fromSameOrigin } from '../net/same-origin.js';

export interface Identity {
  kind: 'user' | 'service';
  name: string;
  /** The account, for users. */
  user: UserRecord | undefined;
  /** Expanded scopes this request may use. */
  scopes: Set<string>;
  /** Set when authenticated by token. */
  token: TokenRecord | undefined;
  /** Set when authenticated by the login cookie. */
  session: SessionRecord | undefined;
  /** Group membership, to resolve `!group=` filters in `scopes`. */
  groupsOf: GroupsOf;
}

/** A service from the config file (or the CLI's in-memory credential); its token is kept hashed. */
export interface Service {
  name: string;
  tokenHash: string;
  admin: boolean;
  /** Internal credentials (the CLI's) are not listed by `GET /services`. */
  listed: boolean;
}

/** JupyterHub's activity_resolution: how stale last_activity may get before a request moves it. */
const ACTIVITY_RESOLUTION_MS = 30_000;

export interface IdentityDeps {
  users: UserRepository;
  groups: GroupRepository;
  tokens: TokenRepository;
  sessions: SessionRepository;
  oauthClients: OAuthClientRepository;
  roles: readonly RoleAssignment[];
  secure: boolean;
  /** Marks low-value changes (activity) for the next flush. */
  markDirty: () => void;
}

/** How many users' expanded scopes are kept; a whole class fits many times over. */
const SCOPE_CACHE_SIZE = 1000;

export class IdentityResolver {
  private readonly servicesByHash = new Map<string, Service & { scopes: Set<string> }>();
  /**
   * Expanded scopes by user, id and admin flag and groups: roles come from the config, which does
   * not change while the hub runs, so these are all a user's scopes depend on.
   */
  private readonly userScopeCache = new Map<string, Set<string>>();

  /** Group membership by user name, for `!group=` filters. */
  readonly groupsOf: GroupsOf = (userName) => {
    const user = this.deps.users.find(userName);
    return user ? this.deps.groups.groupsOf(user.id) : [];
  };

  constructor(private readonly deps: IdentityDeps) {}

  addService(name: string, token: string, admin: boolean, listed = true): void {
    const tokenHash = hashSecret(token);
    const roles = assignedRoles({ kind: 'service', name, admin }, this.deps.roles);
    const scopes = expandScopes(roleScopes(roles, this.deps.roles), { kind: 'service', name });
    this.servicesByHash.set(tokenHash, { name, tokenHash, admin, listed, scopes });
  }

  /** The configured services, in config order. */
  services(): Service[] {
    return [...this.servicesByHash.values()].filter((service) => service.listed);
  }

  /** The scopes a user holds through their roles and their groups' roles. Treat as read-only. */
  userScopes(user: UserRecord): Set<string> {
    const groups = this.deps.groups.groupsOf(user.id);
    const key = `${user.id}|${user.name}|${user.admin}|${groups.join('|')}`;
    let scopes = this.userScopeCache.get(key);
    if (!scopes) {
      const roles = effectiveUserRoles(user, groups, this.deps.roles);
      scopes = expandScopes(roleScopes(roles, this.deps.roles), { kind: 'user', name: user.name, groups });
      if (this.userScopeCache.size >= SCOPE_CACHE_SIZE) this.userScopeCache.clear();
      this.userScopeCache.set(key, scopes);
    }
    return scopes;
  }

  /** What a stored token may do: its own scopes, plus its OAuth client's access, within its owner's. */
  tokenScopes(record: TokenRecord, user: UserRecord): Set<string> {
    const client = record.oauthClientId ? this.deps.oauthClients.find(record.oauthClientId) : undefined;
    return resolveTokenScopes({
      scopes: record.scopes,
      owner: { kind: 'user', name: user.name, groups: this.deps.groups.groupsOf(user.id) },
      ownerScopes: this.userScopes(user),
      clientAccessScopes: client?.allowedScopes.filter((scope) => scope.startsWith('access:')),
      groupsOf: this.groupsOf,
    });
  }

  /**
   * Notes that `identity` just made a request, as JupyterHub does: the token's and the user's
   * last_activity move forward (at most every 30 s, and a server's own token moves only itself).
   * Activity is cheap to lose, so it is flushed with the next write or by the timer.
   */
  recordActivity(identity: Identity | undefined, now = Date.now()): void {
    if (!identity?.user) return;
    const stale = (when: string | null) => !when || Date.parse(when) < now - ACTIVITY_RESOLUTION_MS;
    const iso = new Date(now).toISOString();
    let changed = false;
    if (identity.token && stale(identity.token.lastActivity)) {
      this.deps.tokens.touch(identity.token.id, iso);
      identity.token.lastActivity = iso;
      changed = true;
    }
    if (identity.token?.kind !== 'server' && stale(identity.user.lastActivity)) {
      this.deps.users.touch(identity.user.id, iso);
      identity.user.lastActivity = iso;
      changed = true;
    }
    if (changed) this.deps.markDirty();
  }

  /** Who makes an API request, their activity noted: what every API request does first. */
  callerOfApi(req: IncomingMessage): Identity | undefined {
    const identity = this.forApi(req);
    this.recordActivity(identity);
    return identity;
  }

  /** For API handlers: token first, then the cookie if the request comes from the hub's own pages. */
  forApi(req: IncomingMessage): Identity | undefined {
    const token = tokenFromAuthorizationHeader(req.headers.authorization);
    if (token !== undefined) return this.fromToken(token);
    return fromSameOrigin(req, this.deps.secure) ? this.fromCookie(req) : undefined;
  }

  /** For pages: the login cookie only. */
  fromCookie(req: IncomingMessage): Identity | undefined {
    const session = findSession(this.deps.sessions, req);
    const user = session && this.deps.users.findById(session.userId);
    if (!session || !user) return undefined;
    return { kind: 'user', name: user.name, user, scopes: this.userScopes(user), token: undefined, session, groupsOf: this.groupsOf };
  }

  /** A user acting with all their own scopes (after a password check, say). */
  forUser(user: UserRecord): Identity {
    return { kind: 'user', name: user.name, user, scopes: this.userScopes(user), token: undefined, session: undefined, groupsOf: this.groupsOf };
  }

  fromToken(token: string): Identity | undefined {
    const service = this.servicesByHash.get(hashSecret(token));
    if (service) {
      return { kind: 'service', name: service.name, user: undefined, scopes: service.scopes, token: undefined, session: undefined, groupsOf: this.groupsOf };
    }
    const record = resolveToken(this.deps.tokens, token);
    const user = record?.userId != null ? this.deps.users.findById(record.userId) : undefined;
    if (!record || !user) return undefined;
    const scopes = this.tokenScopes(record, user);
    return { kind: 'user', name: user.name, user, scopes, token: record, session: undefined, groupsOf: this.groupsOf };
  }
}

/** The identity stored on the response by the authentication middleware, if any. */
export function identityOf(res: Response): Identity | undefined {
  return res.locals.identity as Identity | undefined;
}

export function setIdentity(res: Response, identity: Identity | undefined): void {
  res.locals.identity = identity;
}
