/**
 * Lectern extension: `GET /lectern/export?format=lectern|jupyterhub|z2jh`, the class's effective
 * configuration (with its accounts and groups, for the JupyterHub formats) as a file to download:
 * `lectern.yaml`, `jupyterhub_config.py` or a Zero to JupyterHub `values.yaml`. The files themselves
 * are made in server/config/export.ts; `lectern export` asks for them here while the hub runs.
 *
 * Scope `admin-ui`, as the rest of the admin page: the files list every account and the machine's
 * paths, and carry no secret.
 */
import { EXPORT_FORMATS, exportFile, isExportFormat, type ExportInput } from '../../config/export.js';
import type { LecternConfig } from '../../config/schema.js';
import { lecternVersion } from '../../package-info.js';
import type { GroupRepository } from '../../store/groups.js';
import type { UserRepository } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireScope } from './authorize.js';
import { route, type ApiRoute } from './route.js';

export function exportRoutes(ctx: HubContext): ApiRoute[] {
  return [
    route('get', '/lectern/export', (req, res) => {
      requireScope(res, ['admin-ui']);
      const format = req.query.format;
      if (!isExportFormat(format)) {
        throw new HttpError(400, `format must be one of ${EXPORT_FORMATS.join(', ')}, not ${JSON.stringify(format ?? null)}.`);
      }
      const file = exportFile(format, exportInput({ config: ctx.liveSettings.effective(), users: ctx.users, groups: ctx.groups, handouts: ctx.handouts }));
      // attachment() first: it also sets a Content-Type from the file name, which type() then corrects.
      res.attachment(file.fileName).type(`${file.mediaType}; charset=utf-8`).send(file.text);
    }),
  ];
}

/**
 * What an export is made from: the effective configuration, and every account, group and handout as the
 * database holds them now. Shared with `lectern export` when no hub runs.
 */
export function exportInput(from: {
  config: LecternConfig;
  users: UserRepository;
  groups: GroupRepository;
  handouts: { list(): readonly { name: string }[] };
}): ExportInput {
  return {
    config: from.config,
    users: from.users.list().map((user) => ({ name: user.name, admin: user.admin, approved: user.approved })),
    groups: from.groups.list().map((group) => ({ name: group.name, members: from.groups.members(group.id) })),
    handouts: from.handouts.list().map((handout) => handout.name),
    version: lecternVersion,
    generatedAt: new Date(),
  };
}
