/**
 * Users: every account in one searchable, sortable table, with what a teacher does to accounts —
 * add one, import a class list, let in sign-ups waiting for approval, reset a password, print
 * login cards — one at a time or to a selection, and the student's server state, kept live by the
 * event stream.
 */
import { ApiError, errorMessage } from '../api/client.js';
import type { GroupModel, JoinState, UserModel } from '../api/types.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import type { LiveChange } from '../live/live-state.js';
import { serverStateOf, statusBadge, type ServerStatus } from '../live/server-status.js';
import { ago, exactTime, matchesSearch, plural } from '../ui/format.js';
import { notifyError } from '../ui/notices.js';
import { problemView } from '../ui/panel.js';
import { sortableHead, sortRows, type Column, type SortOrder } from '../ui/sortable-table.js';
import { addToClass, letIn, removeFromClass, startServers, stopServers, turnAway } from './bulk-actions.js';
import { importRosterDialog } from './roster-import.js';
import type { Screen, ScreenContext } from './screen.js';
import {
  addUserDialog,
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
  const search = h('input', { id: searchId, type: 'search', placeholder: 'Name or username', autocomplete: 'off', spellcheck: false });
  const classFilter = h('select', { id: classId });
  const cardsButton = h('button', { type: 'button', class: 'secondary' }, 'Print login cards');
  const summary = h('p', { class: 'hint', attrs: { 'aria-live': 'polite' } });
  const pendingBox = h('div');
  const bulkBar = h('div', { class: 'bulk-bar', attrs: { role: 'toolbar', 'aria-label': 'With the selected accounts' }, hidden: true });
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
    bulkBar,
    summary,
    tableBox,
  );

  /** Sign-ups waiting for the teacher to let them in. */
  const waiting = (): Set<string> => new Set(join?.pending ?? []);
  const fullName = (name: string): string | null => users.find((user) => user.name === name)?.lectern_display_name ?? null;

  const shown = (): UserModel[] => {
    const text = search.value;
    const group = classFilter.value;
    return users.filter(
      (user) => matchesSearch(text, user.name, user.lectern_display_name) && (!group || user.groups?.includes(group)),
    );
  };

  const columns: Column<UserModel>[] = [
    { key: 'select', label: 'Select', hiddenLabel: true },
    { key: 'name', label: 'Name', sortValue: (user) => user.lectern_display_name ?? user.name },
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
    selectionChanged();
    cardsButton.disabled = visible.length === 0;
    if (focusKey) tableBox.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus();
    const reopened = openMenu === null ? null : tableBox.querySelector<HTMLDetailsElement>(`details.menu[data-user="${CSS.escape(openMenu)}"]`);
    if (reopened) reopened.open = true;
  };

  const selectionChanged = () => {
    cardsButton.textContent = selected.size > 0 ? `Print login cards (${selected.size} selected)` : 'Print login cards';
    renderBulkBar();
  };

  /** What can be done to the selection, each button saying to how many. */
  const renderBulkBar = () => {
    const names = [...selected].sort();
    bulkBar.hidden = names.length === 0;
    if (names.length === 0) {
      replaceChildren(bulkBar);
      return;
    }
    const pending = waiting();
    const waitingNames = names.filter((name) => pending.has(name));
    const accounts = names.filter((name) => !pending.has(name));
    const students = accounts.filter((name) => !users.find((user) => user.name === name)?.admin);
    const group = classFilter.value;
    const button = (label: string, count: number, action: () => Promise<unknown>, danger = false) =>
      count === 0 ? null : h('button', { type: 'button', class: [danger ? 'danger' : 'secondary', 'small'], onclick: () => void action() }, label);
    const reloadAfter = (done: boolean) => {
      if (!done) return;
      selected.clear();
      void load();
    };
    replaceChildren(
      bulkBar,
      h('span', { class: 'bulk-count' }, `${plural(names.length, 'account')} selected:`),
      button(`Add to class (${accounts.length})…`, accounts.length, async () => reloadAfter(await addToClass(api, accounts, groups))),
      group ? button(`Take out of ${group}`, names.length, async () => reloadAfter(await removeFromClass(api, names, group))) : null,
      button(`Start servers (${accounts.length})`, accounts.length, () => startServers(api, accounts)),
      button(`Stop servers (${accounts.length})`, accounts.length, () => stopServers(api, accounts)),
      button(`New passwords and cards (${students.length})…`, students.length, () => printLoginCards(api, students, { newPasswords: true })),
      button(`Let in (${waitingNames.length})`, waitingNames.length, async () => reloadAfter(await letIn(api, waitingNames))),
      button(`Turn away (${waitingNames.length})…`, waitingNames.length, async () => reloadAfter(await turnAway(api, waitingNames)), true),
      h('button', { type: 'button', class: 'link', onclick: () => {
        selected.clear();
        render();
      } }, 'Clear selection'),
    );
  };

  const row = (user: UserModel): HTMLTableRowElement => {
    const name = user.name;
    const statusCell = h('td', { class: 'col-server' });
    const toggle = h('button', { type: 'button', class: 'secondary small', attrs: { 'data-focus': `${name}:toggle` } });
    toggle.onclick = async () => {
      if (waiting().has(name)) {
        if (await letIn(api, [name])) await load();
        return;
      }
      const { status } = serverStateOf(live, user);
      await (status === 'running' ? stopServer(api, name) : startServer(api, name));
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
        selectionChanged();
      },
    });
    const display = user.lectern_display_name;
    return h(
      'tr',
      null,
      h('td', { class: 'col-select' }, select),
      h(
        'th',
        { scope: 'row', class: 'col-name' },
        display ? h('span', { class: 'full-name' }, display) : null,
        h('span', { class: [display && 'login-name'] }, name),
        user.admin ? h('span', { class: 'badge badge-teacher' }, 'Teacher') : null,
      ),
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
    if (waiting().has(name)) {
      // A sign-up has no server until the teacher lets it in.
      replaceChildren(parts.statusCell, h('span', { class: 'badge badge-waiting' }, 'Waiting for you'));
      parts.toggle.textContent = 'Let in';
      parts.toggle.setAttribute('aria-label', `Let ${name} in`);
      parts.toggle.disabled = false;
      return;
    }
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
    const reloadAfter = async (done: boolean) => {
      if (done) await load();
    };
    replaceChildren(
      pendingBox,
      h(
        'section',
        { class: 'card pending', attrs: { 'aria-labelledby': 'pending-title' } },
        h(
          'div',
          { class: 'card-head' },
          h('h2', { id: 'pending-title' }, `Waiting for you to let them in (${pending.length})`),
          pending.length > 1
            ? h('button', { type: 'button', class: 'primary small', onclick: async () => reloadAfter(await letIn(api, pending)) }, `Let all ${pending.length} in`)
            : null,
        ),
        h(
          'ul',
          { class: 'pending-list' },
          pending.map((name) => {
            const display = fullName(name);
            return h(
              'li',
              null,
              h('span', null, display ? h('strong', null, display) : null, display ? ` (${name})` : name),
              h('button', {
                type: 'button',
                class: 'primary small',
                attrs: { 'aria-label': `Let ${name} in` },
                onclick: async () => reloadAfter(await letIn(api, [name])),
              }, 'Let in'),
              h('button', {
                type: 'button',
                class: 'secondary small',
                attrs: { 'aria-label': `Turn ${name} away` },
                onclick: async () => reloadAfter(await turnAway(api, [name])),
              }, 'Turn away'),
            );
          }),
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
    const pending = waiting();
    const chosen = selected.size > 0 ? users.filter((user) => selected.has(user.name)) : sortRows(shown(), columns, order);
    const names = chosen.filter((user) => !user.admin && !pending.has(user.name)).map((user) => user.name);
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
