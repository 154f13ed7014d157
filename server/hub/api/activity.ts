/**
 * `POST /hub/api/users/{name}/activity`: single-user servers report when their user was last
 * active (reference §3). Timestamps only move forward; they are flushed to disk on a timer, not
 * per request, as they are frequent and cheap to lose.
 */
import { z } from 'zod';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireScope } from './authorize.js';
import { route, type ApiRoute } from './route.js';
import { existingUser } from './users.js';
import { parseBody } from './validation.js';

const MAX_FUTURE_MS = 59 * 60_000;

const timestamp = z.string().refine((value) => !Number.isNaN(parseTimestamp(value)), 'not an ISO 8601 timestamp');
const activityBody = z
  .object({
    last_activity: timestamp.optional(),
    servers: z.record(z.string(), z.object({ last_activity: timestamp }).loose()).optional(),
  })
  .loose()
  .refine((body) => body.last_activity !== undefined || body.servers !== undefined, {
    message: 'body must contain last_activity or servers',
  });

/** ISO 8601; a time without a zone is UTC, as JupyterHub reads it. */
function parseTimestamp(value: string): number {
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
  return Date.parse(zoned);
}

export function activityRoutes(ctx: HubContext): ApiRoute[] {
  return [
    route('post', '/users/{name}/activity', (req, res) => {
    requireScope(res, ['users:activity'], { user: req.params.name });
    const user = existingUser(ctx, req.params.name);
    const body = parseBody(activityBody, req.body);
    const servers = Object.entries(body.servers ?? {});
    const known = new Set(['', ...ctx.serverRecords.listForUser(user.id).map((record) => record.name)]);
    for (const [serverName] of servers) {
      if (!known.has(serverName)) throw new HttpError(400, `No such server '${serverName}' for user ${user.name}`);
    }
    const times = [body.last_activity, ...servers.map(([, server]) => server.last_activity)].filter(
      (value): value is string => value !== undefined,
    );
    const now = Date.now();
    for (const value of times) {
      if (parseTimestamp(value) > now + MAX_FUTURE_MS) {
        throw new HttpError(400, `Rejecting activity from more than an hour in the future: ${value}`);
      }
    }
    if (body.last_activity) ctx.users.touch(user.id, new Date(parseTimestamp(body.last_activity)).toISOString());
    for (const [serverName, server] of servers) {
      ctx.serverRecords.touch(user.id, serverName, new Date(parseTimestamp(server.last_activity)).toISOString());
    }
    ctx.db.markDirty();
    res.status(200).type('application/json').end();
    }),
  ];
}
