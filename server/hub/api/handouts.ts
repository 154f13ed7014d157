/**
 * Lectern extension: handing out files and taking work back (see handouts/handouts.ts).
 *
 *   GET    /lectern/handouts                          every handout
 *   POST   /lectern/handouts                          a new one: `{ name, class?, availableAt?, dueAt?, late? }`
 *   GET    /lectern/handouts/{handout_id}             one, with its files and where each student stands
 *   PATCH  /lectern/handouts/{handout_id}             its class and times
 *   DELETE /lectern/handouts/{handout_id}             forget it and its collected work (students keep their copies)
 *   PUT    /lectern/handouts/{handout_id}/files?path= a file for the next hand-out, the request body as it is
 *   DELETE /lectern/handouts/{handout_id}/files?path= take a file out of the next hand-out
 *   POST   /lectern/handouts/{handout_id}/release     hand out the files as the next version (`{ restoreDeleted? }`)
 *   POST   /lectern/handouts/{handout_id}/collect     snapshot every student's copy now
 *   GET    /lectern/handouts/{handout_id}/collection  the latest snapshot of each student's work, as one zip
 *   POST   /lectern/handouts/{handout_id}/hand-in     a student hands in their own copy
 *
 * Making and handing out handouts needs `admin-ui` (the teacher). Seeing where students stand,
 * collecting and downloading also take `lectern:collect`, which a teaching assistant's role may hold
 * for one class (`lectern:collect!group=7b`: that class's handouts only). Handing in needs only to
 * be a student the handout is for.
 */
import type { Request } from 'express';
import type { ApiParams } from './route.js';
import { z } from 'zod';
import type { HubContext } from '../context.js';
import { HandoutError, MAX_HANDOUT_FILE_BYTES } from '../../handouts/handouts.js';
import { handoutNameProblem } from '../../handouts/names.js';
import { streamZip } from '../../handouts/zip.js';
import type { HandoutRecord, HandoutSettings } from '../../store/handouts.js';
import { HttpError } from '../http-error.js';
import { scopeFilter, type ScopeTarget } from '../../rbac/scopes.js';
import { requireIdentity, requireListScope, requireScope } from './authorize.js';
import { route, type ApiRoute } from './route.js';
import { parseBody } from './validation.js';

/** Who may collect a handout and see the work collected: the teacher, or a teaching assistant of its class. */
export const COLLECT_SCOPES = ['admin-ui', 'lectern:collect'];
export const collectTarget = (handout: HandoutRecord): ScopeTarget | undefined => (handout.className === null ? undefined : { group: handout.className });

const time = z.iso.datetime({ offset: true, message: 'a date and time such as 2026-12-01T09:00:00Z' }).nullable().optional();

const settingsFields = {
  class: z.string().trim().min(1).nullable().optional(),
  availableAt: time,
  dueAt: time,
  late: z.enum(['mark', 'refuse']).optional(),
};

