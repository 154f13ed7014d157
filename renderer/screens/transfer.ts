/**
 * Export and import: the configuration as a Lectern file (the same setup on another laptop), or as
 * JupyterHub's own files for a class that outgrows one machine; and a Lectern file read back in,
 * with a preview of every change before anything is applied.
 */
import { ApiError, errorMessage, type HubApi } from '../api/client.js';
import type { ImportChange, ImportPreview, Problem, SettingsApplied, SettingsList } from '../api/types.js';
import { h, replaceChildren, uniqueId, type Child } from '../dom.js';
import { confirmAction } from '../ui/dialog.js';
import { plural } from '../ui/format.js';
import { notify, notifyError } from '../ui/notices.js';
import type { Screen, ScreenContext } from './screen.js';
import { saveDownload } from '../ui/download.js';

const EXPORTS = [
  {
    format: 'lectern',
    file: 'lectern.yaml',
    label: 'Lectern config file',
    purpose: 'The same settings, accounts and classes on another computer. Not a backup: it keeps no passwords and none of the students’ files.',
  },
  {
    format: 'jupyterhub',
    file: 'jupyterhub_config.py',
    label: 'JupyterHub config',
    purpose: 'For JupyterHub on one big server, such as The Littlest JupyterHub.',
  },
  {
    format: 'z2jh',
    file: 'values.yaml',
    label: 'Zero to JupyterHub values',
    purpose: 'For JupyterHub on Kubernetes.',
  },
] as const;

export function transferScreen(ctx: ScreenContext): Screen {
  const { api } = ctx;
  const element = h(
    'section',
    { class: 'screen transfer', attrs: { 'aria-labelledby': 'transfer-title' } },
    h('h1', { id: 'transfer-title', tabIndex: -1 }, 'Export / import'),
    h(
      'div',
      { class: 'settings-grid' },
      h(
        'section',
        { class: 'card', attrs: { 'aria-labelledby': 'export-title' } },
        h('h2', { id: 'export-title' }, 'Export the configuration'),
        h('p', { class: 'hint' }, 'The files name every account and class, and hold no passwords.'),
        h(
          'ul',
          { class: 'exports' },
          EXPORTS.map((entry) =>
            h(
              'li',
              null,
              h('button', { type: 'button', class: 'secondary', onclick: () => void download(api, entry.format, entry.file) }, `${entry.label} (${entry.file})`),
              h('p', { class: 'hint' }, entry.purpose),
            ),
          ),
        ),
      ),
      importCard(api),
    ),
  );
  return { title: 'Export / import', element, show: () => {}, hide: () => {} };
}

async function download(api: HubApi, format: string, defaultName: string): Promise<void> {
  try {
    await saveDownload(api, `/lectern/export?format=${format}`, defaultName);
  } catch (error) {
    notifyError(`${defaultName} could not be exported: ${errorMessage(error)}`);
  }
}

