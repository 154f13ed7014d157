/**
 * Lectern extension: `GET /lectern/events`, the teacher dashboard's live feed (see hub/events.ts for
 * what it carries) as server-sent events. One stream replaces polling every list every few seconds,
 * which with a class of thirty would be most of the hub's traffic.
 */
import type { HubEvent } from '../events.js';
import type { HubContext } from '../context.js';
import { streamEvents } from '../event-stream.js';
import { requireScope } from './authorize.js';
import { route, type ApiRoute } from './route.js';

export function eventRoutes(ctx: HubContext): ApiRoute[] {
  return [
    route('get', '/lectern/events', (_req, res) => {
      // The admin page's scope: the feed names every student and server.
      requireScope(res, ['admin-ui']);
      streamEvents<HubEvent>(res, (send) => ctx.events.subscribe(send), {
        onDropped: () => ctx.log.warn('dropped an event stream client that stopped reading'),
      });
    }),
  ];
}
