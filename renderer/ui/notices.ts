/**
 * Short messages after an action ("Ada's server is stopping."), in one live region that screen
 * readers announce. Errors stay until dismissed, since a teacher walking the room may look back
 * only later; confirmations fade after a few seconds.
 */
import { h } from '../dom.js';

const CONFIRMATION_MS = 6_000;
/** More than this at once and the oldest confirmation makes way: the notices must not cover the page. */
const MAX_SHOWN = 3;

let area: HTMLElement | null = null;

export function mountNotices(element: HTMLElement): void {
  area = element;
}

export function notify(message: string): void {
  show(message, 'info');
}

export function notifyError(message: string): void {
  show(message, 'error');
}

function show(message: string, kind: 'info' | 'error'): void {
  if (!area) return;
  const notice = h(
    'div',
    { class: ['notice', `notice-${kind}`] },
    h('p', null, message),
    h('button', { type: 'button', class: 'quiet', onclick: () => notice.remove(), attrs: { 'aria-label': 'Dismiss' } }, '×'),
  );
  area.append(notice);
  const shown = [...area.children];
  for (const old of shown.filter((element) => element.classList.contains('notice-info')).slice(0, Math.max(0, shown.length - MAX_SHOWN))) old.remove();
  if (kind === 'info') setTimeout(() => notice.remove(), CONFIRMATION_MS);
}
