/**
 * The hub's settings as a form built from their description (`GET /hub/api/lectern/settings`):
 * each setting brings its label, help, type and limits, so a new setting needs no change here.
 * Only what the teacher changed is sent; the hub checks it and answers per setting, and the
 * problems show next to their fields. Some settings apply only after a restart, which is said.
 */
import { ApiError, errorMessage, type HubApi } from '../api/client.js';
import type { Problem, Setting, SettingsApplied, SettingsList, SettingValue } from '../api/types.js';
import { h, uniqueId } from '../dom.js';
import { notify } from '../ui/notices.js';

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
  const restartNote = h('p', { class: 'restart-note', attrs: { role: 'status' } });
  const formProblem = h('p', { class: 'problem', attrs: { role: 'alert' }, hidden: true });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save changes');
  const fields = list.settings.map(field);
  const pendingRestart = new Set(list.pendingRestart);

  const showRestartNote = () => {
    const names = [...pendingRestart].map((key) => labels.get(key) ?? key);
    restartNote.hidden = names.length === 0;
    restartNote.textContent = names.length ? `Restart Lectern to apply: ${names.join(', ')}.` : '';
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
        (setting.options ?? []).map((option) => h('option', { value: option, selected: option === setting.value }, option)),
      );
      input = select;
      read = () => select.value;
      label = h('label', { htmlFor: id }, setting.label);
      break;
    }
    case 'integer':
    case 'number': {
      const number = h('input', {
        id,
        type: 'number',
        step: setting.type === 'integer' ? '1' : 'any',
        inputMode: setting.type === 'integer' ? 'numeric' : 'decimal',
        value: setting.value === null ? '' : String(setting.value),
        attrs: { min: setting.min, max: setting.max, 'aria-describedby': describedBy },
      });
      input = number;
      // A half-typed number goes to the hub as written, so its message explains what is wrong.
      read = () => (number.value.trim() === '' ? emptyValue(setting) : Number.isNaN(number.valueAsNumber) ? number.value : number.valueAsNumber);
      label = h('label', { htmlFor: id }, setting.label);
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
    setting.type === 'boolean' ? null : input,
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
