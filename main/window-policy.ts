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

/**
 * The window's renderer: no Node, isolated from the preload, sandboxed, no <webview>. The preload
 * (`preload.cts`) is the only bridge, and exposes a few named functions.
 */
export function windowWebPreferences(preload: string): WebPreferences {
  return {
    preload,
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
