/**
 * A student server's log (`GET /hub/api/lectern/users/{name}/server/log`), the last lines of what
 * Jupyter printed: where a failed start explains itself. With "Follow" on it is read again when
 * that server changes and every few seconds — only while the panel is open.
 */
import { errorMessage, type HubApi } from '../api/client.js';
import { h, uniqueId } from '../dom.js';
import { userPath } from './user-actions.js';

const LOG_LINES = 200;
const FOLLOW_INTERVAL_MS = 4_000;

export interface LogPanel {
  element: HTMLElement;
  /** Which server it shows: `{ user, name }`, or null while closed. */
  readonly showing: { user: string; name: string } | null;
  open(user: string, name: string): void;
  close(): void;
  /** The server shown changed phase: read the log again if following. */
  serverChanged(): void;
}

export function logPanel(api: HubApi): LogPanel {
  const titleId = uniqueId('log-title');
  const title = h('h2', { id: titleId }, 'Log');
  const follow = h('input', { type: 'checkbox', checked: true });
  const status = h('p', { class: 'hint', attrs: { 'aria-live': 'polite' } });
  const text = h('pre', { class: 'log', tabIndex: 0, attrs: { 'aria-labelledby': titleId } });
  const refresh = h('button', { type: 'button', class: 'secondary small' }, 'Read again');
  const closeButton = h('button', { type: 'button', class: 'secondary small' }, 'Close log');
  const element = h(
    'section',
    { class: 'card log-panel', hidden: true, attrs: { 'aria-labelledby': titleId } },
    h('div', { class: 'log-head' }, title, h('label', { class: 'check' }, follow, ' Follow'), refresh, closeButton),
    status,
    text,
  );

  let showing: { user: string; name: string } | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  let inFlight = false;

  const read = async () => {
    if (!showing || inFlight) return;
    const target = showing;
    inFlight = true;
    try {
      const path = target.name ? `/servers/${encodeURIComponent(target.name)}/log` : '/server/log';
      const log = await api.get<string>(`/lectern${userPath(target.user, path)}?lines=${LOG_LINES}`);
      if (showing !== target) return;
      const atBottom = text.scrollTop + text.clientHeight >= text.scrollHeight - 8;
      text.textContent = log || 'The log is empty: the server has printed nothing yet.';
      if (follow.checked && atBottom) text.scrollTop = text.scrollHeight;
      status.textContent = `Last ${LOG_LINES} lines, read at ${new Date().toLocaleTimeString()}.`;
    } catch (error) {
      if (showing === target) status.textContent = `The log could not be read: ${errorMessage(error)}`;
    } finally {
      inFlight = false;
    }
  };

  const setTimer = () => {
    clearInterval(timer);
    timer = showing && follow.checked ? setInterval(() => void read(), FOLLOW_INTERVAL_MS) : undefined;
  };

  follow.onchange = () => {
    setTimer();
    if (follow.checked) void read();
  };
  refresh.onclick = () => void read();

  const panel: LogPanel = {
    element,
    get showing() {
      return showing;
    },
    open(user, name) {
      showing = { user, name };
      title.textContent = `Log of ${user}’s ${name ? `server “${name}”` : 'server'}`;
      text.textContent = '';
      status.textContent = 'Reading…';
      element.hidden = false;
      setTimer();
      void read().then(() => {
        text.scrollTop = text.scrollHeight;
      });
      text.focus();
    },
    close() {
      showing = null;
      clearInterval(timer);
      element.hidden = true;
    },
    serverChanged() {
      if (follow.checked) void read();
    },
  };
  closeButton.onclick = () => panel.close();
  return panel;
}
