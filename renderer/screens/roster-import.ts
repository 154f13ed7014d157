/**
 * Importing a class list: paste it or choose a file, check it row by row (the hub says what is
 * wrong with each), import it all at once with progress while passwords are hashed, then see the
 * generated passwords once and open the printable login cards.
 */
import { errorMessage, type HubApi } from '../api/client.js';
import type { ImportedAccount, RosterPreview, RosterRow } from '../api/types.js';
import { h, replaceChildren, uniqueId, type Child } from '../dom.js';
import { openModal } from '../ui/dialog.js';
import { plural } from '../ui/format.js';

/** The last event of the import stream: the accounts made, or why none were. */
type ImportOutcome =
  | { done: true; imported: ImportedAccount[]; cardsUrl: string }
  | { done: true; status: number; message: string; rows?: RosterRow[] };

type ImportEvent = { progress: number; total: number; done?: undefined } | ImportOutcome;

/** Resolves true when accounts were created. */
export function importRosterDialog(api: HubApi): Promise<boolean> {
  const ids = { text: uniqueId('roster'), hint: uniqueId('roster-hint'), file: uniqueId('roster-file') };
  const textArea = h('textarea', { id: ids.text, rows: 8, spellcheck: false, attrs: { 'aria-describedby': ids.hint } });
  const fileInput = h('input', { id: ids.file, type: 'file', accept: '.csv,.tsv,.txt,text/csv,text/plain' });
  const checkButton = h('button', { type: 'button', class: 'secondary' }, 'Check the list');
  const importButton = h('button', { type: 'button', class: 'primary', disabled: true }, 'Import');
  const closeButton = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const result = h('div', { class: 'roster-result', attrs: { 'aria-live': 'polite' } });
  const entry = h(
    'div',
    null,
    h('div', { class: 'field' }, h('label', { htmlFor: ids.text }, 'Class list'), textArea),
    h(
      'p',
      { class: 'hint', id: ids.hint },
      'One student per line, or cells copied from a spreadsheet: name, display name, password, class. ',
      'A header row may name the columns in any order. Passwords left out are made up for you.',
    ),
    h('div', { class: 'field' }, h('label', { htmlFor: ids.file }, 'Or read a file (CSV or text)'), fileInput),
  );
  const modal = openModal('Import a class list', entry, result, h('div', { class: 'actions' }, closeButton, checkButton, importButton));
  modal.element.classList.add('wide');
  textArea.focus();

  let imported = false;
  let checkedText: string | null = null;

  fileInput.onchange = async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    textArea.value = await file.text();
    void check();
  };
  textArea.oninput = () => {
    importButton.disabled = true;
  };

  const check = async () => {
    const text = textArea.value;
    if (!text.trim()) {
      replaceChildren(result, h('p', { class: 'problem' }, 'The list is empty: paste some names first.'));
      return;
    }
    checkButton.disabled = true;
    try {
      const preview = await api.post<RosterPreview>('/lectern/roster/preview', { text });
      checkedText = text;
      replaceChildren(result, ...previewView(preview));
      importButton.textContent = `Import ${plural(preview.valid, 'student')}`;
      importButton.disabled = preview.invalid > 0 || preview.valid === 0;
    } catch (error) {
      replaceChildren(result, h('p', { class: 'problem', attrs: { role: 'alert' } }, errorMessage(error)));
    } finally {
      checkButton.disabled = false;
    }
  };

  const runImport = async () => {
    if (checkedText === null) return;
    importButton.disabled = true;
    checkButton.disabled = true;
    textArea.readOnly = true;
    const progress = h('progress', { max: 1, value: 0, id: uniqueId('progress') });
    const progressText = h('span', null, 'Creating accounts…');
    replaceChildren(result, h('div', { class: 'field' }, h('label', { htmlFor: progress.id }, progressText), progress));
    let outcome: ImportOutcome | null = null;
    try {
      await api.postStream<ImportEvent>('/lectern/roster/import', { text: checkedText }, (event) => {
        if (event.done) {
          outcome = event;
        } else {
          progress.max = Math.max(1, event.total);
          progress.value = event.progress;
          progressText.textContent = `Creating accounts… ${event.progress} of ${event.total}`;
        }
      });
    } catch (error) {
      outcome = { done: true, status: 0, message: errorMessage(error) };
    }
    textArea.readOnly = false;
    checkButton.disabled = false;
    const last = outcome as ImportOutcome | null;
    if (last && 'imported' in last) {
      imported = true;
      entry.hidden = true;
      checkButton.hidden = true;
      importButton.hidden = true;
      closeButton.textContent = 'Done';
      replaceChildren(result, ...importedView(last.imported, last.cardsUrl));
    } else {
      const message = last?.message ?? 'The import stopped before it finished: check the list of users before trying again.';
      replaceChildren(result, h('p', { class: 'problem', attrs: { role: 'alert' } }, message), last && 'rows' in last && last.rows ? rowsTable(last.rows) : null);
    }
  };

  checkButton.onclick = () => void check();
  importButton.onclick = () => void runImport();
  closeButton.onclick = () => modal.close();
  return modal.closed.then(() => imported);
}

function previewView(preview: RosterPreview): HTMLElement[] {
  const summary =
    preview.invalid > 0
      ? `${plural(preview.valid, 'row')} ready, ${plural(preview.invalid, 'row')} to fix: correct them above, then check again.`
      : `${plural(preview.valid, 'student')} ready to import.`;
  return [h('p', { class: preview.invalid > 0 ? 'problem' : 'ok' }, summary), rowsTable(preview.rows)];
}

function rowsTable(rows: RosterRow[]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap roster-rows' },
    h(
      'table',
      { class: 'data' },
      h(
        'thead',
        null,
        h('tr', null, ['Line', 'Name', 'Display name', 'Class', 'Password', 'Problems'].map((label) => h('th', { scope: 'col' }, label))),
      ),
      h(
        'tbody',
        null,
        rows.map((row) =>
          h(
            'tr',
            { class: row.problems.length > 0 ? 'row-problem' : '' },
            h('td', null, row.line),
            h('th', { scope: 'row' }, row.name),
            h('td', null, row.displayName ?? ''),
            h('td', null, row.group ?? ''),
            h('td', null, row.password === null ? 'made up for you' : 'from the list'),
            h('td', { class: 'problems' }, row.problems.join(' ')),
          ),
        ),
      ),
    ),
  );
}

function importedView(accounts: ImportedAccount[], cardsUrl: string): Child[] {
  const withPasswords = accounts.filter((account) => account.password);
  return [
    h('p', { class: 'ok' }, `${plural(accounts.length, 'account')} created.`),
    h('p', null, h('a', { href: cardsUrl, target: '_blank', rel: 'noopener', class: 'button primary' }, 'Open login cards to print')),
    withPasswords.length > 0
      ? h('p', null, 'The passwords made up for you are shown only now and on the login cards: print the cards or write them down.')
      : null,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data' },
        h('thead', null, h('tr', null, ['Name', 'Class', 'Password'].map((label) => h('th', { scope: 'col' }, label)))),
        h(
          'tbody',
          null,
          accounts.map((account) =>
            h('tr', null, h('th', { scope: 'row' }, account.name), h('td', null, account.group ?? ''), h('td', { class: 'secret-cell' }, account.password ?? 'from your list')),
          ),
        ),
      ),
    ),
  ];
}
