/**
 * What a teacher can do to a student's account or server, each one API call behind a plain
 * question when it cannot be undone, and a plain sentence after. Shared by the users and servers
 * screens.
 */
import { errorMessage, type HubApi } from '../api/client.js';
import type { GroupModel, PasswordReset } from '../api/types.js';
import { h, uniqueId } from '../dom.js';
import { confirmAction, inform, openModal } from '../ui/dialog.js';
import { notify, notifyError } from '../ui/notices.js';

/** `/users/ada`, with the name escaped as a path segment. */
export function userPath(name: string, rest = ''): string {
  return `/users/${encodeURIComponent(name)}${rest}`;
}

/** Starts a student's server; progress shows through the event stream, a refusal here. */
export async function startServer(api: HubApi, name: string): Promise<void> {
  notify(`Starting ${name}’s server…`);
  try {
    await api.post(userPath(name, '/server'));
  } catch (error) {
    notifyError(`${name}’s server did not start: ${errorMessage(error)}`);
  }
}

export async function stopServer(api: HubApi, name: string, serverName = ''): Promise<boolean> {
  try {
    await api.delete(userPath(name, serverName ? `/servers/${encodeURIComponent(serverName)}` : '/server'));
    return true;
  } catch (error) {
    notifyError(`${name}’s server did not stop: ${errorMessage(error)}`);
    return false;
  }
}

/**
 * A student's work, as the hub shows it: folders, notebooks, text and images, read only, with
 * nothing of the student's run. The way to look at work; `openLiveServer` is the deliberate other.
 */
export function viewWorkLink(api: HubApi, name: string): HTMLAnchorElement {
  return h(
    'a',
    {
      class: 'button secondary small',
      href: api.hubPath(`hub/work/${encodeURIComponent(name)}/`),
      target: '_blank',
      rel: 'noopener',
      attrs: { 'aria-label': `View ${name}’s work in a new tab`, 'data-focus': `${name}:work` },
    },
    'View work',
  );
}

/** Opens a student's live server in a new tab, once the teacher has read what that means. */
export async function openLiveServer(api: HubApi, name: string, serverName = ''): Promise<void> {
  const confirmed = await confirmAction({
    title: `Open ${name}’s live server?`,
    message: [
      `You will use ${name}’s own Jupyter, in a new tab: her notebooks run and her pages show as she made them, and what you run or change there is done as ${name}.`,
      'Her pages open at an address of their own, so they cannot act as you on Lectern. To look at work without running any of it, use View work.',
    ],
    confirm: 'Open live server',
  });
  if (!confirmed) return;
  const path = `user/${encodeURIComponent(name)}/${serverName ? `${encodeURIComponent(serverName)}/` : ''}`;
  window.open(api.hubPath(path), '_blank', 'noopener');
}

/** Gives the student a new temporary password and shows it, once. */
export async function resetPassword(api: HubApi, name: string): Promise<void> {
  const confirmed = await confirmAction({
    title: `New password for ${name}?`,
    message: `${name} gets a new temporary password and their current one stops working. They choose their own the next time they log in.`,
    confirm: 'Make a new password',
  });
  if (!confirmed) return;
  let reset: PasswordReset;
  try {
    reset = await api.post<PasswordReset>(`/lectern${userPath(name, '/password-reset')}`, { mustChange: true });
  } catch (error) {
    notifyError(`The password was not changed: ${errorMessage(error)}`);
    return;
  }
  await showNewPassword(reset);
}

/** A password the hub made up, shown this once. */
function showNewPassword(reset: PasswordReset): Promise<void> {
  return inform(
    `New password for ${reset.name}`,
    h('p', { class: 'secret' }, reset.password),
    h(
      'p',
      null,
      reset.mustChange ? `${reset.name} logs in with it once, then chooses a new password. ` : '',
      'This is the only time it is shown: give it to them or write it down now.',
    ),
  );
}

export async function setAdmin(api: HubApi, name: string, admin: boolean): Promise<boolean> {
  const confirmed = await confirmAction(
    admin
      ? {
          title: `Make ${name} a teacher?`,
          message: 'Teachers (admins) can open every student’s server, manage accounts and change Lectern’s settings.',
          confirm: 'Make teacher',
        }
      : {
          title: `Make ${name} a student again?`,
          message: `${name} will no longer manage accounts or settings.`,
          confirm: 'Remove teacher rights',
        },
  );
  if (!confirmed) return false;
  try {
    await api.patch(userPath(name), { admin });
    notify(admin ? `${name} is now a teacher.` : `${name} is no longer a teacher.`);
    return true;
  } catch (error) {
    notifyError(`Nothing was changed: ${errorMessage(error)}`);
    return false;
  }
}

export async function deleteUser(api: HubApi, name: string): Promise<boolean> {
  const confirmed = await confirmAction({
    title: `Delete ${name}’s account?`,
    message: [
      `${name} will no longer be able to log in, and their server is stopped.`,
      'Their notebooks stay on this computer, in Lectern’s data folder.',
    ],
    confirm: 'Delete account',
    danger: true,
  });
  if (!confirmed) return false;
  try {
    await api.delete(userPath(name));
    notify(`${name}’s account was deleted.`);
    return true;
  } catch (error) {
    notifyError(`${name}’s account was not deleted: ${errorMessage(error)}`);
    return false;
  }
}

/**
 * Makes printable login cards and offers a link to them. A link the teacher clicks, not a window
 * opened for them: a window opened after waiting for the hub is blocked as a pop-up.
 */
