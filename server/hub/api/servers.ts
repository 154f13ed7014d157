/**
 * `/hub/api/users/{name}/server…`: start and stop a user's default server, and follow its start on
 * the progress event stream (server-sent events, JupyterHub's format).
 */
import express, { type Response, type Router } from 'express';
import { SpawnError } from '../../spawner/spawner.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { ServerBusyError, type ProgressEvent } from '../server-manager.js';
import { requireScope } from './authorize.js';
import { existingUser } from './users.js';

/** How long a start or stop request waits before answering 202 "still working" (JupyterHub's slow_spawn_timeout). */
const SLOW_OPERATION_MS = 10_000;
const KEEPALIVE_MS = 8_000;

export function serversRouter(ctx: HubContext): Router {
  const router = express.Router();

  router.post('/users/:name/server', async (req, res) => {
    requireScope(res, ['servers'], { user: req.params.name, server: `${req.params.name}/` });
    const user = existingUser(ctx, req.params.name);
    const phase = ctx.servers.view(user).phase;
    if (phase === 'running') throw new HttpError(400, `${user.name} is already running`);
    if (phase === 'stopping') throw new HttpError(400, `${user.name} is pending stop`);
    let started: Promise<void>;
    try {
      started = ctx.servers.start(user);
    } catch (error) {
      if (error instanceof ServerBusyError) throw new HttpError(400, error.message);
      throw error;
    }
    await answerWhenDone(res, started, 201);
  });

  router.delete('/users/:name/server', async (req, res) => {
    requireScope(res, ['delete:servers'], { user: req.params.name, server: `${req.params.name}/` });
    const user = existingUser(ctx, req.params.name);
    await answerWhenDone(res, ctx.servers.stop(user), 204);
  });

  router.get('/users/:name/server/progress', (req, res) => {
    requireScope(res, ['read:servers'], { user: req.params.name, server: `${req.params.name}/` });
    const user = existingUser(ctx, req.params.name);
    const view = ctx.servers.view(user);
    if (view.phase !== 'spawning' && view.phase !== 'running' && !view.failure) {
      throw new HttpError(400, `${user.name} is not starting...`);
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write('\n\n');
    const send = (event: ProgressEvent) => res.write(`data: ${JSON.stringify(event)}\n\n`);
    if (view.phase === 'running') {
      send(view.events.at(-1) ?? { progress: 100, ready: true, message: 'Server ready', url: ctx.urls.server(user.name) });
      res.end();
      return;
    }
    if (view.phase !== 'spawning') {
      send({ progress: 100, failed: true, message: `Spawn failed: ${view.failure}` });
      res.end();
      return;
    }
    const keepalive = setInterval(() => res.write('\n\n'), KEEPALIVE_MS);
    const finish = () => {
      clearInterval(keepalive);
      unsubscribe();
    };
    const unsubscribe = ctx.servers.subscribe(user, '', (event) => {
      send(event);
      if (event.ready || event.failed) {
        queueMicrotask(finish);
        res.end();
      }
    });
    res.on('close', finish);
  });

  return router;
}

/** Answers `doneStatus` if the operation finishes soon, 202 if it is still going; failures as errors. */
async function answerWhenDone(res: Response, operation: Promise<void>, doneStatus: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), SLOW_OPERATION_MS);
  });
  try {
    const outcome = await Promise.race([operation.then(() => 'done' as const), slow]);
    res.status(outcome === 'done' ? doneStatus : 202).type('text/plain').end();
  } catch (error) {
    if (error instanceof SpawnError) throw new HttpError(500, error.message);
    throw error;
  } finally {
    clearTimeout(timer);
    // A start that fails after we answered 202 is reported on the progress stream, not here.
    operation.catch(() => undefined);
  }
}
