/**
 * The desktop app's main process: the same hub as `lectern start`, started in this process, with a
 * window showing the teacher dashboard (`/hub/admin`, logged in as the first admin), a tray icon with
 * the join address, and a quit that stops every student's server first.
 *
 * Thin on purpose: what the window may load, which IPC callers are trusted, how quitting goes and
 * what the tray shows are decided by the pure, tested modules beside this one; this file wires them
 * to Electron. Closing the window only hides it (the class goes on); quitting is the tray's "Quit",
 * the app menu or Cmd-Q, a signal, or the OS shutting down.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, clipboard, dialog, ipcMain, Menu, nativeImage, powerMonitor, session, shell, Tray, type WebContents } from 'electron';
import { loadConfig } from '../server/config/load.js';
import type { LecternConfig } from '../server/config/schema.js';
import { startHub, type RunningHub, type StartOptions } from '../server/index.js';
import { createLogger, type Logger } from '../server/logging/logger.js';
import { installRoot, lecternVersion } from '../server/package-info.js';
import { DESKTOP_CHANNELS } from './desktop-channels.js';
import { guarded, type TrustedWindow } from './ipc-guard.js';
import { QuitController, quitQuestion } from './quit.js';
import { trayMenuTemplate, trayTooltip, type TrayActions, type TrayState } from './tray-menu.js';
import { decideNavigation, decideWindowOpen, windowWebPreferences } from './window-policy.js';

/** How often the tray's join address and server count are brought up to date. */
const TRAY_REFRESH_MS = 3_000;
/** The longest text the window may put on the clipboard: a join address, not a document. */
const MAX_COPIED_TEXT = 2_000;

const here = dirname(fileURLToPath(import.meta.url));
const icons = join(installRoot, 'assets', 'icons');

let hub: RunningHub | undefined;
/** Set while the hub restarts (a teacher applied settings read only at start). */
let restarting: Promise<void> | undefined;
let window: BrowserWindow | undefined;
let log: Logger = createLogger({ level: 'info' });

const quitter = new QuitController({
  activeServers: () => hub?.activeStudentServers() ?? 0,
  confirm: async (activeServers) => {
    const question = quitQuestion(activeServers);
    const options = { type: 'question' as const, ...question, defaultId: 1, cancelId: 1, noLink: true };
    const shown = showWindow();
    const { response } = await (shown ? dialog.showMessageBox(shown, options) : dialog.showMessageBox(options));
    return response === 0;
  },
  stopHub: async () => {
    await restarting;
    await hub?.dispose();
  },
  exit: (code) => app.exit(code),
  log: (message) => log.info(message),
});

if (!app.requestSingleInstanceLock()) {
  // Another Lectern runs on this account: it owns the data folder and the port. It shows its window.
  app.exit(0);
} else {
  // Every renderer sandboxed, whatever a window's own preferences say.
  app.enableSandbox();
  app.on('second-instance', () => void showWindow());
  app.on('activate', () => void showWindow());
  // The window is only ever hidden; should it be gone, the class still goes on from the tray.
  app.on('window-all-closed', () => {});
  app.on('before-quit', (event) => {
    if (quitter.requestQuit()) event.preventDefault();
  });
  app.on('web-contents-created', (_event, contents) => lockDown(contents));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => quitter.requestQuit({ ask: false }));
  void app.whenReady().then(start);
}

async function start(): Promise<void> {
  powerMonitor.on('shutdown', () => quitter.requestQuit({ ask: false }));
  // The hub's pages need no camera, microphone, notifications or anything else a site may ask for.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  Menu.setApplicationMenu(applicationMenu());
  const tray = createTray();

  let config: LecternConfig;
  try {
    config = (await loadConfig()).config;
    log = createLogger({ level: config.logLevel });
    hub = await startHub(config, hubOptions(config));
  } catch (error) {
    // Config mistakes, a busy port, another hub on the data folder: each says what to do.
    dialog.showErrorBox('Lectern could not start', (error as Error).message);
    app.exit(1);
    return;
  }
  registerIpcHandlers(config);
  tray.refresh();
  setInterval(tray.refresh, TRAY_REFRESH_MS).unref();
  // Without the window the class still runs, and the dashboard opens in any browser.
  await openWindow(hub).catch((error: Error) => dialog.showErrorBox('Lectern could not open its window', error.message));
  await showFirstAccounts(hub);
}

