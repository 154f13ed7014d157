/**
 * Lectern extension for the teacher's GUI: how students get in, the class join code, and the
 * sign-ups waiting for approval.
 *
 * - `GET /lectern/join` → `{mode, code, approval, pending}`
 * - `POST /lectern/join/code` → a new generated code (the old one stops working)
 * - `POST /lectern/users/{name}/approve` → lets a waiting sign-up log in (idempotent)
 */
import type { JoinCodes } from '../../auth/join-codes.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireScope } from './authorize.js';
import { route, type ApiRoute } from './route.js';
import { existingUser } from './users.js';

export interface JoinState {
  mode: HubContext['config']['auth']['loginMode'];
  /** The code students type at /hub/join; null unless the mode is "join-code". */
  code: string | null;
  /** Whether join-code sign-ups wait for the teacher's approval. */
  approval: boolean;
  /** Names of accounts that cannot log in until the teacher approves them, oldest first. */
  pending: string[];
}

export function joinRoutes(ctx: HubContext): ApiRoute[] {
  const state = (): JoinState => ({
    mode: ctx.config.auth.loginMode,
    code: ctx.joinCodes?.current() ?? null,
    approval: ctx.config.auth.joinApproval,
    pending: ctx.users
      .list()
      .filter((user) => !user.approved)
      .map((user) => user.name),
  });

  return [
    route('get', '/lectern/join', (_req, res) => {
      requireScope(res, ['admin:users']);
      res.json(state());
    }),

    route('post', '/lectern/join/code', async (_req, res) => {
      requireScope(res, ['admin:users']);
      await joinCodes(ctx).rotate();
      ctx.log.info('the class join code was replaced with a new one');
      res.json(state());
    }),

    route('post', '/lectern/users/{name}/approve', async (req, res) => {
      requireScope(res, ['admin:users'], { user: req.params.name });
      const user = existingUser(ctx, req.params.name);
      if (!user.approved) {
        ctx.users.setApproved(user.id, true);
        await ctx.db.commit();
        ctx.events.usersChanged();
        ctx.log.info(`${user.name} was let in`);
      }
      res.status(204).end();
    }),
  ];
}

/** The hub's join codes; a 400 that says what to change when students do not join with a code. */
function joinCodes(ctx: HubContext): JoinCodes {
  if (ctx.joinCodes) return ctx.joinCodes;
  throw new HttpError(
    400,
    `Students join with a class code only when auth.loginMode is "join-code" (this hub uses "${ctx.config.auth.loginMode}"): change it in the config file and restart Lectern.`,
  );
}
