/**
 * Scope checks for API handlers, answered as JupyterHub answers them: no credentials or a missing
 * scope → 403 naming the scope; a scope held only for other users or servers → 404, so the answer
 * does not reveal whether the resource exists. Each check comes in two forms: for express handlers
 * (the caller is on the response) and for a caller already known (`JsonRead`s, which the fast lane
 * also answers, without express).
 */
import type { Response } from 'express';
import { NO_ACCESS_MESSAGE, notAuthorizedMessage, scopeStatus, type ScopeTarget } from '../../rbac/scopes.js';
import { HttpError } from '../http-error.js';
import { identityOf, type Identity } from '../identity.js';

/** The caller's identity, or 403. */
export function requireIdentity(res: Response): Identity {
  return requireCaller(identityOf(res));
}

export function requireCaller(identity: Identity | undefined): Identity {
  if (!identity) throw new HttpError(403, 'Missing or invalid credentials.');
  return identity;
}

/** Passes if any of `scopes` is held for `target`; throws the right 403 or 404 otherwise. */
export function requireScope(res: Response, scopes: string[], target?: ScopeTarget): Identity {
  return requireCallerScope(identityOf(res), scopes, target);
}

export function requireCallerScope(identity: Identity | undefined, scopes: string[], target?: ScopeTarget): Identity {
  // Anonymous callers hold no scopes, and are told which one they lack, as JupyterHub tells them.
  if (!identity) throw new HttpError(403, notAuthorizedMessage(scopes));
  let filtered = false;
  for (const scope of scopes) {
    const status = scopeStatus(identity.scopes, scope, target, identity.groupsOf);
    if (status === 'allowed') return identity;
    if (status === 'filtered') filtered = true;
  }
  if (filtered) throw new HttpError(404, NO_ACCESS_MESSAGE);
  throw new HttpError(403, notAuthorizedMessage(scopes));
}

/**
 * For list endpoints: passes if `scope` is held in any form; a filtered scope then limits which
 * rows are listed (the caller applies `scopeFilter`), as JupyterHub's list handlers do.
 */
export function requireListScope(res: Response, scope: string): Identity {
  return requireCallerListScope(identityOf(res), scope);
}

export function requireCallerListScope(identity: Identity | undefined, scope: string): Identity {
  if (!identity || scopeStatus(identity.scopes, scope) === 'forbidden') throw new HttpError(403, notAuthorizedMessage([scope]));
  return identity;
}
