/**
 * Lectern extension: the join URLs the dashboard shows students, each with its QR code, and the
 * teacher's choice of which one to show (see hub/join-addresses.ts).
 */
import { z } from 'zod';
import { qrSvg } from '../../lan/qr.js';
import type { HubContext } from '../context.js';
import type { JoinAddressList } from '../join-addresses.js';
import { requireScope } from './authorize.js';
import { route, type ApiRoute } from './route.js';
import { parseBody } from './validation.js';

const preferredBody = z.strictObject({ address: z.string() });

export function joinUrlRoutes(ctx: HubContext): ApiRoute[] {
  return [
    route('get', '/lectern/join-urls', async (_req, res) => {
      requireScope(res, ['admin-ui']);
      res.json(await withQrCodes(ctx.joinAddresses.list(), ctx));
    }),

    route('put', '/lectern/join-urls/preferred', async (req, res) => {
      requireScope(res, ['admin-ui']);
      const { address } = parseBody(preferredBody, req.body);
      const list = await ctx.joinAddresses.prefer(address);
      ctx.log.info(`students are shown the join address ${address}`);
      res.json(await withQrCodes(list, ctx));
    }),
  ];
}

/** The list with a QR code per address, and the ports students' servers open on (null when they share the hub's), for firewalls. */
async function withQrCodes(list: JoinAddressList, ctx: HubContext) {
  const addresses = await Promise.all(list.addresses.map(async (entry) => ({ ...entry, qrSvg: await qrSvg(entry.url) })));
  const { serverOrigins, serverPorts } = ctx.config.network;
  return {
    addresses,
    preferred: list.preferred?.address ?? null,
    nameUrl: list.nameUrl,
    serverPorts: serverOrigins === 'ports' ? serverPorts : null,
  };
}
