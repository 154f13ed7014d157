/**
 * Lectern extensions: `GET /lectern/doctor`, the doctor's report (what `lectern doctor` prints) as
 * JSON for the teacher GUI, made from inside the running hub: its own config, and its own port
 * reported as the one it listens on rather than tried (and found busy, by itself). And
 * `GET /lectern/isolation`: whether the hub's students' servers run in a sandbox, for the dashboard.
 */
import type { Request } from 'express';
import { doctorReport } from '../../doctor/report.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireScope } from './authorize.js';
import { route, type ApiParams, type ApiRoute } from './route.js';

export function doctorRoutes(ctx: HubContext): ApiRoute[] {
  return [
    route('get', '/lectern/doctor', async (req, res) => {
      // The admin page's scope: the report shows the machine's paths and network, for teachers only.
      requireScope(res, ['admin-ui']);
      res.json(await doctorReport(ctx.config, { refresh: refreshParam(req), runningHub: { port: ctx.publicPort() } }));
    }),
    route('get', '/lectern/isolation', async (_req, res) => {
      requireScope(res, ['admin-ui']);
      res.json(await ctx.isolation());
    }),
  ];
}

/** `?refresh=true|false` (default false). Strict, so a typo does not silently skip the re-discovery asked for. */
function refreshParam(req: Request<ApiParams>): boolean {
  const value = req.query.refresh;
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new HttpError(400, `refresh must be true or false, not ${JSON.stringify(value)}.`);
}
