/**
 * Servers: every student server that is up, starting, stopping or failed, live — how long it has
 * run, when it was last used, what it takes of the machine, whether it is isolated in a sandbox —
 * with stop for one, a class or all, and each server's log. A failed start stays listed with its
 * error until the next start.
 */
import { errorMessage } from '../api/client.js';
import type { GroupModel, SandboxKind, ServersStart, ServersStop, UserModel } from '../api/types.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import { serverKey, type LiveChange } from '../live/live-state.js';
import { statusBadge, statusOf, type ServerStatus } from '../live/server-status.js';
import { confirmAction } from '../ui/dialog.js';
import { ago, bytes, exactTime, percent, plural, since } from '../ui/format.js';
import { notify, notifyError } from '../ui/notices.js';
import { fillPanel, problemView } from '../ui/panel.js';
import { sortableHead, sortRows, type Column, type SortOrder } from '../ui/sortable-table.js';
import { isolationView, sandboxBadge } from './isolation.js';
import type { Screen, ScreenContext } from './screen.js';
import { logPanel } from './server-log.js';
import { openLiveServer, startServer, stopServer, viewWorkLink } from './user-actions.js';

/** Uptimes and "last active" move on by themselves; a minute is as fine as they are read. */
const TICK_MS = 30_000;
/** Last activity is not on the event stream: read it again this often while the screen is seen. */
const ACTIVITY_REFRESH_MS = 60_000;

interface ServerRow {
  user: string;
  name: string;
  status: ServerStatus;
  failure: string | null;
  started: string | null;
  lastActivity: string | null;
  usage: { cpuPercent: number; memoryBytes: number } | null;
  sandbox: SandboxKind | null;
  notice: string | null;
  /** While it waits for a free start slot, its place in the line. */
  queuePosition: number | null;
}

const STATUS_ORDER: Record<ServerStatus, number> = { failed: 0, starting: 1, running: 2, stopping: 3, stopped: 4 };