const createBody = z.strictObject({
  name: z
    .string()
    .trim()
    .superRefine((name, context) => {
      const problem = handoutNameProblem(name);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
  ...settingsFields,
});

const updateBody = z.strictObject(settingsFields);
const releaseBody = z.strictObject({ restoreDeleted: z.boolean().optional() });

/** Whether a request is a file upload, whose body is the file's bytes (not JSON, and not read in memory). */
export function isHandoutUpload(req: { method?: string; url?: string }): boolean {
  return req.method === 'PUT' && /^\/lectern\/handouts\/[^/?]+\/files(\?|$)/.test(req.url ?? '');
}

export function handoutRoutes(ctx: HubContext): ApiRoute[] {
  const repository = () => ctx.handouts;
  const find = (req: Request<ApiParams>): HandoutRecord => {
    const id = Number(req.params.handout_id);
    const handout = Number.isInteger(id) ? ctx.handouts.find(id) : undefined;
    if (!handout) throw new HttpError(404, `No handout ${req.params.handout_id}.`);
    return handout;
  };
  const filePath = (req: Request<ApiParams>): string => {
    const path = req.query.path;
    if (typeof path !== 'string' || path === '') throw new HttpError(400, 'Say which file with ?path=, e.g. ?path=week%201/lesson.ipynb');
    return path;
  };
  const settingsOf = (body: z.output<typeof updateBody>, current?: HandoutRecord): HandoutSettings => {
    const settings: HandoutSettings = {
      className: body.class === undefined ? (current?.className ?? null) : body.class,
      availableAt: body.availableAt === undefined ? (current?.availableAt ?? null) : body.availableAt && new Date(body.availableAt).toISOString(),
      dueAt: body.dueAt === undefined ? (current?.dueAt ?? null) : body.dueAt && new Date(body.dueAt).toISOString(),
      late: body.late ?? current?.late ?? 'mark',
    };
    if (settings.availableAt && settings.dueAt && settings.dueAt <= settings.availableAt) {
      throw new HttpError(400, 'Invalid value for "dueAt": the due time must come after the time it is available from');
    }
    return settings;
  };
  const model = async (handout: HandoutRecord) => ({
    ...summary(handout),
    files: await repository().files(handout),
    students: await repository().status(handout),
  });
  const summary = (handout: HandoutRecord) => ({
    id: handout.id,
    name: handout.name,
    class: handout.className,
    version: handout.version,
    availableAt: handout.availableAt,
    dueAt: handout.dueAt,
    late: handout.late,
    created: handout.created,
    collectedAt: handout.collectedAt,
  });
  /** The handout, for the teacher or a teaching assistant of its class (anyone else learns nothing of it). */
  const forCollector = (req: Request<ApiParams>, res: Parameters<typeof requireScope>[0]): HandoutRecord => {
    requireIdentity(res);
    const handout = find(req);
    requireScope(res, COLLECT_SCOPES, collectTarget(handout));
    return handout;
  };
  return [
    route('get', '/lectern/handouts', (_req, res) => {
      const identity = requireIdentity(res);
      const all = scopeFilter(identity.scopes, 'admin-ui', identity.groupsOf)({});
      if (!all) requireListScope(res, 'lectern:collect');
      const collects = scopeFilter(identity.scopes, 'lectern:collect', identity.groupsOf);
      const visible = ctx.handouts.list().filter((handout) => all || (handout.className === null ? collects({}) : collects({ group: handout.className })));
      res.json({ handouts: visible.map(summary) });
    }),

    route('post', '/lectern/handouts', async (req, res) => {
      requireScope(res, ['admin-ui']);
      const body = parseBody(createBody, req.body);
      const handout = await repository().create(body.name, settingsOf(body));
      res.status(201).json(await model(handout));
    }),

    route('get', '/lectern/handouts/{handout_id}', async (req, res) => {
      const handout = forCollector(req, res);
      res.json(await model(handout));
    }),

    route('patch', '/lectern/handouts/{handout_id}', async (req, res) => {
      requireScope(res, ['admin-ui']);
      const handout = find(req);
      const body = parseBody(updateBody, req.body);
      res.json(await model(await repository().update(handout, settingsOf(body, handout))));
    }),

    route('delete', '/lectern/handouts/{handout_id}', async (req, res) => {
      requireScope(res, ['admin-ui']);
      await repository().delete(find(req));
      res.status(204).end();
    }),

    route('put', '/lectern/handouts/{handout_id}/files', async (req, res) => {
      requireScope(res, ['admin-ui']);
      const handout = find(req);
      const path = filePath(req);
      const length = Number(req.headers['content-length'] ?? NaN);
      if (length > MAX_HANDOUT_FILE_BYTES) {
        // Said before the body is read; the connection closes, so the rest of it is not waited for.
        res.set('Connection', 'close');
        throw new HttpError(413, `${path} is larger than ${MAX_HANDOUT_FILE_BYTES / 2 ** 20} MiB, the most one file of a handout may be.`);
      }
      const file = await repository().putFile(handout, path, req).catch((error: unknown) => {
        if (error instanceof HandoutError && error.status === 413) res.set('Connection', 'close');
        throw error;
      });
      res.status(201).json(file);
    }),

    route('delete', '/lectern/handouts/{handout_id}/files', async (req, res) => {
      requireScope(res, ['admin-ui']);
      const handout = find(req);
      await repository().deleteFile(handout, filePath(req));
      res.status(204).end();
    }),

    route('post', '/lectern/handouts/{handout_id}/release', async (req, res) => {
      requireScope(res, ['admin-ui']);
      const handout = find(req);
      const body = parseBody(releaseBody, req.body);
      const { version } = await repository().release(handout, body);
      res.json({ version });
    }),

    route('post', '/lectern/handouts/{handout_id}/collect', async (req, res) => {
      const handout = forCollector(req, res);
      const { collected, missing } = await repository().collect(handout);
      res.json({ collected: collected.length, missing });
    }),

    route('get', '/lectern/handouts/{handout_id}/collection', async (req, res) => {
      const handout = forCollector(req, res);
      const entries = [];
      for (const { user, handin } of repository().latestSnapshots(handout)) {
        for (const file of await repository().snapshotFiles(handin)) entries.push({ name: `${handout.name}/${user}/${file.path}`, file: file.file });
      }
      res.set('Content-Type', 'application/zip');
      const fileName = `${handout.name}.zip`;
      // The plain name for old clients (ASCII only), the exact one for the rest (RFC 6266).
      res.set('Content-Disposition', `attachment; filename="${fileName.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(fileName)}`);
      await streamZip(entries, res);
    }),

    route('post', '/lectern/handouts/{handout_id}/hand-in', async (req, res) => {
      const identity = requireIdentity(res);
      const handout = find(req);
      if (!identity.user) throw new HttpError(403, 'Only a student hands in their work.');
      const handin = await repository().handIn(handout, identity.user as NonNullable<typeof identity.user>);
      res.status(201).json({ at: handin.at, late: handin.late, files: handin.files });
    }),
  ];
}
