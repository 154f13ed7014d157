/**
 * Users: every account in one searchable, sortable table, with what a teacher does to accounts —
 * add one, import a class list, let in sign-ups waiting for approval, reset a password, print
 * login cards — and the student's server state, kept live by the event stream.
 */
import { ApiError, errorMessage } from '../api/client.js';
import type { GroupModel, JoinState, UserModel } from '../api/types.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import type { LiveChange } from '../live/live-state.js';
import { serverStateOf, statusBadge, type ServerStatus } from '../live/server-status.js';
import { ago, exactTime, plural } from '../ui/format.js';
import { notifyError } from '../ui/notices.js';
import { problemView } from '../ui/panel.js';
import { sortableHead, sortRows, type Column, type SortOrder } from '../ui/sortable-table.js';
import { importRosterDialog } from './roster-import.js';
import type { Screen, ScreenContext } from './screen.js';
import {
  addUserDialog,
  approveSignUp,
  deleteUser,
  openLiveServer,
  printLoginCards,
  resetPassword,
  setAdmin,
  startServer,
  stopServer,
  viewWorkLink,
} from './user-actions.js';

const STATUS_ORDER: Record<ServerStatus, number> = { failed: 0, starting: 1, running: 2, stopping: 3, stopped: 4 };
/** Bursts of account changes (a roster import) become one reload. */
const RELOAD_DELAY_MS = 400;

interface RowParts {
  user: UserModel;
  statusCell: HTMLTableCellElement;
  toggle: HTMLButtonElement;
}