export async function printLoginCards(api: HubApi, names: string[], { newPasswords = false } = {}): Promise<void> {
  if (names.length === 0) return;
  const choice = await cardsChoice(names, newPasswords);
  if (!choice) return;
  try {
    const { cardsUrl } = await api.post<{ cardsUrl: string }>('/lectern/login-cards', { users: names, ...choice });
    await inform(
      'Login cards are ready',
      h('p', null, names.length === 1 ? `The card for ${names[0]} is ready to print.` : `Cards for ${names.length} students are ready to print.`),
      h('p', null, h('a', { href: cardsUrl, target: '_blank', rel: 'noopener', class: 'button primary' }, 'Open login cards')),
    );
  } catch (error) {
    notifyError(`Login cards could not be made: ${errorMessage(error)}`);
  }
}

/**
 * What the new cards do to the old ones, in the teacher's words: cards already handed out keep
 * working unless the teacher says they were lost, and a card shows a password only if it is a new
 * one (the old ones are stored as hashes: nobody can print them).
 */
function cardsChoice(names: string[], newPasswords: boolean): Promise<{ newPasswords: boolean; revokeEarlier: boolean } | null> {
  const who = names.length === 1 ? (names[0] as string) : `${names.length} students`;
  const keep = h('input', { type: 'radio', name: 'passwords', checked: !newPasswords });
  const fresh = h('input', { type: 'radio', name: 'passwords', checked: newPasswords });
  const revoke = h('input', { type: 'checkbox' });
  const make = h('button', { type: 'button', class: 'primary' }, 'Make cards');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const modal = openModal(
    `Login cards for ${who}`,
    h('p', null, 'Each card’s QR code logs its student in once, for a week. Cards you printed before keep working.'),
    h(
      'fieldset',
      { class: 'choices' },
      h('legend', null, 'Passwords'),
      h('label', { class: 'check' }, keep, ' Students keep their passwords. The card says “your password”.'),
      h('label', { class: 'check' }, fresh, ' New passwords, printed on the cards. Students choose their own at the first login; their old passwords and old cards stop working.'),
    ),
    h('label', { class: 'check' }, revoke, ' A card was lost: stop the cards printed before.'),
    h('div', { class: 'actions' }, cancel, make),
  );
  let chosen: { newPasswords: boolean; revokeEarlier: boolean } | null = null;
  make.onclick = () => {
    chosen = { newPasswords: fresh.checked, revokeEarlier: revoke.checked };
    modal.close();
  };
  cancel.onclick = () => modal.close();
  make.focus();
  return modal.closed.then(() => chosen);
}

/**
 * The "Add a user" form; resolves with the new name, or null when cancelled. A password left empty
 * is made up by the hub and shown once, except in first-use mode (`firstUse`), where the first
 * password the student types becomes theirs.
 */
export function addUserDialog(api: HubApi, groups: GroupModel[], firstUse: boolean): Promise<string | null> {
  const ids = { name: uniqueId('new-name'), password: uniqueId('new-password'), group: uniqueId('new-group'), hint: uniqueId('hint') };
  const nameInput = h('input', { id: ids.name, name: 'name', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: false });
  const passwordInput = h('input', {
    id: ids.password,
    name: 'password',
    type: 'text',
    autocomplete: 'new-password',
    attrs: { 'aria-describedby': ids.hint },
  });
  const groupSelect = h(
    'select',
    { id: ids.group, name: 'group' },
    h('option', { value: '' }, 'No class'),
    groups.map((group) => h('option', { value: group.name }, group.name)),
  );
  const adminBox = h('input', { type: 'checkbox', name: 'admin' });
  const problem = h('p', { class: 'problem', attrs: { role: 'alert' }, hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add user');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const form = h(
    'form',
    { class: 'form' },
    h('div', { class: 'field' }, h('label', { htmlFor: ids.name }, 'Username'), nameInput),
    h(
      'div',
      { class: 'field' },
      h('label', { htmlFor: ids.password }, 'Password'),
      passwordInput,
      h(
        'p',
        { class: 'hint', id: ids.hint },
        firstUse
          ? 'Leave it empty and the first password the student types becomes theirs.'
          : 'Shown as you type, so you can write it down for the student. Leave it empty and one is made up for you.',
      ),
    ),
    groups.length > 0 ? h('div', { class: 'field' }, h('label', { htmlFor: ids.group }, 'Class'), groupSelect) : null,
    h('label', { class: 'check' }, adminBox, ' Teacher (admin): can manage accounts and settings'),
    problem,
    h('div', { class: 'actions' }, cancel, submit),
  );
  const modal = openModal('Add a user', form);
  nameInput.focus();
  let added: string | null = null;
  cancel.onclick = () => modal.close();
  form.onsubmit = async (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    submit.disabled = true;
    problem.hidden = true;
    try {
      await api.post(userPath(name), { password: passwordInput.value || undefined, admin: adminBox.checked });
      added = name;
      if (groupSelect.value) await api.patch(userPath(name), { groups: [groupSelect.value] });
    } catch (error) {
      if (!added) {
        problem.textContent = errorMessage(error);
        problem.hidden = false;
        return;
      }
      notifyError(`${name} was added, but not to the class: ${errorMessage(error)}`);
    } finally {
      submit.disabled = false;
    }
    modal.close();
    if (passwordInput.value || firstUse) {
      notify(`${name} was added.`);
      return;
    }
    try {
      await showNewPassword(await api.post<PasswordReset>(`/lectern${userPath(name, '/password-reset')}`, { mustChange: true }));
    } catch (error) {
      notifyError(`${name} was added without a password, and none could be made up: ${errorMessage(error)} Use New password on their row.`);
    }
  };
  return modal.closed.then(() => added);
}