function importCard(api: HubApi): HTMLElement {
  const ids = { file: uniqueId('import-file'), text: uniqueId('import-text') };
  const fileInput = h('input', { id: ids.file, type: 'file', accept: '.yaml,.yml,text/yaml' });
  const textArea = h('textarea', { id: ids.text, rows: 8, spellcheck: false });
  const previewButton = h('button', { type: 'button', class: 'secondary' }, 'Preview changes');
  const applyButton = h('button', { type: 'button', class: 'primary', hidden: true }, 'Apply changes');
  const result = h('div', { attrs: { 'aria-live': 'polite' } });
  let previewed: string | null = null;

  fileInput.onchange = async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    textArea.value = await file.text();
    void preview();
  };
  textArea.oninput = () => {
    previewed = null;
    applyButton.hidden = true;
  };

  const preview = async () => {
    const text = textArea.value;
    if (!text.trim()) {
      replaceChildren(result, h('p', { class: 'problem' }, 'Choose a Lectern config file, or paste one, first.'));
      return;
    }
    previewButton.disabled = true;
    try {
      const [answer, labels] = await Promise.all([api.post<ImportPreview>('/lectern/import/preview', { text }), settingLabels(api)]);
      previewed = answer.problems.length === 0 && answer.changes.length > 0 ? text : null;
      applyButton.hidden = previewed === null;
      applyButton.textContent = `Apply ${plural(answer.changes.length, 'change')}`;
      replaceChildren(result, ...previewView(answer, labels));
    } catch (error) {
      replaceChildren(result, h('p', { class: 'problem', attrs: { role: 'alert' } }, errorMessage(error)));
    } finally {
      previewButton.disabled = false;
    }
  };

  const apply = async () => {
    if (previewed === null) return;
    const confirmed = await confirmAction({
      title: 'Apply the imported configuration?',
      message: 'The changes listed are made now. Export the current configuration first if you may want it back.',
      confirm: 'Apply changes',
    });
    if (!confirmed) return;
    applyButton.disabled = true;
    try {
      const { needsRestart } = await api.post<SettingsApplied>('/lectern/import', { text: previewed });
      const labels = await settingLabels(api);
      notify('The configuration was imported.');
      replaceChildren(
        result,
        h('p', { class: 'ok' }, 'Imported.'),
        needsRestart.length > 0
          ? h('p', { class: 'restart-note' }, `Restart Lectern to apply: ${needsRestart.map((key) => labels.get(key) ?? key).join(', ')}.`)
          : null,
      );
      applyButton.hidden = true;
      previewed = null;
    } catch (error) {
      const body = error instanceof ApiError ? (error.body as { problems?: Problem[] } | null) : null;
      const problems = (body?.problems ?? []).map(problemText);
      replaceChildren(result, h('p', { class: 'problem', attrs: { role: 'alert' } }, `Nothing was imported: ${[errorMessage(error), ...problems].join(' ')}`));
    } finally {
      applyButton.disabled = false;
    }
  };

  previewButton.onclick = () => void preview();
  applyButton.onclick = () => void apply();

  return h(
    'section',
    { class: 'card', attrs: { 'aria-labelledby': 'import-title' } },
    h('h2', { id: 'import-title' }, 'Import a Lectern config file'),
    h('div', { class: 'field' }, h('label', { htmlFor: ids.file }, 'Config file (lectern.yaml)'), fileInput),
    h('div', { class: 'field' }, h('label', { htmlFor: ids.text }, 'Or paste it here'), textArea),
    h('div', { class: 'actions' }, previewButton, applyButton),
    result,
  );
}

/** Settings' labels by key, to name changes as the Settings screen does; keys alone if unavailable. */
async function settingLabels(api: HubApi): Promise<Map<string, string>> {
  const list = await api.get<SettingsList>('/lectern/settings').catch(() => null);
  return new Map((list?.settings ?? []).map((setting) => [setting.key, setting.label]));
}

function previewView(preview: ImportPreview, labels: Map<string, string>): Child[] {
  const untouched =
    preview.configFileOnly.length > 0
      ? h(
          'details',
          { class: 'environments' },
          h('summary', null, `Also in the file, not changed by importing (${preview.configFileOnly.length})`),
          h('ul', null, preview.configFileOnly.map((entry) => h('li', null, problemText(entry)))),
        )
      : null;
  if (preview.problems.length > 0) {
    return [
      h('p', { class: 'problem', attrs: { role: 'alert' } }, 'This file cannot be imported until these are fixed:'),
      h('ul', { class: 'findings-problem' }, preview.problems.map((problem) => h('li', null, problemText(problem)))),
    ];
  }
  const summary =
    preview.changes.length === 0
      ? h('p', { class: 'ok' }, 'The settings in this file are the ones Lectern has: importing would change nothing.')
      : h('p', null, `Importing this file makes ${plural(preview.changes.length, 'change')}:`);
  return [
    summary,
    preview.changes.length > 0 ? h('ul', { class: 'changes' }, preview.changes.map((change) => changeItem(change, labels))) : null,
    untouched,
  ];
}

function changeItem(change: ImportChange, labels: Map<string, string>): HTMLElement {
  return h(
    'li',
    null,
    h('strong', null, labels.get(change.key) ?? change.key),
    `: ${shownValue(change.from)} → ${shownValue(change.to)}`,
    change.restartRequired ? h('span', { class: 'hint' }, ' (after Lectern restarts)') : null,
  );
}

function shownValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return 'not set';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function problemText(problem: Problem): string {
  return problem.key ? `${problem.key}: ${problem.message}` : problem.message;
}
