/**
 * The hub's pages: what a student's browser walks through, as JupyterHub's handlers do
 * (reference §6): log in → /hub/spawn → progress page → their server.
 */
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { installRoot } from '../../package-info.js';
import { clearSessionCookie, findSession } from '../../auth/sessions.js';
import { hasScope } from '../../rbac/scopes.js';
import type { UserRecord } from '../../store/users.js';
import { adminRouter } from '../admin.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { identityOf, setIdentity, type Identity } from '../identity.js';
import { safeNextUrl } from '../next-url.js';
import { handoutPages } from './handouts.js';
import { loginLinkRouter } from './login-links.js';
import { loginRouter } from './login.js';
import { passwordPages } from './password.js';
import { rosterRouter } from './roster.js';
import { workRouter } from './work.js';
import { homePage, notRunningPage, spawnPendingPage } from './templates.js';

/** How long /hub/spawn waits for a fast start before showing the progress page. */
const QUICK_START_MS = 1_000;
const MAX_REDIRECTS = 4;

export function pagesRouter(ctx: HubContext): Router {
  const { urls } = ctx;
  const router = express.Router();
  const cookieScope = { path: urls.hub(), secure: ctx.secure };

  router.use((req, res, next) => {
    const identity = ctx.identities.fromCookie(req);
    setIdentity(res, identity);
    ctx.identities.recordActivity(identity);
    next();
  });
  router.use(passwordPages(ctx));
  router.use('/admin', adminRouter(ctx));

  /** Pages that need a login send anonymous visitors to the login page, coming back afterwards. */
  const loggedIn = (req: Request, res: Response, next: NextFunction): void => {
    if (identityOf(res)?.user) next();
    else res.redirect(302, urls.login(req.originalUrl));
  };
  const me = (res: Response): UserRecord => identityOf(res)?.user as UserRecord;

  /**
   * Where a logged-in user goes by default: a teacher to the dashboard (their own server starts only
   * when they ask for it); a student to their server if it runs, else to start it.
   */
  const defaultUrl = (user: UserRecord): string => {
    if (user.admin) return urls.hub('admin');
    return ctx.servers.view(user).phase === 'running' ? urls.server(user.name) : urls.hub('spawn');
  };

  // The logo a student's server shows in its header (jupyterhub-singleuser's pages load `/hub/logo`),
  // from its own origin: an image, which browsers let another origin show.
  router.get('/logo', (_req, res) => res.sendFile(join(installRoot, 'assets', 'icons', 'icon.png'), { maxAge: '1d' }));

  // The address students are shown (and its QR code) ends here: where students make their own
  // accounts, at the join page, which links to the login page for those who have one.
  router.get('/', (req, res) => {
    const identity = identityOf(res);
    if (identity?.user) res.redirect(302, defaultUrl(identity.user));
    else res.redirect(302, ctx.joinCodes ? urls.hub('join') : urls.login(urls.hub()));
  });

  router.use(loginRouter(ctx, defaultUrl));
  router.use(loginLinkRouter(ctx));
  router.use(rosterRouter(ctx));
  router.use(workRouter(ctx));
  router.use(handoutPages(ctx));

  router.get('/logout', async (req, res) => {
    const session = findSession(ctx.sessions, req);
    if (session) {
      // Ends the session and, with it, the OAuth tokens its servers were given.
      ctx.sessions.delete(session.id);
      await ctx.db.commit();
    }
    clearSessionCookie(res, cookieScope);
    res.redirect(302, urls.login());
  });

  router.get('/home', loggedIn, (_req, res) => {
    const user = me(res);
    const view = ctx.servers.view(user);
    const state = ({ running: 'running', spawning: 'starting', stopping: 'stopping', stopped: 'stopped' } as const)[
      view.phase
    ];
    const dashboardUrl = hasScope((identityOf(res) as Identity).scopes, 'admin-ui') ? urls.hub('admin') : null;
    res.type('html').send(
      homePage(urls, {
        user: user.name,
        state,
        serverUrl: urls.server(user.name),
        failure: view.failure,
        notice: view.notice,
        dashboardUrl,
        announcement: ctx.settings.announcement(),
        handouts: ctx.handouts.forStudent(user).length,
      }),
    );
  });

  router.get(['/spawn', '/spawn/:name'], loggedIn, async (req, res) => {
    const owner = targetUser(ctx, identityOf(res) as Identity, paramName(req), 'servers');
    const next = safeNextUrl(req.query.next, urls) ?? urls.server(owner.name);
    if (ctx.servers.view(owner).phase !== 'running') {
      // Failures are shown on the progress page; the start goes on after we answer. One refused
      // before it began (the class is full, the server still stopping) is an error page saying so.
      const started = ctx.servers.start(owner).catch(() => undefined);
      await Promise.race([started, new Promise((resolve) => setTimeout(resolve, QUICK_START_MS).unref())]);
    }
    if (ctx.servers.view(owner).phase === 'running') res.redirect(302, next);
    else res.redirect(302, `${urls.spawnPending(owner.name)}?next=${encodeURIComponent(next)}`);
  });

  router.get('/spawn-pending/:name', loggedIn, (req, res) => {
    const viewer = identityOf(res) as Identity;
    const owner = targetUser(ctx, viewer, paramName(req), 'servers');
    const view = ctx.servers.view(owner);
    const next = safeNextUrl(req.query.next, urls) ?? urls.server(owner.name);
    if (view.phase === 'running') {
      res.redirect(302, next);
    } else if (view.phase === 'spawning') {
      res.type('html').send(spawnPendingPage(urls, { user: viewer.name, progressUrl: urls.progress(owner.name), next, announcement: ctx.settings.announcement() }));
    } else {
      sendNotRunning(res, view.failure ? 500 : 200, viewer, owner, view.failure, next);
    }
  });

  /**
   * `/user/<name>/…` reaches the hub (instead of the server) when the server has no route: it is
   * not running, or has only just become ready. Say so, or send the browser on.
   */
  router.all('/user/:name{/*rest}', (req, res) => {
    const path = req.originalUrl.slice(urls.hub().length - 1);
    const api = /(^|\/)api(\/|$)/.test(path) || req.accepts(['html', 'json']) === 'json';
    const viewer = identityOf(res);
    if (!viewer?.user) {
      if (api || req.method !== 'GET') throw new HttpError(403, 'Log in first.');
      res.redirect(302, urls.login(req.originalUrl));
      return;
    }
    const owner = targetUser(ctx, viewer, paramName(req), 'access:servers');
    const view = ctx.servers.view(owner);
    const serverPath = stripRedirectCount(`${urls.base}${path.slice(1)}`);
    if (view.phase === 'running') {
      const redirects = Number(new URL(req.originalUrl, 'http://x').searchParams.get('redirects') ?? 0);
      if (redirects >= MAX_REDIRECTS) throw new HttpError(500, 'Redirect loop detected.');
      // A plain-mode server is reached through the proxy's gate, with a cookie for that server.
      ctx.gate.admit(res, viewer, serverPath);
      res.redirect(302, `${serverPath}${serverPath.includes('?') ? '&' : '?'}redirects=${redirects + 1}`);
    } else if (api || req.method !== 'GET') {
      throw new HttpError(
        424,
        `Server no longer running at ${serverPath}. Restart the server at ${spawnUrl(owner.name, null)}`,
      );
    } else if (view.phase === 'spawning') {
      res.redirect(303, `${urls.spawnPending(owner.name)}?next=${encodeURIComponent(serverPath)}`);
    } else {
      sendNotRunning(res, 424, viewer, owner, view.failure, serverPath);
    }
  });

  router.get('/user-redirect{/*rest}', loggedIn, (req, res) => {
    const user = me(res);
    const rest = req.originalUrl.slice(urls.hub('user-redirect').length).replace(/^\/+/, '');
    res.redirect(302, spawnUrl(user.name, `${urls.server(user.name)}${rest}`));
  });

  /** The page saying `owner`'s server is not running (and why, if it failed), with a way to start it. */
  function sendNotRunning(res: Response, status: number, viewer: Identity, owner: UserRecord, failure: string | null, next: string): void {
    const page = notRunningPage(urls, { viewer: viewer.name, owner: owner.name, failure, spawnUrl: spawnUrl(owner.name, next), announcement: ctx.settings.announcement() });
    res.status(status).type('html').send(page);
  }

  function spawnUrl(user: string, next: string | null): string {
    const base = urls.hub(`spawn/${encodeURIComponent(user)}`);
    return next ? `${base}?next=${encodeURIComponent(next)}` : base;
  }

  return router;
}

/** The user a page is about: the viewer themself, or (with the scope) someone else; 404 otherwise. */
function targetUser(ctx: HubContext, viewer: Identity, name: string | undefined, scope: string): UserRecord {
  const self = viewer.user as UserRecord;
  if (name === undefined || name === self.name) return self;
  const owner = ctx.users.find(name);
  if (!owner || !hasScope(viewer.scopes, scope, { user: owner.name, server: `${owner.name}/` }, viewer.groupsOf)) {
    throw new HttpError(404, `No such user: ${name}`);
  }
  return owner;
}

function paramName(req: Request): string | undefined {
  const name: unknown = req.params.name;
  return typeof name === 'string' ? name : undefined;
}

function stripRedirectCount(url: string): string {
  const parsed = new URL(url, 'http://x');
  parsed.searchParams.delete('redirects');
  return `${parsed.pathname}${parsed.search}`;
}
