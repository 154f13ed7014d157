/**
 * Starting and stopping a user's servers — the default one (`/users/{name}/server`) and named ones
 * (`/users/{name}/servers/{server_name}`) — and following a start on the progress event stream
 * (server-sent events, JupyterHub's format).
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { openEventStream } from '../event-stream.js';
import { HttpError } from '../http-error.js';
import type { ProgressEvent } from '../../servers/server-state.js';
import { requireScope } from './authorize.js';
import { route, type ApiParams, type ApiRoute } from './route.js';
import { existingUser } from './users.js';
import { parseBody } from './validation.js';

/** How long a start or stop request waits before answering 202 "still working" (JupyterHub's slow_spawn_timeout). */
const SLOW_OPERATION_MS = 10_000;
const KEEPALIVE_MS = 8_000;
const DEFAULT_LOG_LINES = 200;
const MAX_LOG_LINES = 5000;
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const userOptionsBody = z.record(z.string(), z.unknown());
const stopBody = z.strictObject({ remove: z.boolean().optional() });

export function serverRoutes(ctx: HubContext): ApiRoute[] {
  /** The user and server a request is about, after the scope check. */
  const target = (req: Request<ApiParams>, res: Response, scope: string): { user: UserRecord; name: string } => {
    const userName = req.params.name;
    const name = req.params.server_name ?? '';
    requireScope(res, [scope], { user: userName, server: `${userName}/${name}` });
    return { user: existingUser(ctx, userName), name };
  };
  const refuseNamedIfDisabled = (name: string) => {
    if (name && !ctx.config.spawner.allowNamedServers) throw new HttpError(400, 'Named servers are not enabled.');
  };

  const start = async (req: Request<ApiParams>, res: Response) => {
    const { user, name } = target(req, res, 'servers');
    refuseNamedIfDisabled(name);
    const label = name ? `${user.name}:${name}` : user.name;
    if (name) checkNamedServer(ctx, user, name);
    if (!user.approved) throw new HttpError(400, `${user.name}'s sign-up is waiting for your approval: let them in first, then start the server.`);
    const phase = ctx.servers.view(user, name).phase;
    if (phase === 'spawning') {
      res.status(202).type('text/plain').end();
      return;
    }
    if (phase === 'stopping') throw new HttpError(400, `${label} is pending stop`);
    if (phase === 'running') throw new HttpError(400, `${label} is already running`);
    const userOptions = parseBody(userOptionsBody, req.body ?? {});
    await answerWhenDone(res, ctx.servers.start(user, name, userOptions), 201);
  };

  const stop = async (req: Request<ApiParams>, res: Response) => {
    const { user, name } = target(req, res, 'delete:servers');
    refuseNamedIfDisabled(name);
    const { remove } = parseBody(stopBody, req.body ?? {});
    if (!name && remove) throw new HttpError(400, 'Cannot delete the default server');
    if (name && !ctx.serverRecords.find(user.id, name) && ctx.servers.view(user, name).phase === 'stopped') {
      throw new HttpError(404, `${user.name} has no server named '${name}'`);
    }
    const phase = ctx.servers.view(user, name).phase;
    if (phase === 'spawning') throw new HttpError(400, `${name ? `${user.name}:${name}` : user.name} is pending spawn, please wait`);
    await answerWhenDone(res, remove ? ctx.servers.remove(user, name) : ctx.servers.stop(user, name), 204);
  };

  const progress = (req: Request<ApiParams>, res: Response) => {
    const { user, name } = target(req, res, 'read:servers');
    const view = ctx.servers.view(user, name);
    // As JupyterHub 3.0 answers for a server it is not starting (and has not just failed to start).
    if (view.phase !== 'spawning' && view.phase !== 'running' && !view.failure) throw new HttpError(404, 'Not Found');
    let unsubscribe = () => {};
    const stream = openEventStream<ProgressEvent>(res, { heartbeatMs: KEEPALIVE_MS, onClose: () => unsubscribe() });
    if (view.phase === 'running') {
      stream.send(view.events.at(-1) ?? { progress: 100, ready: true, message: 'Server ready', url: ctx.urls.server(user.name, name) });
      stream.end();
      return;
    }
    if (view.phase !== 'spawning') {
      stream.send({ progress: 100, failed: true, message: `Spawn failed: ${view.failure}` });
      stream.end();
      return;
    }
    unsubscribe = ctx.servers.subscribe(user, name, (event) => {
      stream.send(event);
      if (event.ready || event.failed) stream.end();
    });
    // Ended while the past events were replayed: the feed it just got must stop too.
    if (!stream.open) unsubscribe();
  };

  /** Lectern extension: the end of a server's log, as plain text (`?lines=N`, default 200, at most 5,000). */
  const log = async (req: Request<ApiParams>, res: Response) => {
    const { user, name } = target(req, res, 'read:servers');
    const lines = Math.min(MAX_LOG_LINES, Math.max(1, Number.parseInt(String(req.query.lines ?? DEFAULT_LOG_LINES), 10) || DEFAULT_LOG_LINES));
    res.type('text/plain').send(await ctx.servers.readLog(user, name, lines));
  };

  return [
    route('get', '/lectern/users/{name}/server/log', log),
    route('get', '/lectern/users/{name}/servers/{server_name}/log', log),
    route('post', '/users/{name}/server', start),
    route('delete', '/users/{name}/server', stop),
    route('get', '/users/{name}/server/progress', progress),
    route('post', '/users/{name}/servers/{server_name}', start),
    route('delete', '/users/{name}/servers/{server_name}', stop),
    route('get', '/users/{name}/servers/{server_name}/progress', progress),
  ];
}

function checkNamedServer(ctx: HubContext, user: UserRecord, name: string): void {
  if (!SERVER_NAME.test(name)) {
    throw new HttpError(400, 'A server name may contain only letters, digits, "_" and "-", must start with a letter or digit, and be at most 64 characters.');
  }
  const limit = ctx.config.spawner.namedServerLimitPerUser;
  const named = ctx.serverRecords.listForUser(user.id).filter((record) => record.name !== '');
  if (limit > 0 && !named.some((record) => record.name === name) && named.length >= limit) {
    throw new HttpError(
      400,
      `User ${user.name} already has the maximum of ${limit} named servers.  One must be deleted before a new server can be created`,
    );
  }
}

/**
 * Answers `doneStatus` if the operation finishes soon, 202 if it is still going; failures as errors
 * (a full machine is JupyterHub's 429, a start that failed a 500 saying why: see http-error.ts).
 */
async function answerWhenDone(res: Response, operation: Promise<void>, doneStatus: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), SLOW_OPERATION_MS);
  });
  try {
    const outcome = await Promise.race([operation.then(() => 'done' as const), slow]);
    res.status(outcome === 'done' ? doneStatus : 202).type('text/plain').end();
  } finally {
    clearTimeout(timer);
    // A start that fails after we answered 202 is reported on the progress stream, not here.
    operation.catch(() => undefined);
  }
}
