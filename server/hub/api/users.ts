/**
 * `/hub/api/users…`: listing, reading, creating, changing and deleting accounts, as JupyterHub 3.0
 * answers them. Lectern extension: `password` when creating a user (password changes and resets
 * are in passwords.ts).
 */
import { rename as renameFolder, stat } from 'node:fs/promises';
import type { Response } from 'express';
import { z } from 'zod';
import { createAccount } from '../../auth/accounts.js';
import { normalizeUsername, usernameProblem } from '../../auth/usernames.js';
import { scopeFilter } from '../../rbac/scopes.js';
import { studentFolder } from '../../servers/student-folders.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { AnswerCache, scopesKey } from './answer-cache.js';
import { requireCallerListScope, requireCallerScope, requireIdentity, requireScope } from './authorize.js';
import { ModelAccess, userModel } from './models.js';
import { pageBody, readPage } from './pagination.js';
import { read, route, type ApiRoute } from './route.js';
import { parseBody } from './validation.js';

const createUserBody = z.strictObject({ admin: z.boolean().optional(), password: z.string().optional() });
const bulkCreateBody = z.strictObject({
  usernames: z.array(z.string()).min(1, 'Must specify at least one user to create'),
  admin: z.boolean().optional(),
});
const patchUserBody = z.strictObject({
  name: z.string().optional(),
  admin: z.boolean().optional(),
  groups: z.array(z.string()).optional(),
});

const STATES = new Set(['active', 'ready', 'inactive']);

