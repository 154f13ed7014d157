/**
 * `/hub/api/users…`: listing, reading and creating accounts. Creating an account may carry a
 * `password` (a Lectern extension to JupyterHub's body), so a teacher's script or the CLI can set up
 * a student who can log in straight away.
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import { AccountError, createAccount } from '../../auth/accounts.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireScope } from './authorize.js';
import { userModel } from './models.js';
import { parseBody } from './validation.js';

const createUserBody = z.strictObject({
  admin: z.boolean().optional(),
  password: z.string().optional(),
});

export function usersRouter(ctx: HubContext): Router {
  const router = express.Router();

  router.get('/users', (_req, res) => {
    requireScope(res, ['list:users']);
    res.json(ctx.users.list().map((user) => userModel(ctx, user)));
  });

  router.get('/users/:name', (req, res) => {
    requireScope(res, ['read:users', 'read:users:name', 'read:servers'], { user: req.params.name });
    res.json(userModel(ctx, existingUser(ctx, req.params.name)));
  });

  router.post('/users/:name', async (req, res) => {
    requireScope(res, ['admin:users'], { user: req.params.name });
    const body = parseBody(createUserBody, req.body);
    let user;
    try {
      user = await createAccount(
        { db: ctx.db, users: ctx.users, hasher: ctx.hasher, minPasswordLength: ctx.config.auth.minPasswordLength },
        { name: req.params.name, admin: body.admin ?? false, password: body.password ?? null },
      );
    } catch (error) {
      if (error instanceof AccountError) throw new HttpError(error.reason === 'exists' ? 409 : 400, error.message);
      throw error;
    }
    ctx.log.info(`created user ${user.name}`, { admin: user.admin });
    res.status(201).json(userModel(ctx, user));
  });

  return router;
}

export function existingUser(ctx: HubContext, name: string) {
  const user = ctx.users.find(name);
  if (!user) throw new HttpError(404, `No such user: ${name}`);
  return user;
}
