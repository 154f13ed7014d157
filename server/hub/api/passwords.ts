/**
 * Lectern's password routes, for a teacher helping a student back in:
 *
 *   PUT  /lectern/users/{name}/password        set the password the teacher chose
 *   POST /lectern/users/{name}/password-reset  set a new generated one, shown once
 *
 * Both revoke what the old password opened (see auth/password-changes.ts). Students change their
 * own password on the change-password page (pages/password.ts), not here.
 */
import { z } from 'zod';
import { resetPassword, setPassword, type PasswordStore } from '../../auth/password-changes.js';
import { passwordProblem } from '../../auth/passwords.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireScope } from './authorize.js';
import { route, type ApiRoute } from './route.js';
import { existingUser } from './users.js';
import { parseBody } from './validation.js';

/** Changing someone's password is changing their account: JupyterHub's scope for that. */
const PASSWORD_SCOPES = ['admin:users'];

const passwordBody = z.strictObject({ password: z.string() });
const resetBody = z.strictObject({ mustChange: z.boolean().optional() });

export function passwordRoutes(ctx: HubContext): ApiRoute[] {
  const store: PasswordStore = ctx;

  return [
    route('put', '/lectern/users/{name}/password', async (req, res) => {
      requireScope(res, PASSWORD_SCOPES, { user: req.params.name });
      const user = existingUser(ctx, req.params.name);
      const { password } = parseBody(passwordBody, req.body);
      const problem = passwordProblem(password, ctx.config.auth.minPasswordLength);
      if (problem) throw new HttpError(400, problem);
      await setPassword(store, user, password, false);
      ctx.log.info(`password changed for ${user.name}`);
      res.status(204).end();
    }),

    route('post', '/lectern/users/{name}/password-reset', async (req, res) => {
      requireScope(res, PASSWORD_SCOPES, { user: req.params.name });
      const user = existingUser(ctx, req.params.name);
      const { mustChange = true } = parseBody(resetBody, req.body ?? {});
      const password = await resetPassword(store, user, mustChange, ctx.config.auth.minPasswordLength);
      ctx.log.info(`password reset for ${user.name}`, { mustChange });
      // Not cached anywhere on the way: this answer is the only place the password exists in clear.
      res.set('Cache-Control', 'no-store').json({ name: user.name, password, mustChange });
    }),
  ];
}
