/**
 * The student-facing pages: login, home, the spawn progress page and error pages. Small, readable
 * on a phone, and free of inline scripts so the Content-Security-Policy can forbid them.
 */
import type { Announcement } from '../../store/settings.js';
import type { HubUrls } from '../urls.js';
import { html, type SafeHtml } from '../../html/html.js';

interface PageOptions {
  title: string;
  body: SafeHtml;
  urls: HubUrls;
  user?: string | undefined;
  script?: string;
  /** A page's own stylesheet (under static/), after lectern.css so it can widen or restyle. */
  stylesheet?: string;
  /** Reload `url` after `seconds`, without script (a page waiting for something to happen). */
  refresh?: { seconds: number; url: string };
  /** The teacher's message to the class, above the page's own content. */
  announcement?: Announcement | null;
}

export function layout({ title, body, urls, user, script, stylesheet, refresh, announcement }: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Lectern</title>
${refresh ? html`<meta http-equiv="refresh" content="${String(refresh.seconds)}; url=${refresh.url}">` : ''}
<link rel="stylesheet" href="${urls.hub('static/lectern.css')}">
${stylesheet ? html`<link rel="stylesheet" href="${urls.hub(`static/${stylesheet}`)}">` : ''}
${script ? html`<script src="${urls.hub(`static/${script}`)}" defer></script>` : ''}
</head>
<body>
<header class="bar">
  <a class="brand" href="${urls.hub('home')}">Lectern</a>
  ${user ? html`<span class="who">${user}</span> <a href="${urls.hub('logout')}">Log out</a>` : ''}
</header>
<main>
${announcement ? announcementBanner(announcement) : ''}
${body}
</main>
</body>
</html>
`.value;
}

function announcementBanner(announcement: Announcement): SafeHtml {
  return html`<aside class="card announcement" role="status" aria-label="Message from your teacher">
  <p class="announcement-message"><strong>From your teacher:</strong> ${announcement.message}</p>
  ${announcement.link ? html`<p><a class="button" href="${announcement.link}" rel="noopener">Open</a></p>` : ''}
</aside>`;
}

export interface LoginPageOptions {
  next: string | null;
  error?: string;
  username?: string;
  /** The sign-up page, when students may join with a class code. */
  joinUrl?: string | null;
  /** First-use mode: a student's first password becomes theirs, which the page says. */
  firstUse?: boolean;
}

export function loginPage(urls: HubUrls, options: LoginPageOptions): string {
  const action = options.next ? urls.login(options.next) : urls.login();
  return layout({
    title: 'Log in',
    urls,
    body: html`<form class="card" method="post" action="${action}">
  <h1>Log in</h1>
  ${options.firstUse ? html`<p>First time here? Type your username and the password you want: it becomes yours.</p>` : ''}
  ${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" autocapitalize="none" autocorrect="off"
    spellcheck="false" required autofocus value="${options.username ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Log in</button>
  <p><a href="${options.next ? `${urls.hub('card')}?next=${encodeURIComponent(options.next)}` : urls.hub('card')}">I have a login card</a></p>
  ${options.joinUrl ? html`<p>New to this class? <a href="${options.joinUrl}">Join with a class code</a></p>` : ''}
</form>`,
  });
}

export interface HomeView {
  user: string;
  state: 'running' | 'starting' | 'stopping' | 'stopped';
  serverUrl: string;
  failure: string | null;
  /** Something to know about the running server (a kernel stopped for using too much memory). */
  notice: string | null;
  /** The teacher dashboard, for those allowed to open it; null for everyone else. */
  dashboardUrl: string | null;
  announcement: Announcement | null;
  /** How many handouts the student has. */
  handouts: number;
}

export function homePage(urls: HubUrls, view: HomeView): string {
  const label = { running: 'Running', starting: 'Starting…', stopping: 'Stopping…', stopped: 'Not running' }[view.state];
  return layout({
    title: 'Home',
    urls,
    user: view.user,
    announcement: view.announcement,
    script: 'home.js',
    body: html`<section class="card" id="server" data-user="${view.user}" data-api="${urls.api(`users/${encodeURIComponent(view.user)}/server`)}">
  <h1>My server</h1>
  <p>Status: <strong id="server-state">${label}</strong></p>
  ${view.failure ? html`<p class="error" role="alert">${view.failure}</p>` : ''}
  ${view.notice ? html`<p class="error" role="status">${view.notice}</p>` : ''}
  <div class="actions">
    ${view.state === 'running' ? html`<a class="button" href="${view.serverUrl}">Open my server</a>` : ''}
    ${view.state === 'stopped' ? html`<a class="button" href="${urls.hub('spawn')}">Start my server</a>` : ''}
    ${view.state === 'starting' ? html`<a class="button" href="${urls.spawnPending(view.user)}">Show progress</a>` : ''}
    ${view.state === 'running' ? html`<button type="button" class="secondary" id="stop-server">Stop my server</button>` : ''}
  </div>
  ${view.handouts > 0 ? html`<p><a class="button secondary" href="${urls.hub('handouts')}">My handouts (${view.handouts})</a> to hand in your work</p>` : ''}
  <p><a href="${urls.hub('change-password')}">Change password</a></p>
  ${view.dashboardUrl ? html`<p><a href="${view.dashboardUrl}">Teacher dashboard</a></p>` : ''}
</section>`,
  });
}

export function spawnPendingPage(
  urls: HubUrls,
  view: { user: string; progressUrl: string; next: string; announcement: Announcement | null },
): string {
  return layout({
    title: 'Starting your server',
    urls,
    user: view.user,
    announcement: view.announcement,
    script: 'spawn-pending.js',
    body: html`<section class="card" id="progress" data-progress-url="${view.progressUrl}" data-next="${view.next}">
  <h1>Starting your server</h1>
  <p>Your Jupyter server is starting. This page moves on by itself when it is ready.</p>
  <progress id="progress-bar" max="100" value="0"></progress>
  <p id="progress-message" aria-live="polite">Server requested</p>
  <p class="error" id="progress-error" role="alert" hidden></p>
  <p><a id="retry" class="button" href="${urls.hub('spawn')}" hidden>Try again</a></p>
</section>`,
  });
}

/** A server that is not running: why (if it failed) and a way to start it. */
export function notRunningPage(
  urls: HubUrls,
  view: { viewer: string; owner: string; failure: string | null; spawnUrl: string; announcement: Announcement | null },
): string {
  const own = view.viewer === view.owner;
  return layout({
    title: 'Server not running',
    urls,
    user: view.viewer,
    announcement: view.announcement,
    body: html`<section class="card">
  <h1>${own ? 'Your server is not running' : html`${view.owner}'s server is not running`}</h1>
  ${view.failure ? html`<p class="error" role="alert">${view.failure}</p>` : ''}
  <p class="actions"><a class="button" href="${view.spawnUrl}">${own ? 'Start my server' : 'Start the server'}</a>
  <a href="${urls.hub('home')}">Go to your home page</a></p>
</section>`,
  });
}

export function oauthConfirmPage(urls: HubUrls, view: { viewer: string; description: string }): string {
  return layout({
    title: 'Authorize access',
    urls,
    user: view.viewer,
    body: html`<form class="card" method="post" action="">
  <h1>Open ${view.description}?</h1>
  <p>You are about to open a server that belongs to someone else, as <strong>${view.viewer}</strong>.
  Pages it serves will run in your browser.</p>
  <button type="submit">Authorize</button>
  <a href="${urls.hub('home')}">Cancel</a>
</form>`,
  });
}

export function errorPage(urls: HubUrls, status: number, message: string): string {
  return layout({
    title: `Error ${status}`,
    urls,
    body: html`<section class="card">
  <h1>${status === 404 ? 'Page not found' : `Error ${status}`}</h1>
  <p>${message}</p>
  <p><a href="${urls.hub('home')}">Go to your home page</a></p>
</section>`,
  });
}
