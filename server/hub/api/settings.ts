/**
 * Lectern extension: the settings page, and importing a Lectern config file into it.
 *
 *   GET   /lectern/settings          the editable settings, and which wait for a restart
 *   PATCH /lectern/settings          change some: `{ changes: { key: value } }`, all or nothing
 *   POST  /lectern/import/preview    what importing a config file (`{ text }`) would change
 *   POST  /lectern/import            import it: its editable settings, as PATCH does
 *   POST  /lectern/restart           restart Lectern, to apply the settings that wait for it
 *
 * Reading needs `admin-ui`, the admin page's scope. Changing needs `shutdown`: JupyterHub has no
 * scope for changing its configuration (that is a file only its operator writes), and the nearest
 * power it gives through the API is the one over the hub process itself, held by the admin role
 * alone. It fits: several of these settings (the port, the Python environment) take effect only
 * through a restart, and the others can stop everyone's servers (the culler) or change who gets in.
 * Restarting needs it too: it is a shutdown followed by a start.
 */
import type { Request } from 'express';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireScope } from './authorize.js';
import { route, type ApiParams, type ApiRoute } from './route.js';

const READ_SCOPES = ['admin-ui'];
const CHANGE_SCOPES = ['shutdown'];

export function settingsRoutes(ctx: HubContext): ApiRoute[] {
  return [
    route('get', '/lectern/settings', (_req, res) => {
      requireScope(res, READ_SCOPES);
      res.json({ ...ctx.liveSettings.list(), canRestart: ctx.requestRestart !== null });
    }),

    route('patch', '/lectern/settings', async (req, res) => {
      requireScope(res, CHANGE_SCOPES);
      const body = req.body as { changes?: unknown } | undefined;
      const changes = body?.changes;
      if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
        throw new HttpError(400, 'Send {"changes": {"<setting key>": <new value>, …}}, e.g. {"changes": {"culler.idleTimeout": 1800}}.');
      }
      // 200 with what was applied; a wrong value is a 400 with the problems per key, and nothing changed.
      res.json(await ctx.liveSettings.change(changes as Record<string, unknown>));
    }),

    route('post', '/lectern/import/preview', (req, res) => {
      requireScope(res, READ_SCOPES);
      res.json(ctx.liveSettings.previewImport(configText(req)));
    }),

    route('post', '/lectern/import', async (req, res) => {
      requireScope(res, CHANGE_SCOPES);
      const text = configText(req);
      res.json(await ctx.liveSettings.import(text));
    }),

    route('post', '/lectern/restart', (_req, res) => {
      requireScope(res, CHANGE_SCOPES);
      const restart = ctx.requestRestart;
      if (!restart) throw new HttpError(400, 'This Lectern cannot restart itself: stop it and start it again.');
      // Answered first: the restart closes the connection this answer goes out on.
      res.on('finish', restart);
      res.status(202).json({ restarting: true, pendingRestart: ctx.liveSettings.pendingRestart() });
    }),
  ];
}

/** The config file's text from `{ "text": "…" }`. */
function configText(req: Request<ApiParams>): string {
  const text = (req.body as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string') throw new HttpError(400, 'Send {"text": "<the Lectern config file, YAML or JSON>"}.');
  return text;
}


