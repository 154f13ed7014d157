/**
 * Export and import: the configuration as a Lectern file (a backup, or another laptop), or as
 * JupyterHub's own files for a class that outgrows one machine; and a Lectern file read back in,
 * with a preview of every change before anything is applied.
 */
import { errorMessage, type HubApi } from '../api/client.js';
import type { ImportPreview, ImportProblem } from '../api/types.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import { confirmAction } from '../ui/dialog.js';
import { plural } from '../ui/format.js';
import { notify, notifyError } from '../ui/notices.js';
import type { Screen, ScreenContext } from './screen.js';

const EXPORTS = [
  {
    format: 'lectern',
    file: 'lectern.yaml',
    label: 'Lectern config file',
    purpose: 'A backup, or the same setup on another computer.',
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
    const { blob, fileName } = await api.download(`/lectern/export?format=${format}`);
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: fileName ?? defaultName, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // Revoked later, not at once: the browser may still be reading it for the download.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
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
      const answer = await api.post<ImportPreview>('/lectern/import/preview', { text });
      previewed = answer.problems.length === 0 && answer.changes.length > 0 ? text : null;
      applyButton.hidden = previewed === null;
      applyButton.textContent = `Apply ${plural(answer.changes.length, 'change')}`;
      replaceChildren(result, ...previewView(answer));
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
      await api.post('/lectern/import', { text: previewed });
      notify('The configuration was imported.');
      replaceChildren(result, h('p', { class: 'ok' }, 'Imported. Settings that apply only after a restart are listed on the Settings screen.'));
      applyButton.hidden = true;
      previewed = null;
    } catch (error) {
      replaceChildren(result, h('p', { class: 'problem', attrs: { role: 'alert' } }, `Nothing was imported: ${errorMessage(error)}`));
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

function previewView(preview: ImportPreview): HTMLElement[] {
  if (preview.problems.length > 0) {
    return [
      h('p', { class: 'problem', attrs: { role: 'alert' } }, 'This file cannot be imported until these are fixed:'),
      h('ul', { class: 'findings-problem' }, preview.problems.map((problem) => h('li', null, problemText(problem)))),
    ];
  }
  if (preview.changes.length === 0) return [h('p', { class: 'ok' }, 'This file matches the current configuration: nothing would change.')];
  return [
    h('p', null, `Importing this file makes ${plural(preview.changes.length, 'change')}:`),
    h(
      'ul',
      { class: 'changes' },
      preview.changes.map((change) => h('li', null, h('span', { class: 'badge' }, change.kind), ' ', h('strong', null, change.name), ` — ${change.description}`)),
    ),
  ];
}

function problemText(problem: ImportProblem): string {
  if (typeof problem === 'string') return problem;
  const where = problem.line !== undefined ? `Line ${problem.line}: ` : problem.key ? `${problem.key}: ` : '';
  return `${where}${problem.message}`;
}
