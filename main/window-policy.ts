/**
 * What the teacher's window may load and open. The window shows the hub's own pages and nothing
 * else: a link elsewhere (the documentation, a student's notebook opened "in the browser") goes to
 * the OS's browser, and anything that is not http(s) is refused. Pure, so it is tested without
 * Electron; `main.ts` applies it to `will-navigate`, `setWindowOpenHandler` and `will-attach-webview`.
 */
import type { WebPreferences } from 'electron';

export type NavigationDecision = 'allow' | 'open-in-browser' | 'deny';

/** Where `url` may go, seen from a window that shows the hub at `hubOrigin` (`http://127.0.0.1:8000`). */
export function decideNavigation(url: string, hubOrigin: string): NavigationDecision {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return 'deny';
  }
  if (target.origin === hubOrigin) return 'allow';
  return target.protocol === 'https:' || target.protocol === 'http:' ? 'open-in-browser' : 'deny';
}

export type WindowOpenDecision = 'app-window' | 'open-in-browser' | 'deny';

/**
 * Where a link opened in a new window goes, seen from the hub at `hubUrl` (`http://127.0.0.1:8000/`,
 * with its base path): the hub's own pages (a sheet of login cards, a student's work) open in an
 * app window, which shares the teacher's login; other web pages, a student's server among them,
 * open in the OS's browser, where the teacher is not logged in.
 */
export function decideWindowOpen(url: string, hubUrl: string): WindowOpenDecision {
  if (decideNavigation(url, new URL(hubUrl).origin) === 'deny') return 'deny';
  // The URL parser has resolved any `..`: the path is where the request will go.
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`.startsWith(`${hubUrl}hub/`) ? 'app-window' : 'open-in-browser';
}

/**
 * The window's renderer: no Node, isolated from the preload, sandboxed, no <webview>. The preload
 * (`preload.cts`) is the only bridge, and exposes a few named functions; app windows opened from
 * the hub's pages have none.
 */
export function windowWebPreferences(preload?: string): WebPreferences {
  return {
    ...(preload ? { preload } : {}),
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}
