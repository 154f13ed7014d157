/**
 * The teacher GUI (`renderer/`, built into `dist/renderer/`) at `<base>hub/admin`, for the teacher's
 * own browser or tablet; the desktop app's window shows the same pages. It is a single-page app:
 * `/hub/admin` and any `/hub/admin/<view>` answer its `index.html`, which finds the hub's REST API
 * through `<meta name="lectern-base-url">`; `/hub/admin/static/<file>` are its scripts, styles and
 * images. Everything here is for admins only: the page itself does nothing without the API, but it
 * shows a student nothing they should use either. The pages router mounts it, so the login cookie
 * is read and a teacher who must choose a new password is sent to do that first, as on every page.
 *
 * The hub's page CSP (app.ts) already holds the GUI to scripts, styles and connections from the hub
 * itself, and images from the hub or `data:` URLs (QR codes).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { escapeHtml } from '../html/html.js';
import { installRoot } from '../package-info.js';
import { hasScope } from '../rbac/scopes.js';
import type { HubContext } from './context.js';
import { HttpError } from './http-error.js';
import { identityOf } from './identity.js';

/** Where `npm run build` puts the renderer's bundle. */
export const RENDERER_DIR = join(installRoot, 'dist', 'renderer');
const BASE_URL_PLACEHOLDER = '{{baseUrl}}';

export function adminRouter(ctx: HubContext, rendererDir = RENDERER_DIR): Router {
  const router = express.Router();

  router.use((req: Request, res: Response, next: NextFunction) => {
    const identity = identityOf(res);
    if (!identity?.user) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(403, 'Log in first.');
      res.redirect(302, ctx.urls.login(req.originalUrl));
      return;
    }
    if (!hasScope(identity.scopes, 'admin-ui')) {
      throw new HttpError(403, 'The teacher dashboard is for teachers only. To open it, log in with an admin account.');
    }
    next();
  });

  router.use(
    '/static',
    express.static(rendererDir, {
      index: false,
      redirect: false,
      fallthrough: false,
      dotfiles: 'ignore',
      // Checked again at every load (a 304 when unchanged): after an upgrade the GUI's files must not
      // mix old and new, and they come from this machine or the classroom network, so asking is cheap.
      cacheControl: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );

  // Views are paths without a dot; a path with one is a file, and the GUI's files are under static/.
  router.get('/{*view}', async (req, res, next) => {
    if (req.path.includes('.')) {
      next();
      return;
    }
    const page = await readFile(join(rendererDir, 'index.html'), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new HttpError(503, 'The teacher GUI is not built: run npm run build');
      throw error;
    });
    res.set('Cache-Control', 'no-cache, private').type('html').send(withBaseUrl(page, ctx.urls.base));
  });

  return router;
}

/**
 * The page with the hub's base URL filled in: every `{{baseUrl}}` (the renderer may use it in its
 * script and style URLs), and `<meta name="lectern-base-url">` added to the head if the page has none.
 */
export function withBaseUrl(page: string, baseUrl: string): string {
  const escaped = escapeHtml(baseUrl);
  const filled = page.replaceAll(BASE_URL_PLACEHOLDER, escaped);
  if (/<meta\s+name=["']?lectern-base-url["'\s>]/i.test(filled)) return filled;
  return filled.replace(/<head(\s[^>]*)?>/i, (head) => `${head}\n<meta name="lectern-base-url" content="${escaped}">`);
}
