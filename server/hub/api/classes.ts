/**
 * Servers of many students at once: a class's ("start class", "end class") or the students the
 * teacher chose on the Users screen.
 *
 *   POST   /lectern/groups/{name}/servers   start every member's default server
 *   DELETE /lectern/groups/{name}/servers   stop every server of every member
 *   POST   /lectern/servers {users}         start the default server of each user named
 *   DELETE /lectern/servers {users}         stop every server of each user named
 *
 * All answer 202 as soon as the work has begun, with who was affected: thirty servers take a
 * while to start (starts go through the server manager's queue, `spawner.concurrentSpawnLimit` at
 * a time), and the teacher follows them on the dashboard, not on this request.
 *
 * The caller needs, on every student, the scope JupyterHub needs to start (`servers`) or stop
 * (`delete:servers`) that student's server. Missing it for any one refuses the whole request
 * before anything starts or stops; for a class, the refusal names no member.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { hasScope, notAuthorizedMessage } from '../../rbac/scopes.js';
import { CapacityError } from '../../spawner/spawner.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import type { Identity } from '../identity.js';
import { requireListScope } from './authorize.js';
import { route, type ApiParams, type ApiRoute } from './route.js';
import { parseBody } from './validation.js';

/** More names than a class could have is a mistake, not a class. */
const MAX_USERS = 1000;
const usersBody = z.strictObject({
  users: z.array(z.string()).min(1, 'Name at least one user').max(MAX_USERS, `At most ${MAX_USERS} users at once`),
});

interface Refusal {
  name: string;
  reason: string;
}

export function classRoutes(ctx: HubContext): ApiRoute[] {
  const covers = (identity: Identity, scope: string, target: { user?: string; server?: string; group?: string }) =>
    hasScope(identity.scopes, scope, target, identity.groupsOf);
  const coversName = (identity: Identity, scope: string, name: string) => covers(identity, scope, { user: name, server: `${name}/` });

  /** The members of the class named in the path, once the caller may act on every one of them. */
  const members = (req: Request<ApiParams>, res: Response, scope: string): { label: string; users: UserRecord[] } => {
    const identity = requireListScope(res, scope);
    const name = req.params.name;
    const group = ctx.groups.find(name);
    const users = group ? ctx.groups.members(group.id).flatMap((member) => ctx.users.find(member) ?? []) : [];
    // An empty or unknown group passes only a caller who holds the scope for the group itself, so
    // the answer tells nobody else whether a group of that name exists.
    const allowed = covers(identity, scope, { group: name }) || (users.length > 0 && users.every((user) => coversName(identity, scope, user.name)));
    if (!allowed) throw new HttpError(403, `${notAuthorizedMessage([scope])} for every member of the class ${name}. Nothing was changed.`);
    if (!group) throw new HttpError(404, `No such group: ${name}`);
    return { label: `class ${group.name}`, users };
  };

  /** The users named in the body, once the caller may act on every one of them. */
  const named = (req: Request<ApiParams>, res: Response, scope: string): { label: string; users: UserRecord[] } => {
    const identity = requireListScope(res, scope);
    const names = [...new Set(parseBody(usersBody, req.body).users)];
    // Checked on the names, before looking them up: whether an account exists is told only to a
    // caller who may act on an account of that name.
    if (!names.every((name) => coversName(identity, scope, name))) throw new HttpError(403, `${notAuthorizedMessage([scope])} for every user named. Nothing was changed.`);
    const users = names.map((name) => ctx.users.find(name));
    const missing = names.filter((_name, index) => !users[index]);
    if (missing.length > 0) throw new HttpError(404, `No such user: ${missing.join(', ')}. Nothing was changed.`);
    return { label: `${names.length} chosen users`, users: users as UserRecord[] };
  };

  /** Starts the default server of each of `users` who has none, without waiting for them. */
  const startEach = (label: string, users: UserRecord[], res: Response) => {
    const started: string[] = [];
    const alreadyRunning: string[] = [];
    const refused: Refusal[] = [];
    for (const user of users) {
      const phase = ctx.servers.view(user).phase;
      if (!user.approved) {
        refused.push({ name: user.name, reason: `${user.name}'s sign-up is waiting for your approval.` });
      } else if (phase === 'stopping') {
        refused.push({ name: user.name, reason: `${user.name}'s server is still stopping. Start it again in a moment.` });
      } else if (phase === 'running' || phase === 'spawning') {
        alreadyRunning.push(user.name);
      } else {
        try {
          // Readiness is not awaited: a failed start shows on the student's progress page and
          // the dashboard, like any other.
          ctx.servers.start(user).catch(() => undefined);
          started.push(user.name);
        } catch (error) {
          // The class outgrew the machine (spawner.activeServerLimit): the rest are refused alike.
          if (!(error instanceof CapacityError)) throw error;
          refused.push({ name: user.name, reason: error.message });
        }
      }
    }
    ctx.log.info(`${label}: starting ${started.length} servers`, { alreadyRunning: alreadyRunning.length, refused: refused.length });
    res.status(202).json({ started, alreadyRunning, refused });
  };

  /** Stops every server of each of `users`, including those still starting, without waiting. */
  const stopEach = (label: string, users: UserRecord[], res: Response) => {
    const stopping: string[] = [];
    const alreadyStopped: string[] = [];
    for (const user of users) {
      const servers = ctx.servers.activeServerNames(user);
      if (servers.length === 0) alreadyStopped.push(user.name);
      else stopping.push(user.name);
      // A server still starting is stopped too (its start is cancelled): the lesson is over.
      for (const server of servers) {
        ctx.servers.stop(user, server).catch((error: unknown) => {
          ctx.log.warn(`${label}: ${user.name}'s server did not stop cleanly: ${(error as Error).message}`);
        });
      }
    }
    ctx.log.info(`${label}: stopping the servers of ${stopping.length} users`);
    res.status(202).json({ stopping, alreadyStopped });
  };

  return [
    route('post', '/lectern/groups/{name}/servers', (req, res) => {
      const { label, users } = members(req, res, 'servers');
      startEach(label, users, res);
    }),
    route('delete', '/lectern/groups/{name}/servers', (req, res) => {
      const { label, users } = members(req, res, 'delete:servers');
      stopEach(label, users, res);
    }),
    route('post', '/lectern/servers', (req, res) => {
      const { label, users } = named(req, res, 'servers');
      startEach(label, users, res);
    }),
    route('delete', '/lectern/servers', (req, res) => {
      const { label, users } = named(req, res, 'delete:servers');
      stopEach(label, users, res);
    }),
  ];
}
