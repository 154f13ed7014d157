/**
 * The frame around the screens: the tabs (hash routes, `#/users`, so reloading or bookmarking a
 * screen works and the hub serves one page), the connection indicator, and the signed-in teacher.
 * Screens are built the first time they are visited and kept, hidden, so a search or a half-filled
 * form survives a look at another screen.
 */
import { h, replaceChildren } from './dom.js';
import type { ConnectionState } from './live/live-state.js';
import type { Screen, ScreenContext, ScreenId } from './screens/screen.js';

export type ScreenFactory = (ctx: ScreenContext) => Screen;

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unavailable: 'Not live: reload to update',
};

export interface ShellElements {
  nav: HTMLElement;
  main: HTMLElement;
  connection: HTMLElement;
  account: HTMLElement;
}

export function startShell(ctx: ScreenContext, elements: ShellElements, factories: Record<ScreenId, ScreenFactory>): void {
  const built = new Map<ScreenId, Screen>();
  let current: { id: ScreenId; screen: Screen } | null = null;

  const screenFromHash = (): ScreenId => {
    const id = location.hash.replace(/^#\/?/, '').split('/')[0] ?? '';
    return id in factories ? (id as ScreenId) : 'dashboard';
  };

  const showScreen = (moveFocus: boolean) => {
    const id = screenFromHash();
    if (current?.id === id) return;
    current?.screen.hide();
    if (current) current.screen.element.hidden = true;
    let screen = built.get(id);
    if (!screen) {
      screen = factories[id](ctx);
      built.set(id, screen);
      elements.main.append(screen.element);
    }
    screen.element.hidden = false;
    current = { id, screen };
    document.title = `${screen.title} · Lectern`;
    for (const link of elements.nav.querySelectorAll<HTMLAnchorElement>('a[data-screen]')) {
      if (link.dataset.screen === id) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    screen.show();
    // After a tab is chosen, a screen reader continues at the new screen's heading.
    if (moveFocus) screen.element.querySelector<HTMLElement>('h1')?.focus();
  };

  const showConnection = () => {
    const state = ctx.live.connection;
    elements.connection.textContent = CONNECTION_TEXT[state];
    elements.connection.className = `connection connection-${state}`;
  };

  replaceChildren(elements.main);
  replaceChildren(
    elements.account,
    h('span', { class: 'who' }, ctx.me.name),
    ' ',
    // The teacher's own Jupyter (a demo on the projector), started only when they ask.
    h('a', { href: ctx.api.hubPath('hub/home') }, 'My server'),
    ' ',
    h('a', { href: ctx.api.hubPath('hub/logout') }, 'Log out'),
  );
  ctx.live.subscribe((change) => {
    if (change.kind === 'connection') showConnection();
  });
  showConnection();
  window.addEventListener('hashchange', () => showScreen(true));
  showScreen(false);
}
