/**
 * The hub's settings as a form built from their description (`GET /hub/api/lectern/settings`):
 * each setting brings its label, help, type and limits, so a new setting needs no change here.
 * Only what the teacher changed is sent; the hub checks it and answers per setting, and the
 * problems show next to their fields. Some settings apply only after a restart, which is said, with
 * a button that restarts Lectern when it can.
 */
import { ApiError, errorMessage, type HubApi } from '../api/client.js';
import type { Problem, Setting, SettingsApplied, SettingsList, SettingValue } from '../api/types.js';
import { h, uniqueId } from '../dom.js';
import { confirmAction } from '../ui/dialog.js';
import { notify, notifyError } from '../ui/notices.js';

/** How often the page asks whether the restarted hub is back. */
const RESTART_POLL_MS = 1_000;

interface Field {
  setting: Setting;
  element: HTMLElement;
  input: HTMLInputElement | HTMLSelectElement;
  problem: HTMLElement;
  /** The value to save; the setting's own value when the field cannot change it. */
  read(): SettingValue;
}

export function settingsForm(api: HubApi, list: SettingsList): HTMLElement {
  const labels = new Map(list.settings.map((setting) => [setting.key, setting.label]));
  const restartText = h('span');
  const restartButton = h('button', { type: 'button', class: 'primary small' }, 'Restart Lectern now');
  const restartNote = h('div', { class: 'restart-note', attrs: { role: 'status' } }, restartText, list.canRestart ? restartButton : null);
  const formProblem = h('p', { class: 'problem', attrs: { role: 'alert' }, hidden: true });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save changes');
  const fields = list.settings.map(field);
  const pendingRestart = new Set(list.pendingRestart);

  const showRestartNote = () => {
    const names = [...pendingRestart].map((key) => labels.get(key) ?? key);
    restartNote.hidden = names.length === 0;
    restartText.textContent = names.length ? `Restart Lectern to apply: ${names.join(', ')}.` : '';
  };

  restartButton.onclick = async () => {
    const confirmed = await confirmAction({
      title: 'Restart Lectern?',
      message: [
        'Every student’s server stops: running code stops, and notebooks keep what was last saved. Students start theirs again by opening Lectern; nobody has to log in again.',
        'This page comes back by itself once Lectern has restarted.',
      ],
      confirm: 'Restart Lectern',
      danger: true,
    });
    if (!confirmed) return;
    const waitingFor = [...pendingRestart];
    restartButton.disabled = true;
    try {
      await api.post('/lectern/restart');
    } catch (error) {
      notifyError(`Lectern did not restart: ${errorMessage(error)}`);
      restartButton.disabled = false;
      return;
    }
    const newPort = pendingRestart.has('network.port') ? fields.find((entry) => entry.setting.key === 'network.port')?.setting.value : null;
    if (typeof newPort === 'number' && newPort !== 0 && String(newPort) !== window.location.port) {
      // The page's own address goes away with the old port.
      const next = new URL(window.location.href);
      next.port = String(newPort);
      restartText.textContent = 'Lectern is restarting on its new port…';
      setTimeout(() => window.location.assign(next.href), 3 * RESTART_POLL_MS);
      return;
    }
    restartText.textContent = 'Lectern is restarting… This page comes back by itself.';
    await waitForRestart(api, waitingFor);
    window.location.reload();
  };
  showRestartNote();

  const form = h(
    'form',
    { class: 'form settings-form', noValidate: true },
    restartNote,
    fields.map((entry) => entry.element),
    formProblem,
    h('div', { class: 'actions' }, save),
  );

  form.onsubmit = async (event) => {
    event.preventDefault();
    for (const entry of fields) showProblem(entry, null);
    formProblem.hidden = true;
    const changes: Record<string, SettingValue> = {};
    for (const entry of fields) {
      const value = entry.read();
      if (value !== entry.setting.value) changes[entry.setting.key] = value;
    }
    if (Object.keys(changes).length === 0) {
      notify('Nothing was changed.');
      return;
    }
    save.disabled = true;
    try {
      const result = await api.patch<SettingsApplied>('/lectern/settings', { changes });
      for (const entry of fields) if (entry.setting.key in changes) entry.setting.value = changes[entry.setting.key] ?? null;
      for (const key of result.needsRestart) pendingRestart.add(key);
      // Set back to the value Lectern runs with: nothing waits for a restart any more.
      for (const key of result.applied) pendingRestart.delete(key);
      showRestartNote();
      const applied = result.applied.map((key) => labels.get(key) ?? key);
      const later = result.needsRestart.map((key) => labels.get(key) ?? key);
      notify(
        [applied.length ? `Saved and in effect: ${applied.join(', ')}.` : '', later.length ? `Saved, after a restart of Lectern: ${later.join(', ')}.` : '']
          .filter(Boolean)
          .join(' ') || 'Saved.',
      );
    } catch (error) {
      const problems = problemsOf(error);
      for (const problem of problems) {
        const entry = fields.find((candidate) => candidate.setting.key === problem.key);
        if (entry) showProblem(entry, problem.message);
      }
      const unplaced = problems.filter((problem) => !fields.some((entry) => entry.setting.key === problem.key));
      if (problems.length === 0 || unplaced.length > 0) {
        formProblem.textContent = `Nothing was saved: ${[errorMessage(error), ...unplaced.map((problem) => problem.message)].join(' ')}`;
        formProblem.hidden = false;
      }
      fields.find((entry) => !entry.problem.hidden)?.input.focus();
    } finally {
      save.disabled = false;
    }
  };
  return form;
}