export function usersScreen(ctx: ScreenContext): Screen {
  const { api, live } = ctx;
  let users: UserModel[] = [];
  let groups: GroupModel[] = [];
  let join: JoinState | null = null;
  let order: SortOrder = { key: 'name', ascending: true };
  let loadProblem: unknown = null;
  const selected = new Set<string>();
  const rows = new Map<string, RowParts>();

  const searchId = uniqueId('search');
  const classId = uniqueId('class');
  const search = h('input', { id: searchId, type: 'search', placeholder: 'Name', autocomplete: 'off', spellcheck: false });
  const classFilter = h('select', { id: classId });
  const cardsButton = h('button', { type: 'button', class: 'secondary' }, 'Print login cards');
  const summary = h('p', { class: 'hint', attrs: { 'aria-live': 'polite' } });
  const pendingBox = h('div');
  const tableBox = h('div', { class: 'table-wrap' });

  const element = h(
    'section',
    { class: 'screen users', attrs: { 'aria-labelledby': 'users-title' } },
    h('h1', { id: 'users-title', tabIndex: -1 }, 'Users'),
    h(
      'div',
      { class: 'toolbar' },
      h('div', { class: 'field inline' }, h('label', { htmlFor: searchId }, 'Search'), search),
      h('div', { class: 'field inline' }, h('label', { htmlFor: classId }, 'Class'), classFilter),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'primary', onclick: () => void addUser() }, 'Add user'),
      h('button', { type: 'button', class: 'secondary', onclick: () => void importRoster() }, 'Import class list'),
      cardsButton,
    ),
    pendingBox,
    summary,
    tableBox,
  );

  const shown = (): UserModel[] => {
    const text = search.value.trim().toLowerCase();
    const group = classFilter.value;
    return users.filter((user) => (!text || user.name.toLowerCase().includes(text)) && (!group || user.groups?.includes(group)));
  };

  const columns: Column<UserModel>[] = [
    { key: 'select', label: 'Select', hiddenLabel: true },
    { key: 'name', label: 'Name', sortValue: (user) => user.name },
    { key: 'classes', label: 'Class', sortValue: (user) => (user.groups ?? []).join(', ') },
    { key: 'server', label: 'Server', sortValue: (user) => STATUS_ORDER[serverStateOf(live, user).status] },
    { key: 'activity', label: 'Last active', sortValue: (user) => -(user.last_activity ? Date.parse(user.last_activity) : 0) },
    { key: 'actions', label: 'Actions', hiddenLabel: true },
  ];

  const render = () => {
    if (loadProblem) {
      replaceChildren(tableBox, problemView('The list of users', loadProblem, () => void load()));
      return;
    }
    const visible = sortRows(shown(), columns, order);
    for (const name of selected) if (!users.some((user) => user.name === name)) selected.delete(name);
    const focusKey = document.activeElement?.getAttribute('data-focus') ?? null;
    // A live update redraws the table: the menu the teacher has open stays open.
    const openMenu = tableBox.querySelector('details.menu[open]')?.getAttribute('data-user') ?? null;
    rows.clear();
    const selectAll = h('input', {
      type: 'checkbox',
      checked: visible.length > 0 && visible.every((user) => selected.has(user.name)),
      attrs: { 'aria-label': 'Select everyone shown', 'data-focus': 'select-all' },
      onchange: () => {
        for (const user of visible) {
          if (selectAll.checked) selected.add(user.name);
          else selected.delete(user.name);
        }
        render();
      },
    });
    replaceChildren(
      tableBox,
      h(
        'table',
        { class: 'data users-table' },
        h('caption', { class: 'visually-hidden' }, 'Users, with their class, server and last activity'),
        sortableHead(columns, order, (next) => {
          order = next;
          render();
        }, { select: selectAll }),
        h('tbody', null, visible.map((user) => row(user))),
      ),
      visible.length === 0 ? h('p', { class: 'empty' }, users.length === 0 ? 'No accounts yet: add a user or import a class list.' : 'Nobody matches.') : null,
    );
    summary.textContent =
      visible.length === users.length ? plural(users.length, 'account') : `${visible.length} of ${plural(users.length, 'account')} shown`;
    labelCardsButton();
    cardsButton.disabled = visible.length === 0;
    if (focusKey) tableBox.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus();
    const reopened = openMenu === null ? null : tableBox.querySelector<HTMLDetailsElement>(`details.menu[data-user="${CSS.escape(openMenu)}"]`);
    if (reopened) reopened.open = true;
  };

  const labelCardsButton = () => {
    cardsButton.textContent = selected.size > 0 ? `Print login cards (${selected.size} selected)` : 'Print login cards';
  };

  const row = (user: UserModel): HTMLTableRowElement => {
    const name = user.name;
    const statusCell = h('td', { class: 'col-server' });
    const toggle = h('button', { type: 'button', class: 'secondary small', attrs: { 'data-focus': `${name}:toggle` } });
    toggle.onclick = () => {
      const { status } = serverStateOf(live, user);
      void (status === 'running' ? stopServer(api, name) : startServer(api, name));
    };
    rows.set(name, { user, statusCell, toggle });
    updateServerCells(name);
    const select = h('input', {
      type: 'checkbox',
      checked: selected.has(name),
      attrs: { 'aria-label': `Select ${name}`, 'data-focus': `${name}:select` },
      onchange: () => {
        if (select.checked) selected.add(name);
        else selected.delete(name);
        labelCardsButton();
      },
    });
    return h(
      'tr',
      null,
      h('td', { class: 'col-select' }, select),
      h('th', { scope: 'row', class: 'col-name' }, name, user.admin ? h('span', { class: 'badge badge-teacher' }, 'Teacher') : null),
      h('td', { class: 'col-classes' }, (user.groups ?? []).join(', ')),
      statusCell,
      h('td', { class: 'col-activity', title: exactTime(user.last_activity) }, ago(user.last_activity)),
      h(
        'td',
        { class: 'col-actions' },
        h('div', { class: 'row-actions' }, toggle, viewWorkLink(api, name), h('button', {
          type: 'button',
          class: 'secondary small',
          attrs: { 'data-focus': `${name}:password` },
          onclick: () => void resetPassword(api, name),
        }, 'New password'), moreMenu(user)),
      ),
    );
  };

  const moreMenu = (user: UserModel): HTMLElement => {
    const name = user.name;
    const menu = h('details', { class: 'menu', attrs: { 'data-user': name } });
    const item = (label: string, action: () => Promise<unknown>, danger = false) =>
      h('button', {
        type: 'button',
        class: ['menu-item', danger && 'danger-text'],
        onclick: async () => {
          menu.open = false;
          await action();
        },
      }, label);
    menu.append(
      h('summary', { class: 'button secondary small', attrs: { 'aria-label': `More actions for ${name}`, 'data-focus': `${name}:more` } }, 'More'),
      h(
        'div',
        { class: 'menu-items' },
        item('Open live server…', () => openLiveServer(api, name)),
        item(user.admin ? 'Remove teacher rights' : 'Make teacher', async () => {
          if (await setAdmin(api, name, !user.admin)) await load();
        }),
        user.admin ? null : item('Print login card', () => printLoginCards(api, [name])),
        name === ctx.me.name ? null : item('Delete account', async () => {
          if (await deleteUser(api, name)) await load();
        }, true),
      ),
    );
    return menu;
  };

  /** Refreshes one row's server state in place, so that live updates never steal focus. */
  const updateServerCells = (name: string) => {
    const parts = rows.get(name);
    if (!parts) return;
    const { status, failure } = serverStateOf(live, parts.user);
    replaceChildren(parts.statusCell, statusBadge(status), failure ? h('span', { class: 'failure' }, failure) : null);
    parts.toggle.textContent = status === 'running' ? 'Stop' : 'Start';
    parts.toggle.setAttribute('aria-label', `${status === 'running' ? 'Stop' : 'Start'} ${name}’s server`);
    parts.toggle.disabled = status === 'starting' || status === 'stopping';
  };

  const renderPending = () => {
    const pending = join?.pending ?? [];
    if (pending.length === 0) {
      replaceChildren(pendingBox);
      return;
    }
    replaceChildren(
      pendingBox,
      h(
        'section',
        { class: 'card pending', attrs: { 'aria-labelledby': 'pending-title' } },
        h('h2', { id: 'pending-title' }, `Waiting for you to let them in (${pending.length})`),
        h(
          'ul',
          { class: 'pending-list' },
          pending.map((name) =>
            h(
              'li',
              null,
              h('span', null, name),
              h('button', {
                type: 'button',
                class: 'primary small',
                attrs: { 'aria-label': `Let ${name} in` },
                onclick: async () => {
                  if (await approveSignUp(api, name)) await load();
                },
              }, 'Let in'),
            ),
          ),
        ),
      ),
    );
  };

  const renderClassFilter = () => {
    const current = classFilter.value;
    replaceChildren(
      classFilter,
      h('option', { value: '' }, 'All classes'),
      groups.map((group) => h('option', { value: group.name, selected: group.name === current }, group.name)),
    );
  };

  const load = async () => {
    tableBox.setAttribute('aria-busy', 'true');
    const [usersResult, groupsResult, joinResult] = await Promise.allSettled([
      api.list<UserModel>('/users'),
      api.list<GroupModel>('/groups'),
      api.get<JoinState>('/lectern/join'),
    ]);
    tableBox.removeAttribute('aria-busy');
    loadProblem = usersResult.status === 'rejected' ? usersResult.reason : null;
    if (usersResult.status === 'fulfilled') users = usersResult.value;
    if (groupsResult.status === 'fulfilled') groups = groupsResult.value;
    join = joinResult.status === 'fulfilled' ? joinResult.value : null;
    if (joinResult.status === 'rejected' && !(joinResult.reason instanceof ApiError && joinResult.reason.endpointMissing)) {
      replaceChildren(pendingBox, h('p', { class: 'problem' }, `Sign-ups waiting for approval could not be loaded: ${errorMessage(joinResult.reason)}`));
    } else {
      renderPending();
    }
    renderClassFilter();
    render();
  };

  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  const reloadSoon = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void load(), RELOAD_DELAY_MS);
  };

  const addUser = async () => {
    if (await addUserDialog(api, groups, join?.mode === 'first-use')) await load();
  };
  const importRoster = async () => {
    // The new students' login cards replace this page; the browser's Back (or the sheet's link) returns.
    if (await importRosterDialog(api, (cardsUrl) => window.location.assign(cardsUrl))) await load();
  };
  cardsButton.onclick = () => {
    // Cards are for students who can log in: the hub refuses them for teachers and waiting sign-ups.
    const waiting = new Set(join?.pending ?? []);
    const chosen = selected.size > 0 ? users.filter((user) => selected.has(user.name)) : sortRows(shown(), columns, order);
    const names = chosen.filter((user) => !user.admin && !waiting.has(user.name)).map((user) => user.name);
    if (names.length === 0) notifyError('Login cards are for students who can log in: choose some students first.');
    else void printLoginCards(api, names);
  };
  search.oninput = render;
  classFilter.onchange = render;

  let visible = false;
  live.subscribe((change: LiveChange) => {
    if (!visible) return;
    if (change.kind === 'users') reloadSoon();
    else if (change.kind === 'servers' && change.keys) {
      for (const key of change.keys) if (key.endsWith('/')) updateServerCells(key.slice(0, -1));
    } else if (change.kind === 'servers' || change.kind === 'connection') {
      for (const name of rows.keys()) updateServerCells(name);
    }
  });

  return {
    title: 'Users',
    element,
    show: () => {
      visible = true;
      void load();
    },
    hide: () => {
      visible = false;
      clearTimeout(reloadTimer);
    },
  };
}