export function userRoutes(ctx: HubContext): ApiRoute[] {
  const access = (res: Response) => new ModelAccess(requireIdentity(res));
  // Made on first use: the list of routes is built without a context too (openapi.test.ts).
  // Both revisions only grow, so their sum moves whenever either does.
  let cache: AnswerCache | undefined;
  const answers = () => (cache ??= new AnswerCache(() => ctx.db.revision + ctx.servers.revision));

  return [
    read('/users', (caller, req) => {
      const identity = requireCallerListScope(caller, 'list:users');
      const page = readPage(req);
      const state = req.query.state;
      if (state !== undefined && (typeof state !== 'string' || !STATES.has(state))) {
        throw new HttpError(400, `Unrecognized state filter: '${String(state)}'`);
      }
      // The next page's address (wrapped answers) is made from the URL, the scheme and the host.
      const key = `${scopesKey(identity.scopes)}\n${req.originalUrl}\n${page.wrapped}\n${req.protocol}://${req.headers.host ?? ''}`;
      return answers().answer(key, () => {
        const nameFilter = typeof req.query.name_filter === 'string' ? req.query.name_filter.toLowerCase() : '';
        const listable = scopeFilter(identity.scopes, 'list:users', identity.groupsOf);
        const matching = ctx.users.list().filter(
          (user) =>
            listable({ user: user.name }) &&
            (!nameFilter || user.name.toLowerCase().includes(nameFilter)) &&
            (state === undefined || inState(ctx, user, state)),
        );
        const viewer = new ModelAccess(identity);
        const includeStoppedServers = truthy(req.query.include_stopped_servers);
        const items = matching
          .slice(page.offset, page.offset + page.limit)
          .map((user) => userModel(ctx, viewer, user, { includeStoppedServers }))
          .filter((model) => model !== null);
        return JSON.stringify(pageBody(req, page, items, matching.length));
      });
    }),

    route('post', '/users', async (req, res) => {
      requireScope(res, ['admin:users']);
      const body = parseBody(bulkCreateBody, req.body);
      const names = body.usernames.map(normalizeUsername);
      const invalid = names.filter((name) => usernameProblem(name) !== null);
      if (invalid.length > 0) {
        throw new HttpError(400, `Invalid username${invalid.length > 1 ? 's' : ''}: ${invalid.join(', ')}`);
      }
      const fresh = [...new Set(names)].filter((name) => !ctx.users.find(name));
      if (fresh.length === 0) throw new HttpError(409, `All ${body.usernames.length} users already exist`);
      const created = ctx.db.transaction(() =>
        fresh.map((name) => ctx.users.create({ name, admin: body.admin ?? false, passwordHash: null })),
      );
      await ctx.db.commit();
      ctx.events.usersChanged();
      ctx.log.info(`created ${created.length} users`);
      const viewer = access(res);
      res.status(201).json(created.map((user) => userModel(ctx, viewer, user)));
    }),

    read('/users/{name}', (caller, req) => {
      const identity = requireCallerScope(
        caller,
        ['read:users', 'read:users:name', 'read:servers', 'read:users:groups', 'read:users:activity', 'read:roles:users'],
        { user: req.params.name },
      );
      return answers().answer(`${scopesKey(identity.scopes)}\n${req.originalUrl}`, () => {
        const user = existingUser(ctx, req.params.name);
        const model = userModel(ctx, new ModelAccess(identity), user, { withAuthState: true, includeStoppedServers: truthy(req.query.include_stopped_servers) });
        return JSON.stringify(model);
      });
    }),

    route('post', '/users/{name}', async (req, res) => {
      requireScope(res, ['admin:users'], { user: req.params.name });
      const body = parseBody(createUserBody, req.body);
      const user = await createAccount(
        { db: ctx.db, users: ctx.users, hasher: ctx.hasher, minPasswordLength: ctx.config.auth.minPasswordLength },
        { name: req.params.name, admin: body.admin ?? false, password: body.password ?? null },
      );
      ctx.events.usersChanged();
      ctx.log.info(`created user ${user.name}`, { admin: user.admin });
      res.status(201).json(userModel(ctx, access(res), user));
    }),

    route('patch', '/users/{name}', async (req, res) => {
      requireScope(res, ['admin:users'], { user: req.params.name });
      const user = existingUser(ctx, req.params.name);
      const body = parseBody(patchUserBody, req.body);
      const groups = body.groups?.map((name) => {
        const group = ctx.groups.find(name);
        if (!group) throw new HttpError(400, `No such group: ${name}`);
        return group.id;
      });
      let newName: string | undefined;
      if (body.name !== undefined && body.name !== user.name) {
        newName = normalizeUsername(body.name);
        const problem = usernameProblem(newName);
        if (problem) throw new HttpError(400, problem);
        if (ctx.users.find(newName)) throw new HttpError(400, `User ${newName} already exists, username must be unique`);
        if (ctx.servers.hasActiveServer(user)) {
          throw new HttpError(400, `Stop ${user.name}'s servers before renaming them: their addresses contain the name.`);
        }
      }
      if (newName) await moveNotebookFolder(ctx, user.name, newName);
      try {
        ctx.db.transaction(() => {
          if (body.admin !== undefined) ctx.users.setAdmin(user.id, body.admin);
          if (groups) ctx.groups.setGroupsOf(user.id, groups);
          if (newName) ctx.users.rename(user.id, newName);
        });
      } catch (error) {
        if (newName) await moveNotebookFolder(ctx, newName, user.name);
        throw error;
      }
      await ctx.db.commit();
      ctx.events.usersChanged();
      const updated = ctx.users.findById(user.id) as UserRecord;
      res.json(userModel(ctx, access(res), updated, { withAuthState: true }));
    }),

    route('delete', '/users/{name}', async (req, res) => {
      const identity = requireScope(res, ['delete:users'], { user: req.params.name });
      const user = existingUser(ctx, req.params.name);
      if (identity.user?.id === user.id) throw new HttpError(400, 'Cannot delete yourself!');
      await ctx.servers.stopAllOf(user);
      ctx.users.delete(user.id);
      await ctx.db.commit();
      ctx.events.usersChanged();
      // The student's notebooks stay on disk: deleting an account never deletes their work.
      ctx.log.info(`deleted user ${user.name}`);
      res.status(204).type('text/plain').end();
    }),
  ];
}

export function existingUser(ctx: HubContext, name: string): UserRecord {
  const user = ctx.users.find(name);
  if (!user) throw new HttpError(404, `No such user: ${name}`);
  return user;
}

function inState(ctx: HubContext, user: UserRecord, state: string): boolean {
  const active = ctx.servers.activeServerNames(user);
  if (state === 'inactive') return active.length === 0;
  if (state === 'active') return active.length > 0;
  return active.some((name) => ctx.servers.view(user, name).phase === 'running');
}

function truthy(value: unknown): boolean {
  return typeof value === 'string' && !['', '0', 'false', 'no', 'off'].includes(value.toLowerCase());
}

/** A renamed student keeps their notebooks: their folder follows the name. */
async function moveNotebookFolder(ctx: HubContext, from: string, to: string): Promise<void> {
  const source = studentFolder(ctx.config, from);
  const exists = await stat(source).then(
    () => true,
    () => false,
  );
  if (exists) await renameFolder(source, studentFolder(ctx.config, to));
}