function field(setting: Setting): Field {
  const id = uniqueId(`setting-${setting.key.replace(/\W/g, '-')}`);
  const describedBy = `${id}-help ${id}-problem`;
  const problem = h('p', { class: 'field-problem', id: `${id}-problem`, hidden: true });
  const help = h('p', { class: 'hint', id: `${id}-help` }, setting.description, setting.restartRequired ? ' Applies after Lectern restarts.' : '');
  let input: HTMLInputElement | HTMLSelectElement;
  let read: () => SettingValue;
  let label: HTMLElement;
  let unit: HTMLElement | null = null;
  switch (setting.type) {
    case 'boolean': {
      const box = h('input', { id, type: 'checkbox', checked: setting.value === true, attrs: { 'aria-describedby': describedBy } });
      input = box;
      read = () => box.checked;
      label = h('label', { class: 'check' }, box, ` ${setting.label}`);
      break;
    }
    case 'enum': {
      const select = h(
        'select',
        { id, attrs: { 'aria-describedby': describedBy } },
        (setting.options ?? []).map((option) => h('option', { value: option, selected: option === setting.value }, setting.choices?.[option] ?? option)),
      );
      input = select;
      read = () => select.value;
      label = h('label', { htmlFor: id }, setting.label);
      break;
    }
    case 'integer':
    case 'number': {
      // Shown in the unit a teacher thinks in (minutes), stored in the hub's (seconds).
      const factor = setting.display?.factor ?? 1;
      const shown = (value: number | undefined) => (value === undefined ? undefined : value / factor);
      const number = h('input', {
        id,
        type: 'number',
        step: setting.type === 'integer' && factor === 1 ? '1' : 'any',
        inputMode: setting.type === 'integer' && factor === 1 ? 'numeric' : 'decimal',
        value: typeof setting.value === 'number' ? String(setting.value / factor) : '',
        attrs: { min: shown(setting.min), max: shown(setting.max), 'aria-describedby': describedBy },
      });
      input = number;
      // A half-typed number goes to the hub as written, so its message explains what is wrong.
      read = () => {
        if (number.value.trim() === '') return emptyValue(setting);
        if (Number.isNaN(number.valueAsNumber)) return number.value;
        const value = number.valueAsNumber * factor;
        return setting.type === 'integer' ? Math.round(value) : value;
      };
      label = h('label', { htmlFor: id }, setting.label);
      if (setting.display) unit = h('span', { class: 'unit' }, setting.display.unit);
      break;
    }
    case 'string': {
      const text = h('input', { id, type: 'text', value: setting.value === null ? '' : String(setting.value), attrs: { 'aria-describedby': describedBy } });
      input = text;
      read = () => (text.value === '' ? emptyValue(setting) : text.value);
      label = h('label', { htmlFor: id }, setting.label);
      break;
    }
    default: {
      // A kind of setting newer than this page: shown, and left as it is.
      const shown = h('input', { id, type: 'text', readOnly: true, value: JSON.stringify(setting.value), attrs: { 'aria-describedby': describedBy } });
      input = shown;
      read = () => setting.value;
      label = h('label', { htmlFor: id }, setting.label);
    }
  }
  const element = h(
    'div',
    { class: ['field', setting.type === 'boolean' && 'field-check'], attrs: { 'data-setting': setting.key } },
    label,
    setting.type === 'boolean' ? null : unit ? h('div', { class: 'with-unit' }, input, unit) : input,
    help,
    problem,
  );
  return { setting, element, input, problem, read };
}

/** What an emptied field means: "none" for a setting that may be null, else an empty text. */
function emptyValue(setting: Setting): SettingValue {
  return setting.nullable ? null : '';
}

function showProblem(entry: Field, message: string | null): void {
  entry.problem.hidden = message === null;
  entry.problem.textContent = message ?? '';
  if (message === null) entry.input.removeAttribute('aria-invalid');
  else entry.input.setAttribute('aria-invalid', 'true');
}

function problemsOf(error: unknown): Problem[] {
  if (!(error instanceof ApiError) || error.status !== 400) return [];
  const problems = (error.body as { problems?: unknown } | null)?.problems;
  return Array.isArray(problems) ? problems.filter((problem): problem is Problem => typeof problem?.message === 'string') : [];
}

/**
 * Resolves once the restarted hub answers with none of `keys` waiting any more: the old hub may
 * still answer for a moment while it stops, and must not be taken for the new one.
 */
async function waitForRestart(api: HubApi, keys: string[]): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, RESTART_POLL_MS));
    try {
      const { pendingRestart } = await api.get<SettingsList>('/lectern/settings');
      if (!keys.some((key) => pendingRestart.includes(key))) return;
    } catch {
      // Not back yet.
    }
  }
}
