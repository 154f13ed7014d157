/**
 * The teacher GUI: one page at `<base>hub/admin`, in the teacher's browser or tablet and in the
 * desktop app's window alike. It talks to the hub only through the REST API and the event stream,
 * never anything the browser could not also do for the teacher.
 */
import { ApiError, errorMessage, HubApi, hubBaseUrl } from './api/client.js';
import type { WhoAmI } from './api/types.js';
import { h, replaceChildren } from './dom.js';
import { LiveState } from './live/live-state.js';
import { dashboardScreen } from './screens/dashboard.js';
import { handoutsScreen } from './screens/handouts.js';
import { serversScreen } from './screens/servers.js';
import { settingsScreen } from './screens/settings.js';
import { transferScreen } from './screens/transfer.js';
import { usersScreen } from './screens/users.js';
import { startShell } from './shell.js';
import { closeMenusWhenDone } from './ui/menus.js';
import { mountNotices } from './ui/notices.js';

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}: is index.html from the same build as app.js?`);
  return found;
}

async function main(): Promise<void> {
  const api = new HubApi(hubBaseUrl());
  const main = element('screen');
  const banner = element('banner');
  const loginUrl = api.hubPath(`hub/login?next=${encodeURIComponent(location.pathname + location.hash)}`);
  const signedOut = () => {
    banner.hidden = false;
    replaceChildren(banner, 'Your login has ended, so nothing here can change. ', h('a', { href: loginUrl }, 'Log in again'));
  };

  let me: WhoAmI;
  try {
    me = await api.get<WhoAmI>('/user');
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      location.assign(loginUrl);
      return;
    }
    replaceChildren(main, h('p', { class: 'problem', attrs: { role: 'alert' } }, errorMessage(error)));
    return;
  }
  api.onSignedOut = signedOut;
  mountNotices(element('notices'));
  closeMenusWhenDone(document);

  const live = new LiveState(api);
  live.connect();
  window.addEventListener('pagehide', () => live.close());

  startShell(
    { api, live, me },
    { nav: element('nav'), main, connection: element('connection'), account: element('account') },
    { dashboard: dashboardScreen, users: usersScreen, servers: serversScreen, handouts: handoutsScreen, settings: settingsScreen, export: transferScreen },
  );
}

void main();
