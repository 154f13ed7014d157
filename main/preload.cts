/**
 * The only bridge between the teacher's window and the desktop app: a few named functions on
 * `window.lecternDesktop`, each one IPC call that the main process checks (`ipc-guard.ts`). The
 * page never gets `ipcRenderer` itself. The same GUI runs in a plain browser, where
 * `window.lecternDesktop` is absent and it does without.
 *
 * A sandboxed preload cannot load the app's other modules, so the channel names are written out
 * here; a unit test checks they match `DESKTOP_CHANNELS` in `desktop-channels.ts`.
 */
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('lecternDesktop', {
  /** Puts `text` (the join address) on the clipboard. */
  copyText: (text: string): Promise<void> => ipcRenderer.invoke('lectern:copy-text', String(text)),
  /** Opens the folder with students' notebooks and logs in the OS's file manager. */
  openDataFolder: (): Promise<void> => ipcRenderer.invoke('lectern:open-data-folder'),
  /** The app's version, and the OS it runs on. */
  about: (): Promise<{ version: string; platform: string }> => ipcRenderer.invoke('lectern:about'),
});
