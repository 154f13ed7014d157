/**
 * The dashboard: where students join (address, QR code, class code) big enough to read from the
 * back of the room, live counts of who is in and whose server is up, the class list to import, the
 * message to the class, and whether students are kept apart from each other and from this computer
 * (and if not, what that means and how to fix it).
 */
import type { JoinState, JoinUrls } from '../api/types.js';
import { h, replaceChildren } from '../dom.js';
import { copyMessage, copyText } from '../ui/clipboard.js';
import { notify } from '../ui/notices.js';
import { fillPanel } from '../ui/panel.js';
import { announcementCard } from './announcement.js';
import { addressLabel, breakableUrl, chooseAddress, networkPicker, svgDataUrl } from './join-address.js';
import { isolationView } from './isolation.js';
import { openProjector } from './projector.js';
import { importRosterDialog } from './roster-import.js';
import type { Screen, ScreenContext } from './screen.js';

export function dashboardScreen(ctx: ScreenContext): Screen {
  const joinPanel = h('div', { class: 'join-panel' });
  const countsPanel = h('div', { class: 'counts-panel' });
  const isolationPanel = h('div', { class: 'isolation-panel' });
  const importButton = h('button', { type: 'button', class: 'primary' }, 'Import class list');
  const element = h(
    'section',
    { class: 'screen dashboard', attrs: { 'aria-labelledby': 'dashboard-title' } },
    h('h1', { id: 'dashboard-title', tabIndex: -1 }, 'Dashboard'),
    isolationPanel,
    h(
      'div',
      { class: 'dashboard-grid' },
      h('section', { class: 'card join-card', attrs: { 'aria-labelledby': 'join-title' } }, h('h2', { id: 'join-title' }, 'Students join at'), joinPanel),
      h('section', { class: 'card', attrs: { 'aria-labelledby': 'counts-title' } }, h('h2', { id: 'counts-title' }, 'Right now'), countsPanel),
      h(
        'section',
        { class: 'card class-card', attrs: { 'aria-labelledby': 'class-title' } },
        h('h2', { id: 'class-title' }, 'Your class'),
        h('p', null, 'Import the class list your school system exports: every student gets an account and a login card to print.'),
        h('div', { class: 'actions' }, importButton, h('a', { href: '#/users', class: 'button secondary' }, 'Students')),
      ),
      announcementCard(ctx),
    ),
  );
  // The new students' login cards replace this page; the sheet links back.
  importButton.onclick = () => void importRosterDialog(ctx.api, (cardsUrl) => window.location.assign(cardsUrl));

  const renderCounts = () => replaceChildren(countsPanel, countsView(ctx));
  ctx.live.subscribe((change) => {
    if (change.kind === 'counts' || change.kind === 'connection') renderCounts();
  });
  renderCounts();

  const loadJoin = () =>
    fillPanel(joinPanel, 'The join address', async () => {
      const [urls, join] = await Promise.all([
        ctx.api.get<JoinUrls>('/lectern/join-urls'),
        // The class code is a bonus here: its absence must not hide the address.
        ctx.api.get<JoinState>('/lectern/join').catch(() => null),
      ]);
      return joinView(ctx, urls, join, loadJoin);
    });

  return {
    title: 'Dashboard',
    element,
    show: () => {
      void loadJoin();
      void fillPanel(isolationPanel, 'Whether students are kept apart', () => isolationView(ctx.api));
    },
    hide: () => {},
  };
}

function joinView(ctx: ScreenContext, urls: JoinUrls, join: JoinState | null, reload: () => void): HTMLElement[] {
  const chosen = chooseAddress(urls);
  if (!chosen) {
    return [
      h(
        'p',
        { class: 'problem', attrs: { role: 'alert' } },
        'This computer is not on a network students can reach. Connect it to the classroom’s Wi-Fi or network cable, then ',
        h('button', { type: 'button', class: 'link', onclick: reload }, 'look again'),
        '.',
      ),
    ];
  }
  const code = join?.mode === 'join-code' ? join.code : null;
  const urlText = h('span', { class: 'join-url-text' }, breakableUrl(chosen.url));
  const copyButton = h('button', { type: 'button', class: 'secondary' }, 'Copy join address');
  copyButton.onclick = async () => notify(copyMessage(await copyText(chosen.url, urlText)));
  const projectorButton = h('button', { type: 'button', class: 'primary' }, 'Show on projector');
  projectorButton.onclick = () => openProjector(chosen, code, ctx.live);

  return [
    chosen.kind === 'loopback'
      ? h(
          'p',
          { class: 'problem', attrs: { role: 'alert' } },
          'Lectern listens on this computer only, so students cannot reach it. On the Settings screen, set “Listening address” to 0.0.0.0, then restart Lectern.',
        )
      : null,
    h('p', { class: 'join-url' }, urlText),
    h('img', { class: 'qr', src: svgDataUrl(chosen.qrSvg), alt: `QR code that opens ${chosen.url}`, width: 320, height: 320 }),
    code ? h('p', { class: 'join-code' }, 'Class code: ', h('strong', null, code)) : null,
    h('div', { class: 'actions' }, copyButton, projectorButton),
    urls.addresses.length > 1 ? networkPicker(ctx.api, urls, chosen, reload) : h('p', { class: 'hint' }, addressLabel(chosen)),
    urls.nameUrl
      ? h(
          'p',
          { class: 'hint name-url' },
          'Also at ',
          h('strong', null, urls.nameUrl),
          ' on networks that know this computer’s name: it stays the same when the address changes.',
        )
      : null,
    urls.serverPorts ? h('p', { class: 'hint server-ports' }, serverPortsHint(urls.serverPorts)) : null,
  ].filter((part): part is HTMLElement => part !== null);
}

/** Each student's server opens on a port of its own: what a firewall between students and this computer must let through. */
function serverPortsHint(ports: string): string {
  const which = ports === '0' ? 'a port the system chooses' : `one of the ports ${ports.replace('-', '–')}`;
  return `Each student’s server opens at this address on ${which}, so that no student’s page can act as you. A firewall must let those through too.`;
}

function countsView(ctx: ScreenContext): HTMLElement[] {
  const { counts, connection } = ctx.live;
  const value = (n: number | undefined) => (n === undefined ? '—' : String(n));
  const item = (label: string, n: number | undefined, extra: string[] = [], href?: string) =>
    h(
      'div',
      { class: ['count', ...extra] },
      h('dt', null, href && n ? h('a', { href }, label) : label),
      h('dd', null, value(n)),
    );
  const list = h(
    'dl',
    { class: 'counts' },
    item('Signed in', counts?.signedIn),
    item('Servers running', counts?.running, ['count-running']),
    item('Starting', counts?.starting, ['count-starting']),
    item('Failed to start', counts?.failed, counts?.failed ? ['count-failed'] : [], '#/servers'),
    counts?.pendingApproval ? item('Waiting for approval', counts.pendingApproval, ['count-pending'], '#/users') : null,
    item('Accounts', counts?.users),
  );
  const note =
    connection === 'unavailable'
      ? h('p', { class: 'unavailable' }, 'Live counts are not available in this version of Lectern.')
      : connection === 'reconnecting'
        ? h('p', { class: 'hint' }, 'Reconnecting to Lectern… the counts may be out of date.')
        : null;
  return note ? [list, note] : [list];
}