function hubOptions(config: LecternConfig): StartOptions {
  return { log, onShutdownRequest: () => quitter.requestQuit({ ask: false }), onRestartRequest: () => void restartHub(config) };
}

/**
 * Stops the hub and starts it again with the saved settings, as a teacher asked on the settings
 * page. The window's page waits for the new hub by itself; it is sent there only when the address
 * changed (a new port).
 */
async function restartHub(config: LecternConfig): Promise<void> {
  const previous = hub;
  if (!previous || restarting || quitter.state !== 'running') return;
  restarting = (async () => {
    log.info('restarting the hub to apply new settings');
    await previous.dispose();
    hub = undefined;
    try {
      hub = await startHub(config, hubOptions(config));
    } catch (error) {
      dialog.showErrorBox('Lectern could not restart', (error as Error).message);
      app.exit(1);
      return;
    }
    if (window && !window.isDestroyed() && new URL(hub.url).origin !== new URL(previous.url).origin) {
      await window.loadURL(await hub.desktopLoginUrl()).catch((error: Error) => log.debug(`the window after a restart: ${error.message}`));
    }
  })().finally(() => {
    restarting = undefined;
  });
  await restarting;
}

/**
 * On the very first start the hub creates the teacher's account with a generated password. The
 * window logs the teacher in by itself, but a tablet or another browser needs that password: show
 * it once, as `lectern start` prints it.
 */
async function showFirstAccounts(running: RunningHub): Promise<void> {
  if (running.initialAccounts.length === 0) return;
  const accounts = running.initialAccounts.map((account) => `${account.name}: ${account.password}`).join('\n');
  const options = {
    type: 'info' as const,
    message: 'Your teacher account',
    detail:
      `${accounts}\n\nThis window logs you in by itself. To open the dashboard on a tablet or in another ` +
      'browser, log in with this name and password. It is shown only this once: write it down, or choose ' +
      `your own at ${running.url}hub/change-password.`,
    buttons: ['Copy password', 'OK'],
    defaultId: 1,
    noLink: true,
  };
  const shown = showWindow();
  const { response } = await (shown ? dialog.showMessageBox(shown, options) : dialog.showMessageBox(options));
  if (response === 0) clipboard.writeText(running.initialAccounts[0]?.password ?? '');
}

/**
 * Applied to every web contents the app creates (the window, and anything it might spawn):
 * navigation stays on the hub, other http(s) pages open in the OS's browser, new windows only for
 * the hub's own pages, no <webview>.
 */
function lockDown(contents: WebContents): void {
  const guard = (event: { preventDefault(): void }, url: string) => {
    const decision = hub ? decideNavigation(url, new URL(hub.url).origin) : 'deny';
    if (decision === 'allow') return;
    event.preventDefault();
    if (decision === 'open-in-browser') void shell.openExternal(url);
  };
  contents.on('will-navigate', (event) => guard(event, event.url));
  contents.on('will-redirect', (event) => guard(event, event.url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const decision = hub ? decideWindowOpen(url, hub.url) : 'deny';
    if (decision === 'app-window') {
      // Printing cards or reading a student's work happens here, logged in; this window is locked down too.
      return {
        action: 'allow',
        overrideBrowserWindowOptions: { width: 1000, height: 800, autoHideMenuBar: true, icon: join(icons, 'icon.png'), webPreferences: windowWebPreferences() },
      };
    }
    if (decision === 'open-in-browser') void shell.openExternal(url);
    return { action: 'deny' };
  });
}

