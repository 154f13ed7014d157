/**
 * Copying the join address. In the desktop app the main process does it (`lecternDesktop.copyText`);
 * in a browser `navigator.clipboard` works only in a secure context (HTTPS or localhost), which a
 * teacher's tablet on plain-HTTP LAN is not, so there the text is selected for Ctrl+C instead.
 */

interface LecternDesktop {
  copyText(text: string): Promise<void>;
  openDataFolder(): Promise<void>;
  about(): Promise<{ version: string; platform: string }>;
}

declare global {
  interface Window {
    /** Present in Lectern's desktop window only (its preload script). */
    lecternDesktop?: LecternDesktop;
  }
}

export type CopyOutcome = 'copied' | 'selected';

/** Copies `text`; when no clipboard is reachable, selects `shown` (the element showing it) instead. */
export async function copyText(text: string, shown: HTMLElement): Promise<CopyOutcome> {
  try {
    if (window.lecternDesktop) {
      await window.lecternDesktop.copyText(text);
      return 'copied';
    }
    if (window.isSecureContext && navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return 'copied';
    }
  } catch {
    // Refused (no permission, window not focused): fall back to selecting.
  }
  const range = document.createRange();
  range.selectNodeContents(shown);
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
  return 'selected';
}

/** What to tell the teacher after `copyText`. */
export function copyMessage(outcome: CopyOutcome): string {
  return outcome === 'copied'
    ? 'Join address copied.'
    : 'The address is selected: press Ctrl+C (⌘C on a Mac) to copy it. This browser only copies by itself on a secure (HTTPS) page.';
}
