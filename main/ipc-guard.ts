/**
 * Every IPC handler checks who is calling before it does anything: the message must come from the
 * teacher's window, from its top frame, showing a page of the hub. A page that got into the window
 * some other way (a frame, a redirect elsewhere) gets nothing. Argument checks are each handler's.
 */
import type { IpcMainInvokeEvent } from 'electron';

/** The parts of an IPC event the check reads; Electron's `IpcMainInvokeEvent` has them. */
export type IpcCaller = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;

export interface TrustedWindow {
  /** `webContents.id` of the teacher's window. */
  webContentsId: number;
  /** The hub's origin, e.g. `http://127.0.0.1:8000`. */
  hubOrigin: string;
}

export class UntrustedSenderError extends Error {
  override readonly name = 'UntrustedSenderError';
}

export function isTrustedCaller(event: IpcCaller, trusted: TrustedWindow | undefined): boolean {
  if (trusted === undefined || event.sender.id !== trusted.webContentsId) return false;
  const frame = event.senderFrame;
  // Only the top frame: a frame inside the page is not the page.
  if (frame === null || frame.parent !== null) return false;
  try {
    return new URL(frame.url).origin === trusted.hubOrigin;
  } catch {
    return false;
  }
}

/**
 * Wraps an `ipcMain.handle` handler so it runs only for the trusted window; `trusted` is read at
 * each call (the window and the hub's address exist only once started).
 */
export function guarded<Args extends unknown[], Result>(
  trusted: () => TrustedWindow | undefined,
  handler: (...args: Args) => Result,
): (event: IpcCaller, ...args: Args) => Result {
  return (event, ...args) => {
    if (!isTrustedCaller(event, trusted())) throw new UntrustedSenderError('Refused: this request did not come from the Lectern window.');
    return handler(...args);
  };
}
