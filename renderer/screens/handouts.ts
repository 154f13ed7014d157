/**
 * Handouts: give the class files (a lesson's notebooks, a dataset, an assignment) and take the work
 * back. A new handout is a name, who it is for, optional times, and files or a folder chosen from
 * this computer; "Hand out" creates it, uploads the files and hands them out in one go. Choosing a
 * handout shows where each student stands (live: deliveries, hand-ins and collections arrive on the
 * event stream), with an update, "Collect now", the class's work as one zip, and each student's
 * folder in the read-only view.
 */
import { errorMessage, type HubApi } from '../api/client.js';
import type { GroupModel, Handout, HandoutStudent, HandoutSummary } from '../api/types.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import { saveDownload } from '../ui/download.js';
import { ago, exactTime, plural } from '../ui/format.js';
import { notify, notifyError } from '../ui/notices.js';
import { fillPanel } from '../ui/panel.js';
import type { Screen, ScreenContext } from './screen.js';

/** A file chosen in the browser, and its path in the handout. */
interface ChosenFile {
  path: string;
  file: File;
}

/**
 * The files chosen in a file or folder input, with their paths in the handout: a folder's own name
 * is left out (its files go straight into the handout's folder), and so are hidden files and
 * Jupyter's checkpoints, which the hub would refuse.
 */
export function chosenFiles(files: Iterable<File>): ChosenFile[] {
  const chosen: ChosenFile[] = [];
  for (const file of files) {
    const relative = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
    const segments = relative.split('/');
    const path = (segments.length > 1 ? segments.slice(1) : segments).join('/');
    if (path.split('/').some((segment) => segment.startsWith('.'))) continue;
    chosen.push({ path, file });
  }
  return chosen;
}

/** Uploads each file to the handout's next version; resolves with how many went. */
async function uploadAll(api: HubApi, id: number, files: ChosenFile[], progress: (done: number) => void): Promise<void> {
  let done = 0;
  for (const { path, file } of files) {
    try {
      await api.upload(`/lectern/handouts/${id}/files?path=${encodeURIComponent(path)}`, file);
    } catch (error) {
      throw new Error(`${path}: ${errorMessage(error)}`);
    }
    progress(++done);
  }
}

