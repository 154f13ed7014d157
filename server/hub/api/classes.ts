/**
 * A group as a class: "start class" and "end class" for all its members at once.
 *
 *   POST   /lectern/groups/{name}/servers   start every member's default server
 *   DELETE /lectern/groups/{name}/servers   stop every server of every member
 *
 * Both answer 202 as soon as the work has begun, with who was affected: a class of thirty takes a
 * while to start (starts go through the server manager's queue, `spawner.concurrentSpawnLimit` at
 * a time), and the teacher follows it on the dashboard, not on this request.
 *
 * The caller needs, on every member, the scope JupyterHub needs to start (`servers`) or stop
 * (`delete:servers`) that member's server. Missing it for any member refuses the whole request
 * before anything starts or stops, and the refusal names no member.
 */
import type { Request, Response } from 'express';
import { hasScope, notAuthorizedMessage } from '../../rbac/scopes.js';
import { CapacityError } from '../../spawner/spawner.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireListScope } from './authorize.js';
import { route, type ApiParams, type ApiRoute } from './route.js';

interface Refusal {
  name: string;
  reason: string;
}

export function classRoutes(ctx: HubContext): ApiRoute[] {
  /** The members of the class named in the path, once the caller may act on every one of them. */
  const members = (req: Request<ApiParams>, res: Response, scope: string): { group: string; users: UserRecord[] } => {
    const identity = requireListScope(res, scope);
    const name = req.params.name;
    const group = ctx.groups.find(name);
    const users = group ? ctx.groups.members(group.id).flatMap((member) => ctx.users.find(member) ?? []) : [];
    const covers = (target: { user?: string; server?: string; group?: string }) => hasScope(identity.scopes, scope, target, identity.groupsOf);
    // An empty or unknown group passes only a caller who holds the scope for the group itself, so
    // the answer tells nobody else whether a group of that name exists.
    const allowed =
      covers({ group: name }) || (users.length > 0 && users.every((user) => covers({ user: user.name, server: `${user.name}/` })));
    if (!allowed) throw new HttpError(403, `${notAuthorizedMessage([scope])} for every member of the class ${name}. Nothing was changed.`);
    if (!group) throw new HttpError(404, `No such group: ${name}`);
    return { group: group.name, users };
  };

  return [
    route('post', '/lectern/groups/{name}/servers', (req, res) => {
      const { group, users } = members(req, res, 'servers');
      const started: string[] = [];
      const alreadyRunning: string[] = [];
      const refused: Refusal[] = [];
      for (const user of users) {
        const phase = ctx.servers.view(user).phase;
        if (!user.approved) {
          refused.push({ name: user.name, reason: `${user.name}'s sign-up is waiting for your approval.` });
        } else if (phase === 'stopping') {
          refused.push({ name: user.name, reason: `${user.name}'s server is still stopping. Start the class again in a moment.` });
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
      ctx.log.info(`class ${group}: starting ${started.length} servers`, { alreadyRunning: alreadyRunning.length, refused: refused.length });
      res.status(202).json({ started, alreadyRunning, refused });
    }),

    route('delete', '/lectern/groups/{name}/servers', (req, res) => {
      const { group, users } = members(req, res, 'delete:servers');
      const stopping: string[] = [];
      const alreadyStopped: string[] = [];
      for (const user of users) {
        const servers = ctx.servers.activeServerNames(user);
        if (servers.length === 0) alreadyStopped.push(user.name);
        else stopping.push(user.name);
        // A server still starting is stopped too (its start is cancelled): the class is over.
        for (const server of servers) {
          ctx.servers.stop(user, server).catch((error: unknown) => {
            ctx.log.warn(`class ${group}: ${user.name}'s server did not stop cleanly: ${(error as Error).message}`);
          });
        }
      }
      ctx.log.info(`class ${group}: stopping the servers of ${stopping.length} members`);
      res.status(202).json({ stopping, alreadyStopped });
    }),
  ];
}
