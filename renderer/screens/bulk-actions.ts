/**
 * What a teacher does to several accounts at once, from the Users screen's selection: put them in
 * a class or take them out, start or stop their servers, let waiting sign-ups in or turn them away.
 * Each asks first when it cannot be undone, and says afterwards what happened to whom.
 */
import { errorMessage, type HubApi } from '../api/client.js';
import type { GroupModel, ServersStart, ServersStop } from '../api/types.js';
import { h, uniqueId } from '../dom.js';
import { confirmAction, openModal } from '../ui/dialog.js';
import { plural } from '../ui/format.js';
import { notify, notifyError } from '../ui/notices.js';
import { userPath } from './user-actions.js';

/** "ada", "ada and bob", or "5 students": who an action is about, in a sentence. */
export function who(names: string[]): string {
  if (names.length === 1) return names[0] as string;
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  return plural(names.length, 'student');
}

/** Asks which class (an existing one, or a new name) and puts `names` in it; true when done. */
export function addToClass(api: HubApi, names: string[], groups: GroupModel[]): Promise<boolean> {
  const ids = { existing: uniqueId('class'), fresh: uniqueId('new-class') };
  const NEW = '';
  const select = h(
    'select',
    { id: ids.existing },
    groups.map((group) => h('option', { value: group.name }, group.name)),
    h('option', { value: NEW, selected: groups.length === 0 }, 'A new class…'),
  );
  const freshInput = h('input', { id: ids.fresh, autocomplete: 'off', spellcheck: false, placeholder: 'e.g. 7B' });
  const freshField = h('div', { class: 'field' }, h('label', { htmlFor: ids.fresh }, 'Name of the new class'), freshInput);
  const problem = h('p', { class: 'problem', attrs: { role: 'alert' }, hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add to class');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const showFresh = () => (freshField.hidden = select.value !== NEW);
  select.onchange = showFresh;
  showFresh();
  const form = h(
    'form',
    { class: 'form' },
    h('div', { class: 'field' }, h('label', { htmlFor: ids.existing }, 'Class'), select),
    freshField,
    h('p', { class: 'hint' }, 'They stay in the classes they are in already.'),
    problem,
    h('div', { class: 'actions' }, cancel, submit),
  );
  const modal = openModal(`Add ${who(names)} to a class`, form);
  (select.value === NEW ? freshInput : select).focus();
  let done = false;
  cancel.onclick = () => modal.close();
  form.onsubmit = async (event) => {
    event.preventDefault();
    const isNew = select.value === NEW;
    const group = isNew ? freshInput.value.trim() : select.value;
    if (!group) {
      problem.textContent = 'Type a name for the new class.';
      problem.hidden = false;
      freshInput.focus();
      return;
    }
    submit.disabled = true;
    try {
      const path = `/groups/${encodeURIComponent(group)}`;
      if (isNew) await api.post(path, { users: names });
      else await api.post(`${path}/users`, { users: names });
      done = true;
      notify(`${who(names)} ${names.length === 1 ? 'is' : 'are'} in ${group} now.`);
      modal.close();
    } catch (error) {
      problem.textContent = errorMessage(error);
      problem.hidden = false;
    } finally {
      submit.disabled = false;
    }
  };
  return modal.closed.then(() => done);
}

export async function removeFromClass(api: HubApi, names: string[], group: string): Promise<boolean> {
  try {
    await api.delete(`/groups/${encodeURIComponent(group)}/users`, { users: names });
    notify(`${who(names)} ${names.length === 1 ? 'is' : 'are'} no longer in ${group}. Their accounts and work stay.`);
    return true;
  } catch (error) {
    notifyError(`Nobody was taken out of ${group}: ${errorMessage(error)}`);
    return false;
  }
}

/** Starts the servers of `names`; they follow on the screen as they come up. */
export async function startServers(api: HubApi, names: string[]): Promise<void> {
  try {
    const result = await api.post<ServersStart>('/lectern/servers', { users: names });
    const running = result.alreadyRunning.length;
    notify(`Starting ${plural(result.started.length, 'server')}${running ? ` (${running} running already)` : ''}.`);
    for (const refusal of result.refused) notifyError(refusal.reason);
  } catch (error) {
    notifyError(`No server was started: ${errorMessage(error)}`);
  }
}

export async function stopServers(api: HubApi, names: string[]): Promise<void> {
  const confirmed = await confirmAction({
    title: `Stop the servers of ${who(names)}?`,
    message: 'Their running code stops. Notebooks keep what was last saved; Jupyter saves every few minutes.',
    confirm: 'Stop servers',
    danger: true,
  });
  if (!confirmed) return;
  try {
    const result = await api.delete<ServersStop>('/lectern/servers', { users: names });
    notify(`Stopping ${plural(result.stopping.length, 'server')}.`);
  } catch (error) {
    notifyError(`No server was stopped: ${errorMessage(error)}`);
  }
}

/** Lets waiting sign-ups in; true when any was. Their waiting pages go on by themselves. */
export async function letIn(api: HubApi, names: string[]): Promise<boolean> {
  const failed = await eachOf(names, (name) => api.post(`/lectern${userPath(name, '/approve')}`));
  const done = names.length - failed.length;
  if (done > 0) notify(`${done === names.length ? who(names) : plural(done, 'student')} can log in now.`);
  for (const { name, error } of failed) notifyError(`${name} was not let in: ${errorMessage(error)}`);
  return done > 0;
}

/** Deletes waiting sign-ups after asking; true when any was. */
export async function turnAway(api: HubApi, names: string[]): Promise<boolean> {
  const confirmed = await confirmAction({
    title: `Turn away ${who(names)}?`,
    message: [
      names.length === 1 ? 'The sign-up is deleted, and its waiting page says so.' : 'The sign-ups are deleted, and their waiting pages say so.',
      'To let someone in later, they join again with the class code.',
    ],
    confirm: 'Turn away',
    danger: true,
  });
  if (!confirmed) return false;
  const failed = await eachOf(names, (name) => api.delete(userPath(name)));
  const done = names.length - failed.length;
  if (done > 0) notify(`${done === names.length ? who(names) : plural(done, 'sign-up')} turned away.`);
  for (const { name, error } of failed) notifyError(`${name} was not turned away: ${errorMessage(error)}`);
  return done > 0;
}

/** Runs `action` for every name, all at once; returns the ones that failed, with why. */
async function eachOf(names: string[], action: (name: string) => Promise<unknown>): Promise<{ name: string; error: unknown }[]> {
  const results = await Promise.allSettled(names.map(action));
  return results.flatMap((result, index) => (result.status === 'rejected' ? [{ name: names[index] as string, error: result.reason }] : []));
}
