/**
 * Who is asking, and with which scopes. Two ways in, as JupyterHub 3.0:
 *
 * - an API token in `Authorization: token …` / `bearer …` (never in the URL): a user's token, a
 *   server's token, an OAuth access token, or a configured service's token;
 * - the login cookie, for pages, and for API calls only when they come from the hub's own pages
 *   (see same-origin.ts): a page on another site must not act as a logged-in teacher.
 *
 * A token never carries more than its owner holds: its scopes are intersected with the owner's.
 */
import type { IncomingMessage } from 'node:http';
import type { Response } from 'express';
import { hashSecret } from '../auth/secrets.js';
import { findSession } from '../auth/sessions.js';
import { resolveToken, tokenFromAuthorizationHeader } from '../auth/tokens.js';
import { expandScopes, resolveTokenScopes } from '../rbac/scopes.js';
import { roleScopes, rolesFor } from '../rbac/roles.js';
import type { SessionRecord, SessionRepository } from '../store/sessions.js';
import type { TokenRecord, TokenRepository } from '../store/tokens.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import { fromSameOrigin } from './same-origin.js';

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
}

/** A service known from the config file (or the CLI's in-memory credential): token kept hashed. */
export interface ServiceCredential {
  name: string;
  tokenHash: string;
  admin: boolean;
}

const noGroups = (): string[] => [];

export class IdentityResolver {
  private readonly services = new Map<string, ServiceCredential>();

  constructor(
    private readonly deps: {
      users: UserRepository;
      tokens: TokenRepository;
      sessions: SessionRepository;
      secure: boolean;
    },
  ) {}

  addService(name: string, token: string, admin: boolean): void {
    const tokenHash = hashSecret(token);
    this.services.set(tokenHash, { name, tokenHash, admin });
  }

  /** The scopes a user holds through their roles. */
  userScopes(user: UserRecord): Set<string> {
    return expandScopes(roleScopes(rolesFor(user)), { kind: 'user', name: user.name, groups: [] });
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
    return { kind: 'user', name: user.name, user, scopes: this.userScopes(user), token: undefined, session };
  }

  fromToken(token: string): Identity | undefined {
    const service = this.services.get(hashSecret(token));
    if (service) {
      const scopes = expandScopes(roleScopes(service.admin ? ['admin'] : []), { kind: 'service', name: service.name });
      return { kind: 'service', name: service.name, user: undefined, scopes, token: undefined, session: undefined };
    }
    const record = resolveToken(this.deps.tokens, token);
    const user = record?.userId != null ? this.deps.users.findById(record.userId) : undefined;
    if (!record || !user) return undefined;
    const scopes = resolveTokenScopes({
      scopes: record.scopes,
      owner: { kind: 'user', name: user.name, groups: [] },
      ownerScopes: this.userScopes(user),
      groupsOf: noGroups,
    });
    return { kind: 'user', name: user.name, user, scopes, token: record, session: undefined };
  }
}

/** The identity stored on the response by the authentication middleware, if any. */
export function identityOf(res: Response): Identity | undefined {
  return res.locals.identity as Identity | undefined;
}

export function setIdentity(res: Response, identity: Identity | undefined): void {
  res.locals.identity = identity;
}