async function openWindow(running: RunningHub): Promise<void> {
  const created = new BrowserWindow({
    width: 1200,
    height: 820,
    minWidth: 720,
    minHeight: 520,
    title: 'Lectern',
    icon: join(icons, 'icon.png'),
    show: false,
    webPreferences: windowWebPreferences(join(here, 'preload.cjs')),
  });
  window = created;
  created.once('ready-to-show', () => created.show());
  created.on('close', (event) => {
    // Closing hides: students keep working, and the tray brings the window back. Only a quit closes it.
    if (quitter.state !== 'running') return;
    event.preventDefault();
    created.hide();
  });
  // Windows logging off or shutting down: nobody is there to answer a question.
  created.on('session-end', () => quitter.requestQuit({ ask: false }));
  const loginUrl = await running.desktopLoginUrl();
  // The login page moves on by itself (to the dashboard), which may cut this first load short.
  await created.loadURL(loginUrl).catch((error: Error) => log.debug(`the window's first page: ${error.message}`));
}

/** Brings the window to the front; undefined while the hub is still starting. */
function showWindow(): BrowserWindow | undefined {
  if (!window || window.isDestroyed()) return undefined;
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
  return window;
}

function createTray(): { refresh(): void } {
  const tray = new Tray(nativeImage.createFromPath(join(icons, 'tray.png')));
  const actions: TrayActions = {
    showWindow: () => void showWindow(),
    copyJoinUrl: () => {
      const url = joinUrl();
      if (url) clipboard.writeText(url);
    },
    openInBrowser: () => {
      const url = joinUrl();
      if (url) void shell.openExternal(url);
    },
    stopAllServers: () => void stopAllServers(),
    quit: () => app.quit(),
  };
  let shown: string | undefined;
  const refresh = () => {
    const state: TrayState = { joinUrl: joinUrl(), activeServers: hub?.activeStudentServers() ?? 0 };
    const key = JSON.stringify(state);
    if (key === shown) return;
    shown = key;
    tray.setContextMenu(Menu.buildFromTemplate(trayMenuTemplate(state, actions)));
    tray.setToolTip(trayTooltip(state));
  };
  // Windows and Linux open the window on a click; macOS shows the menu, as menu bar icons do.
  if (process.platform !== 'darwin') tray.on('click', () => void showWindow());
  refresh();
  return { refresh };
}

/** What students type: the address chosen in the dashboard, or the likeliest; null before the hub runs. */
function joinUrl(): string | null {
  return hub ? (hub.joinUrls().preferred?.url ?? hub.url) : null;
}

async function stopAllServers(): Promise<void> {
  const active = hub?.activeStudentServers() ?? 0;
  if (!hub || active === 0) return;
  const options = {
    type: 'question' as const,
    message: active === 1 ? 'Stop the student server that is running?' : `Stop all ${active} student servers?`,
    detail: 'Students lose unsaved work in open notebooks. Their files stay, and they can start again.',
    buttons: ['Stop servers', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    noLink: true,
  };
  const shown = showWindow();
  const { response } = await (shown ? dialog.showMessageBox(shown, options) : dialog.showMessageBox(options));
  if (response === 0) await hub.stopStudentServers();
}

/** The preload's functions (`preload.cts`); each handler first checks the call comes from the window. */
function registerIpcHandlers(config: LecternConfig): void {
  const trusted = (): TrustedWindow | undefined =>
    window && !window.isDestroyed() && hub ? { webContentsId: window.webContents.id, hubOrigin: new URL(hub.url).origin } : undefined;
  ipcMain.handle(
    DESKTOP_CHANNELS.copyText,
    guarded(trusted, (text: unknown) => {
      if (typeof text !== 'string' || text.length > MAX_COPIED_TEXT) throw new Error(`copyText takes a text of at most ${MAX_COPIED_TEXT} characters.`);
      clipboard.writeText(text);
    }),
  );
  ipcMain.handle(
    DESKTOP_CHANNELS.openDataFolder,
    guarded(trusted, async () => {
      const problem = await shell.openPath(config.dataDir);
      if (problem) throw new Error(`Could not open the data folder ${config.dataDir}: ${problem}`);
    }),
  );
  ipcMain.handle(
    DESKTOP_CHANNELS.about,
    guarded(trusted, () => ({ version: lecternVersion, platform: process.platform })),
  );
}

/** macOS needs an Edit menu for copy and paste shortcuts to work; elsewhere the window has no menu bar. */
function applicationMenu(): Menu | null {
  if (process.platform !== 'darwin') return null;
  return Menu.buildFromTemplate([{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }]);
}