/** A `datetime-local` input's value as an ISO time, or null when empty. */
function isoOrNull(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

export function handoutsScreen(ctx: ScreenContext): Screen {
  const { api, live } = ctx;
  let handouts: HandoutSummary[] = [];
  let selected: number | null = null;
  const listPanel = h('div', { class: 'handout-list' });
  const detailPanel = h('div', { class: 'handout-detail' });

  const ids = {
    name: uniqueId('handout-name'),
    audience: uniqueId('handout-for'),
    available: uniqueId('handout-available'),
    due: uniqueId('handout-due'),
    late: uniqueId('handout-late'),
    files: uniqueId('handout-files'),
    folder: uniqueId('handout-folder'),
  };
  const name = h('input', { id: ids.name, type: 'text', required: true, maxLength: 80, autocomplete: 'off', placeholder: 'lesson 1' });
  const audience = h('select', { id: ids.audience }, h('option', { value: '' }, 'Everyone'));
  const available = h('input', { id: ids.available, type: 'datetime-local' });
  const due = h('input', { id: ids.due, type: 'datetime-local' });
  const late = h('select', { id: ids.late }, h('option', { value: 'mark' }, 'Accept, marked late'), h('option', { value: 'refuse' }, 'Refuse'));
  const files = h('input', { id: ids.files, type: 'file', multiple: true });
  const folder = h('input', { id: ids.folder, type: 'file', multiple: true });
  folder.setAttribute('webkitdirectory', '');
  const status = h('p', { class: 'hint', attrs: { 'aria-live': 'polite' } });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Hand out');
  const form = h(
    'form',
    { class: 'handout-form' },
    ...labelled([
      ['Name (also the folder students get)', name],
      ['For', audience],
      ['Files', files],
      ['Or a folder', folder],
      ['Available from (optional)', available],
      ['Due (optional: collected then)', due],
      ['A hand-in after the due time', late],
    ]),
    h('div', { class: 'actions' }, submit),
    status,
  );

  form.onsubmit = async (event) => {
    event.preventDefault();
    const chosen = [...chosenFiles(files.files ?? []), ...chosenFiles(folder.files ?? [])];
    if (chosen.length === 0) {
      notifyError('Choose the files or the folder to hand out.');
      return;
    }
    submit.disabled = true;
    let created: Handout | undefined;
    try {
      created = await api.post<Handout>('/lectern/handouts', {
        name: name.value,
        class: audience.value || null,
        availableAt: isoOrNull(available.value),
        dueAt: isoOrNull(due.value),
        late: late.value,
      });
      const id = created.id;
      await uploadAll(api, id, chosen, (done) => (status.textContent = `Uploaded ${done} of ${plural(chosen.length, 'file')}…`));
      await api.post(`/lectern/handouts/${id}/release`, {});
      notify(`${created.name} is handed out.`);
      form.reset();
      status.textContent = '';
      selected = id;
      await refresh();
    } catch (error) {
      status.textContent = '';
      notifyError(
        created
          ? `${created.name} was created but not handed out: ${errorMessage(error)}. Choose it below to add the files again.`
          : `The handout was not created: ${errorMessage(error)}`,
      );
      if (created) await refresh();
    } finally {
      submit.disabled = false;
    }
  };

  const refresh = async () => {
    await fillPanel(listPanel, 'The handouts', async () => {
      handouts = (await api.get<{ handouts: HandoutSummary[] }>('/lectern/handouts')).handouts;
      return listView();
    });
    await showDetail();
  };

  const listView = () => {
    if (handouts.length === 0) return h('p', { class: 'hint' }, 'No handouts yet.');
    return h(
      'ul',
      { class: 'handout-names' },
      ...handouts.map((handout) =>
        h(
          'li',
          null,
          h(
            'button',
            {
              type: 'button',
              class: handout.id === selected ? 'link selected' : 'link',
              attrs: { 'aria-pressed': String(handout.id === selected) },
              onclick: () => {
                selected = handout.id;
                void refresh();
              },
            },
            handout.name,
          ),
          ' ',
          h('span', { class: 'hint' }, summaryLine(handout)),
        ),
      ),
    );
  };

  const showDetail = async () => {
    if (selected === null || !handouts.some((handout) => handout.id === selected)) {
      replaceChildren(detailPanel);
      return;
    }
    const id = selected;
    await fillPanel(detailPanel, 'The handout', async () => detailView(await api.get<Handout>(`/lectern/handouts/${id}`)));
  };

  const detailView = (handout: Handout) => {
    const updateFiles = h('input', { id: uniqueId('update-files'), type: 'file', multiple: true });
    const restore = h('input', { id: uniqueId('restore-deleted'), type: 'checkbox' });
    const update = h('button', { type: 'button', class: 'secondary' }, 'Hand out the update');
    update.onclick = async () => {
      const chosen = chosenFiles(updateFiles.files ?? []);
      update.disabled = true;
      try {
        await uploadAll(api, handout.id, chosen, () => {});
        const { version } = await api.post<{ version: number }>(`/lectern/handouts/${handout.id}/release`, { restoreDeleted: restore.checked });
        notify(`Version ${version} of ${handout.name} is handed out; students keep what they changed.`);
        await refresh();
      } catch (error) {
        notifyError(`The update was not handed out: ${errorMessage(error)}`);
      } finally {
        update.disabled = false;
      }
    };
    const collect = h('button', { type: 'button', class: 'secondary' }, 'Collect now');
    collect.onclick = async () => {
      collect.disabled = true;
      try {
        const answer = await api.post<{ collected: number; missing: string[] }>(`/lectern/handouts/${handout.id}/collect`);
        notify(`Collected ${plural(answer.collected, 'student')}' work.${answer.missing.length ? ` Nothing to collect from ${answer.missing.join(', ')}.` : ''}`);
        await refresh();
      } catch (error) {
        notifyError(`Nothing was collected: ${errorMessage(error)}`);
      } finally {
        collect.disabled = false;
      }
    };
    const download = h('button', { type: 'button', class: 'secondary' }, 'Download the work (zip)');
    download.onclick = () =>
      void saveDownload(api, `/lectern/handouts/${handout.id}/collection`, `${handout.name}.zip`).catch((error: unknown) =>
        notifyError(`The work could not be downloaded: ${errorMessage(error)}`),
      );
    const have = handout.students.filter((student) => student.version === handout.version).length;
    return [
      h('h2', null, handout.name),
      h(
        'p',
        null,
        `Version ${handout.version}, for ${handout.class ?? 'everyone'}: ${have} of ${plural(handout.students.length, 'student')} have it.`,
        handout.dueAt ? ` Due ${exactTime(handout.dueAt)}.` : '',
      ),
      h('p', { class: 'hint' }, `Files: ${handout.files.map((file) => file.path).join(', ') || 'none'}`),
      h('div', { class: 'actions' }, collect, download),
      h(
        'details',
        { class: 'handout-update' },
        h('summary', null, 'Update the files'),
        h('label', { htmlFor: updateFiles.id }, 'Changed or new files'),
        updateFiles,
        h('label', { class: 'checkbox' }, restore, ' Give back files students deleted'),
        h('div', { class: 'actions' }, update),
      ),
      studentTable(api, handout),
    ];
  };

  live.subscribe((change) => {
    if (change.kind === 'handout' && change.id === selected && !element.hidden) void showDetail();
  });

  const element = h(
    'section',
    { class: 'screen handouts-screen', attrs: { 'aria-labelledby': 'handouts-title' } },
    h('h1', { id: 'handouts-title', tabIndex: -1 }, 'Handouts'),
    h('section', { class: 'card', attrs: { 'aria-labelledby': 'new-handout-title' } }, h('h2', { id: 'new-handout-title' }, 'New handout'), form),
    h('section', { class: 'card', attrs: { 'aria-label': 'Handouts' } }, listPanel),
    h('section', { class: 'card', attrs: { 'aria-label': 'The handout chosen' } }, detailPanel),
  );

  return {
    title: 'Handouts',
    element,
    show: () => {
      void api
        .list<GroupModel>('/groups')
        .then((groups) => replaceChildren(audience, h('option', { value: '' }, 'Everyone'), ...groups.map((group) => h('option', { value: group.name }, `Class ${group.name}`))))
        .catch(() => undefined);
      void refresh();
    },
    hide: () => {},
  };
}

function summaryLine(handout: HandoutSummary): string {
  const parts = [handout.version === 0 ? 'not handed out' : `version ${handout.version}`, handout.class ? `class ${handout.class}` : 'everyone'];
  if (handout.dueAt) parts.push(`due ${exactTime(handout.dueAt)}`);
  return `(${parts.join(', ')})`;
}

function studentTable(api: HubApi, handout: Handout): HTMLElement {
  const rows = handout.students.map((student) => studentRow(api, handout, student));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data handout-students' },
      h('thead', null, h('tr', null, ...['Student', 'Has', 'Opened', 'Changed', 'Handed in', 'Collected', ''].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', null, ...rows),
    ),
  );
}

function studentRow(api: HubApi, handout: Handout, student: HandoutStudent): HTMLElement {
  const has = student.problem
    ? h('span', { class: 'problem' }, `Not delivered: ${student.problem}`)
    : student.version === 0
      ? 'not yet'
      : `version ${student.version}${student.folder && student.folder !== handout.name ? ` in “${student.folder}”` : ''}`;
  const handedIn = student.handedIn ? `${ago(student.handedIn)}${student.late ? ' (late)' : ''}` : '—';
  const workLink = (path: string, label: string, what: string) =>
    h(
      'a',
      { class: 'button secondary small', href: api.hubPath(path), target: '_blank', rel: 'noopener', attrs: { 'aria-label': `View ${student.user}’s ${what}` } },
      label,
    );
  const user = encodeURIComponent(student.user);
  // Their copy as it is now, and the work they handed in (or that was collected) last.
  const live = student.folder ? workLink(`hub/work/${user}/${encodeURIComponent(student.folder)}?handout=${handout.id}`, 'View', handout.name) : null;
  const collected =
    student.latestSnapshot === null ? null : workLink(`hub/work/${user}/?snapshot=${student.latestSnapshot}`, 'View collected', `${handout.name} as collected`);
  return h(
    'tr',
    null,
    h('th', { scope: 'row' }, student.user),
    h('td', null, has),
    h('td', null, student.opened ? ago(student.opened) : student.version === 0 ? '—' : 'not yet'),
    h('td', null, student.changed ? 'yes' : 'no'),
    h('td', null, handedIn),
    h('td', null, student.collected ? ago(student.collected) : '—'),
    h('td', { class: 'actions' }, live, collected),
  );
}

/** Each field after its label, the label naming the field by its id. */
function labelled(fields: [label: string, field: HTMLElement][]): HTMLElement[] {
  return fields.flatMap(([label, field]) => [h('label', { htmlFor: field.id }, label), field]);
}