export function serversScreen(ctx: ScreenContext): Screen {
  const { api, live } = ctx;
  let users: UserModel[] = [];
  let groups: GroupModel[] = [];
  let loadProblem: unknown = null;
  let order: SortOrder = { key: 'student', ascending: true };
  const cells = new Map<string, { uptime: HTMLElement; activity: HTMLElement; cpu: HTMLElement; memory: HTMLElement }>();

  const classId = uniqueId('class');
  const classSelect = h('select', { id: classId });
  const stopAllButton = h('button', { type: 'button', class: 'danger' }, 'Stop all student servers');
  const summary = h('p', { class: 'hint', attrs: { 'aria-live': 'polite' } });
  const isolationPanel = h('div', { class: 'isolation-panel' });
  const tableBox = h('div', { class: 'table-wrap' });
  const log = logPanel(api);
  const classTools = h(
    'div',
    { class: 'class-tools' },
    h('div', { class: 'field inline' }, h('label', { htmlFor: classId }, 'Class'), classSelect),
    h('button', { type: 'button', class: 'secondary', onclick: () => void classServers('start') }, 'Start class'),
    h('button', { type: 'button', class: 'secondary', onclick: () => void classServers('stop') }, 'End class'),
  );
  const element = h(
    'section',
    { class: 'screen servers', attrs: { 'aria-labelledby': 'servers-title' } },
    h('h1', { id: 'servers-title', tabIndex: -1 }, 'Servers'),
    h('div', { class: 'toolbar' }, classTools, h('span', { class: 'spacer' }), stopAllButton),
    isolationPanel,
    summary,
    tableBox,
    log.element,
  );

  /** The servers to list: from the event stream when connected, else from the user models. */
  const currentRows = (): ServerRow[] => {
    const activity = new Map<string, string | null>();
    for (const user of users) for (const [name, server] of Object.entries(user.servers ?? {})) activity.set(`${user.name}/${name}`, server.last_activity);
    if (live.connection === 'live') {
      return [...live.servers.values()]
        .filter((server) => server.phase !== 'stopped' || server.failure)
        .map((server) => ({
          user: server.user,
          name: server.name,
          status: statusOf(server.phase, server.failure),
          failure: server.failure,
          started: server.started,
          lastActivity: activity.get(serverKey(server)) ?? null,
          usage: server.usage,
          sandbox: server.sandbox,
          notice: server.notice,
          queuePosition: server.queuePosition,
        }));
    }
    return users.flatMap((user) =>
      Object.entries(user.servers ?? {}).map(([name, server]) => ({
        user: user.name,
        name,
        status: server.pending === 'spawn' ? 'starting' : server.pending === 'stop' ? 'stopping' : server.ready ? 'running' : 'stopped',
        failure: null,
        started: server.started,
        lastActivity: server.last_activity,
        usage: server.lectern_usage ? { cpuPercent: server.lectern_usage.cpu_percent, memoryBytes: server.lectern_usage.memory_bytes } : null,
        sandbox: server.lectern_sandbox ?? null,
        notice: server.lectern_notice ?? null,
        queuePosition: null,
      })),
    );
  };

  const columns: Column<ServerRow>[] = [
    { key: 'student', label: 'Student', sortValue: (row) => `${row.user}/${row.name}` },
    { key: 'state', label: 'State', sortValue: (row) => STATUS_ORDER[row.status] },
    { key: 'uptime', label: 'Up for', sortValue: (row) => (row.started ? Date.parse(row.started) : Infinity) },
    { key: 'activity', label: 'Last active', sortValue: (row) => -(row.lastActivity ? Date.parse(row.lastActivity) : 0) },
    { key: 'cpu', label: 'CPU', sortValue: (row) => -(row.usage?.cpuPercent ?? -1) },
    { key: 'memory', label: 'Memory', sortValue: (row) => -(row.usage?.memoryBytes ?? -1) },
    { key: 'actions', label: 'Actions', hiddenLabel: true },
  ];

  const render = () => {
    if (loadProblem && live.connection !== 'live') {
      replaceChildren(tableBox, problemView('The list of servers', loadProblem, () => void load()));
      return;
    }
    const rows = sortRows(currentRows(), columns, order);
    const focusKey = document.activeElement?.getAttribute('data-focus') ?? null;
    cells.clear();
    replaceChildren(
      tableBox,
      rows.length === 0
        ? h('p', { class: 'empty' }, 'No servers are running. A student’s server starts when they log in, or when you start it.')
        : h(
            'table',
            { class: 'data servers-table' },
            h('caption', { class: 'visually-hidden' }, 'Student servers, with their state, uptime, activity and resources'),
            sortableHead(columns, order, (next) => {
              order = next;
              render();
            }),
            h('tbody', null, rows.map(row)),
          ),
    );
    const count = (status: ServerStatus) => rows.filter((server) => server.status === status).length;
    const [running, starting, failed] = [count('running'), count('starting'), count('failed')];
    summary.textContent =
      rows.length === 0
        ? ''
        : `${plural(running, 'server')} running${starting ? `, ${starting} starting` : ''}${failed ? `, ${failed} failed to start` : ''}.`;
    stopAllButton.disabled = studentsActive(rows).length === 0;
    if (focusKey) tableBox.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus();
  };

  const row = (server: ServerRow): HTMLTableRowElement => {
    const key = serverKey(server);
    const label = server.name ? `${server.user} (${server.name})` : server.user;
    const uptime = h('td', { class: 'col-uptime' });
    const activity = h('td', { class: 'col-activity' });
    const cpu = h('td', { class: 'col-cpu' });
    const memory = h('td', { class: 'col-memory' });
    cells.set(key, { uptime, activity, cpu, memory });
    fillCells(server);
    const button = (text: string, focus: string, onclick: () => void, aria: string, extra = 'secondary') =>
      h('button', { type: 'button', class: [extra, 'small'], onclick, attrs: { 'data-focus': `${key}:${focus}`, 'aria-label': aria } }, text);
    const actions: HTMLElement[] = [];
    actions.push(viewWorkLink(api, server.user));
    if (server.status === 'running') {
      actions.push(button('Stop', 'stop', () => void stopServer(api, server.user, server.name), `Stop ${label}’s server`));
    } else if (server.status === 'starting' && !server.name) {
      // The start is cancelled, in line or under way (the REST API's own stop waits for a start to end).
      actions.push(button('Stop', 'stop', () => void cancelStart(server.user), `Stop starting ${label}’s server`));
    }
    if (server.status === 'running') {
      actions.push(button('Open live', 'live', () => void openLiveServer(api, server.user, server.name), `Open ${label}’s live server in a new tab`));
    }
    if (server.status === 'failed' && !server.name) {
      actions.push(button('Start again', 'start', () => void startServer(api, server.user), `Start ${label}’s server again`));
    }
    actions.push(button('Log', 'log', () => log.open(server.user, server.name), `Show the log of ${label}’s server`, server.status === 'failed' ? 'primary' : 'secondary'));
    return h(
      'tr',
      { class: server.status === 'failed' ? 'row-problem' : '' },
      h('th', { scope: 'row', class: 'col-student' }, label),
      h(
        'td',
        { class: 'col-state' },
        statusBadge(server.status),
        server.status === 'starting' && server.queuePosition !== null
          ? h('span', { class: 'queue-position' }, `Number ${server.queuePosition} in line to start`)
          : null,
        server.status === 'running' ? sandboxBadge(server.sandbox) : null,
        server.failure ? h('span', { class: 'failure' }, server.failure) : null,
        server.notice ? h('span', { class: 'notice' }, server.notice) : null,
      ),
      uptime,
      activity,
      cpu,
      memory,
      h('td', { class: 'col-actions' }, h('div', { class: 'row-actions' }, actions)),
    );
  };

  /** The cells that change without the row changing: refreshed in place on ticks and usage samples. */
  const fillCells = (server: ServerRow) => {
    const parts = cells.get(serverKey(server));
    if (!parts) return;
    parts.uptime.textContent = server.status === 'running' ? since(server.started) : '';
    parts.activity.textContent = ago(server.lastActivity);
    parts.activity.title = exactTime(server.lastActivity);
    parts.cpu.textContent = server.usage ? percent(server.usage.cpuPercent) : '';
    parts.memory.textContent = server.usage ? bytes(server.usage.memoryBytes) : '';
  };
  const refreshCells = () => {
    for (const server of currentRows()) fillCells(server);
  };

  const renderClasses = () => {
    const current = classSelect.value;
    replaceChildren(classSelect, groups.map((group) => h('option', { value: group.name, selected: group.name === current }, group.name)));
    classTools.hidden = groups.length === 0;
  };

  const load = async () => {
    const [usersResult, groupsResult] = await Promise.allSettled([api.list<UserModel>('/users'), api.list<GroupModel>('/groups')]);
    loadProblem = usersResult.status === 'rejected' ? usersResult.reason : null;
    if (usersResult.status === 'fulfilled') users = usersResult.value;
    if (groupsResult.status === 'fulfilled') groups = groupsResult.value;
    renderClasses();
    render();
  };

  /** The students whose servers run or start: a teacher's own (the demo on the projector) is not theirs to lose. */
  const studentsActive = (rows: ServerRow[]): string[] => {
    const teachers = new Set(users.filter((user) => user.admin).map((user) => user.name));
    const active = rows.filter((server) => (server.status === 'running' || server.status === 'starting') && !teachers.has(server.user));
    return [...new Set(active.map((server) => server.user))];
  };

  const cancelStart = async (user: string) => {
    try {
      await api.delete<ServersStop>('/lectern/servers', { users: [user] });
    } catch (error) {
      notifyError(`${user}’s server did not stop: ${errorMessage(error)}`);
    }
  };

  stopAllButton.onclick = async () => {
    const students = studentsActive(currentRows());
    const confirmed = await confirmAction({
      title: `Stop the servers of ${plural(students.length, 'student')}?`,
      message: [
        'Every student’s running code stops, and servers still starting do not start. Notebooks keep what was last saved; Jupyter saves every few minutes.',
        'Students can start their server again by logging in. Teachers’ own servers keep running.',
      ],
      confirm: 'Stop student servers',
      danger: true,
    });
    if (!confirmed) return;
    try {
      const result = await api.delete<ServersStop>('/lectern/servers', { users: students });
      notify(`Stopping ${plural(result.stopping.length, 'student’s server', 'students’ servers')}.`);
    } catch (error) {
      notifyError(`No server was stopped: ${errorMessage(error)}`);
    }
    if (live.connection !== 'live') await load();
  };

  const classServers = async (action: 'start' | 'stop') => {
    const group = classSelect.value;
    if (!group) return;
    if (action === 'stop') {
      const confirmed = await confirmAction({
        title: `End class ${group}?`,
        message: `Every server of the students in ${group} stops, including any still starting. Notebooks keep what was last saved.`,
        confirm: 'Stop their servers',
        danger: true,
      });
      if (!confirmed) return;
    }
    const path = `/lectern/groups/${encodeURIComponent(group)}/servers`;
    try {
      if (action === 'start') {
        const result = await api.post<ServersStart>(path);
        notify(`Starting ${plural(result.started.length, 'server')} in ${group}${result.alreadyRunning.length ? ` (${result.alreadyRunning.length} already running)` : ''}.`);
        for (const refusal of result.refused) notifyError(refusal.reason);
      } else {
        const result = await api.delete<ServersStop>(path);
        notify(`Stopping ${plural(result.stopping.length, 'server')} in ${group}.`);
      }
    } catch (error) {
      notifyError(errorMessage(error));
    }
  };

  let visible = false;
  let tick: ReturnType<typeof setInterval> | undefined;
  let activityRefresh: ReturnType<typeof setInterval> | undefined;
  live.subscribe((change: LiveChange) => {
    if (!visible) return;
    if (change.kind === 'usage') refreshCells();
    else if (change.kind === 'users') void load();
    else if (change.kind === 'servers' || change.kind === 'connection') {
      render();
      const showing = log.showing;
      if (showing && (change.kind === 'connection' || !change.keys || change.keys.includes(serverKey(showing)))) log.serverChanged();
    }
  });

  return {
    title: 'Servers',
    element,
    show: () => {
      visible = true;
      void load();
      void fillPanel(isolationPanel, 'Whether students are kept apart', () => isolationView(ctx.api));
      tick = setInterval(refreshCells, TICK_MS);
      activityRefresh = setInterval(() => void load(), ACTIVITY_REFRESH_MS);
    },
    hide: () => {
      visible = false;
      clearInterval(tick);
      clearInterval(activityRefresh);
      log.close();
    },
  };
}
