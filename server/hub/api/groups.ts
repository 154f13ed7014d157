/**
 * `/hub/api/groups…`: groups (in a classroom, a teacher's classes) and their members. `properties`
 * is free-form JSON kept with the group, as in later JupyterHub versions.
 */
import type { Response } from 'express';
import { z } from 'zod';
import { groupNameProblem } from '../../auth/group-names.js';
import { scopeFilter } from '../../rbac/scopes.js';
import type { GroupRecord } from '../../store/groups.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireIdentity, requireListScope, requireScope } from './authorize.js';
import { groupModel, ModelAccess } from './models.js';
import { pageBody, readPage } from './pagination.js';
import { route, type ApiHandler, type ApiRoute } from './route.js';
import { parseBody } from './validation.js';

const usersList = z.array(z.string());
const createGroupsBody = z.strictObject({
  groups: z.array(z.string()).min(1, 'Must specify at least one group to create'),
  users: usersList.optional(),
});
const createGroupBody = z.strictObject({ users: usersList.optional() });
const membersBody = z.strictObject({ users: usersList.min(1, 'Must specify users') });
const propertiesBody = z.record(z.string(), z.unknown());

export function groupRoutes(ctx: HubContext): ApiRoute[] {
  const access = (res: Response) => new ModelAccess(requireIdentity(res));
  const existing = (name: string): GroupRecord => {
    const group = ctx.groups.find(name);
    if (!group) throw new HttpError(404, `No such group: ${name}`);
    return group;
  };
  /** User ids for names, all checked before anything changes. */
  const userIds = (names: readonly string[]): number[] =>
    names.map((name) => {
      const user = ctx.users.find(name);
      if (!user) throw new HttpError(400, `No such user: ${name}`);
      return user.id;
    });
  const checkName = (name: string) => {
    const problem = groupNameProblem(name);
    if (problem) throw new HttpError(400, `Invalid group name "${name}". ${problem}`);
  };

  /** Adds or removes the users named in the body; all names are checked before anything changes. */
  const changeMembers =
    (change: 'add' | 'remove'): ApiHandler =>
    async (req, res) => {
      requireScope(res, ['groups'], { group: req.params.name });
      const group = existing(req.params.name);
      const members = userIds(parseBody(membersBody, req.body).users);
      ctx.db.transaction(() => {
        for (const userId of members) {
          if (change === 'add') ctx.groups.addMember(group.id, userId);
          else ctx.groups.removeMember(group.id, userId);
        }
      });
      await ctx.db.commit();
      ctx.events.usersChanged();
      res.json(groupModel(ctx, access(res), group));
    };

  return [
    route('get', '/groups', (req, res) => {
      const identity = requireListScope(res, 'list:groups');
      const page = readPage(req);
      const listable = scopeFilter(identity.scopes, 'list:groups', identity.groupsOf);
      const matching = ctx.groups.list().filter((group) => listable({ group: group.name }));
      const viewer = access(res);
      const items = matching
        .slice(page.offset, page.offset + page.limit)
        .map((group) => groupModel(ctx, viewer, group))
        .filter((model) => model !== null);
      res.json(pageBody(req, page, items, matching.length));
    }),

    route('post', '/groups', async (req, res) => {
      requireScope(res, ['admin:groups']);
      const body = parseBody(createGroupsBody, req.body);
      body.groups.forEach(checkName);
      const taken = body.groups.find((name) => ctx.groups.find(name));
      if (taken) throw new HttpError(409, `Group ${taken} already exists`);
      const members = userIds(body.users ?? []);
      const created = ctx.db.transaction(() =>
        [...new Set(body.groups)].map((name) => {
          const group = ctx.groups.create(name);
          for (const userId of members) ctx.groups.addMember(group.id, userId);
          return group;
        }),
      );
      await ctx.db.commit();
      ctx.events.usersChanged();
      const viewer = access(res);
      res.status(201).json(created.map((group) => groupModel(ctx, viewer, group)));
    }),

    route('get', '/groups/{name}', (req, res) => {
      requireScope(res, ['read:groups', 'read:groups:name', 'read:roles:groups'], { group: req.params.name });
      res.json(groupModel(ctx, access(res), existing(req.params.name)));
    }),

    route('post', '/groups/{name}', async (req, res) => {
      requireScope(res, ['admin:groups'], { group: req.params.name });
      const name = req.params.name;
      checkName(name);
      if (ctx.groups.find(name)) throw new HttpError(409, `Group ${name} already exists`);
      const members = userIds(parseBody(createGroupBody, req.body ?? {}).users ?? []);
      const group = ctx.db.transaction(() => {
        const created = ctx.groups.create(name);
        for (const userId of members) ctx.groups.addMember(created.id, userId);
        return created;
      });
      await ctx.db.commit();
      ctx.events.usersChanged();
      res.status(201).json(groupModel(ctx, access(res), group));
    }),

    route('delete', '/groups/{name}', async (req, res) => {
      requireScope(res, ['delete:groups'], { group: req.params.name });
      ctx.groups.delete(existing(req.params.name).id);
      await ctx.db.commit();
      ctx.events.usersChanged();
      res.status(204).type('text/plain').end();
    }),

    route('post', '/groups/{name}/users', changeMembers('add')),
    route('delete', '/groups/{name}/users', changeMembers('remove')),

    route('put', '/groups/{name}/properties', async (req, res) => {
      requireScope(res, ['groups'], { group: req.params.name });
      const group = existing(req.params.name);
      const properties = parseBody(propertiesBody, req.body);
      ctx.groups.setProperties(group.id, properties);
      await ctx.db.commit();
      res.json(groupModel(ctx, access(res), { ...group, properties }));
    }),
  ];
}
