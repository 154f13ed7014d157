/**
 * Importing a class list in three actions: Import class list, choose the file, Import and print
 * cards. The file is checked as soon as it is chosen (the hub says what it made of each row, and
 * what is wrong with it); when the hub guessed the columns wrong the teacher picks them here. The
 * import runs with progress while passwords are hashed, then this window opens the sheet of login
 * cards to print, with each student's password on it.
 */
import { errorMessage, type HubApi } from '../api/client.js';
import type { ColumnChoice, ImportedAccount, RosterColumn, RosterPreview, RosterRow } from '../api/types.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import { decodeTextFile } from '../text-files.js';
import { openModal } from '../ui/dialog.js';
import { plural } from '../ui/format.js';

/** The last event of the import stream: the accounts made, or why none were. */
type ImportOutcome =
  | { done: true; imported: ImportedAccount[]; cardsUrl: string }
  | { done: true; status: number; message: string; rows?: RosterRow[] };

type ImportEvent = { progress: number; total: number; done?: undefined } | ImportOutcome;

/** What a column can hold, in the teacher's words, in the order the picker lists them. */
const COLUMN_NAMES: Readonly<Record<RosterColumn, string>> = {
  firstName: 'First name',
  lastName: 'Last name',
  fullName: 'Full name',
  login: 'Login name',
  email: 'Email',
  studentId: 'Student ID',
  group: 'Class',
  password: 'Password',
};

/** How the teacher says to read the list; empty while the hub's guess stands. */
interface Reading {
  header?: boolean;
  columns?: (RosterColumn | null)[];
}

/**
 * Resolves true when accounts were created. `openCards` shows the sheet of login cards (the
 * dashboard navigates to it).
 */
export function importRosterDialog(api: HubApi, openCards: (cardsUrl: string) => void): Promise<boolean> {
  const ids = { file: uniqueId('roster-file'), text: uniqueId('roster'), hint: uniqueId('roster-hint') };
  const fileInput = h('input', { id: ids.file, type: 'file', accept: '.csv,.tsv,.txt,text/csv,text/plain', attrs: { 'aria-describedby': ids.hint } });
  const textArea = h('textarea', { id: ids.text, rows: 6, spellcheck: false });
  const checkButton = h('button', { type: 'button', class: 'secondary' }, 'Check the list');
  const importButton = h('button', { type: 'button', class: 'primary', hidden: true }, 'Import and print cards');
  const closeButton = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const result = h('div', { class: 'roster-result', attrs: { 'aria-live': 'polite' } });
  const entry = h(
    'div',
    null,
    h('div', { class: 'field' }, h('label', { htmlFor: ids.file }, 'Class list file'), fileInput),
    h(
      'p',
      { class: 'hint', id: ids.hint },
      'A CSV exported from your school system or a spreadsheet: names (first and last, or full), and if you like emails, classes or passwords. ',
      'Each student gets a login name made from their name, a password made up for them, and a login card to print.',
    ),
    h(
      'details',
      { class: 'paste' },
      h('summary', null, 'Or paste the list'),
      h('div', { class: 'field' }, h('label', { htmlFor: ids.text }, 'Class list, one student per line'), textArea),
      h('div', { class: 'actions' }, checkButton),
    ),
  );
  const modal = openModal('Import a class list', entry, result, h('div', { class: 'actions' }, closeButton, importButton));
  modal.element.classList.add('wide');
  fileInput.focus();

  let imported = false;
  /** The list last checked, and how it was read: what Import imports. */
  let checked: { text: string; reading: Reading } | null = null;

  fileInput.onchange = async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    textArea.value = decodeTextFile(await file.arrayBuffer());
    void check({});
  };
  textArea.oninput = () => {
    importButton.hidden = true;
  };

  const check = async (reading: Reading) => {
    const text = textArea.value;
    if (!text.trim()) {
      replaceChildren(result, h('p', { class: 'problem' }, 'The list is empty: choose a file, or paste some names.'));
      return;
    }
    checkButton.disabled = true;
    try {
      const preview = await api.post<RosterPreview>('/lectern/roster/preview', { text, ...reading });
      checked = { text, reading };
      replaceChildren(result, ...previewView(preview, (next) => void check(next)));
      importButton.textContent = preview.valid === 1 ? 'Import 1 student and print the card' : `Import ${preview.valid} students and print cards`;
      importButton.hidden = preview.invalid > 0 || preview.valid === 0;
    } catch (error) {
      importButton.hidden = true;
      replaceChildren(result, h('p', { class: 'problem', attrs: { role: 'alert' } }, errorMessage(error)));
    } finally {
      checkButton.disabled = false;
    }
  };

  const runImport = async () => {
    if (checked === null) return;
    importButton.disabled = true;
    checkButton.disabled = true;
    entry.hidden = true;
    const progress = h('progress', { max: 1, value: 0, id: uniqueId('progress') });
    const progressText = h('span', null, 'Creating accounts…');
    replaceChildren(result, h('div', { class: 'field' }, h('label', { htmlFor: progress.id }, progressText), progress));
    let outcome: ImportOutcome | null = null;
    try {
      await api.postStream<ImportEvent>('/lectern/roster/import', { text: checked.text, ...checked.reading }, (event) => {
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
    importButton.disabled = false;
    checkButton.disabled = false;
    const last = outcome as ImportOutcome | null;
    if (last && 'imported' in last) {
      imported = true;
      importButton.hidden = true;
      closeButton.textContent = 'Done';
      replaceChildren(result, h('p', { class: 'ok' }, `${plural(last.imported.length, 'account')} created. Opening the login cards…`));
      modal.close();
      openCards(last.cardsUrl);
    } else {
      entry.hidden = false;
      const message = last?.message ?? 'The import stopped before it finished: check the list of users before trying again.';
      replaceChildren(result, h('p', { class: 'problem', attrs: { role: 'alert' } }, message), last && 'rows' in last && last.rows ? rowsTable(last.rows) : null);
    }
  };

  checkButton.onclick = () => void check({});
  importButton.onclick = () => void runImport();
  closeButton.onclick = () => modal.close();
  return modal.closed.then(() => imported);
}

function previewView(preview: RosterPreview, reread: (reading: Reading) => void): HTMLElement[] {
  const parts = [
    preview.invalid > 0
      ? `${plural(preview.valid, 'row')} ready, ${plural(preview.invalid, 'row')} to fix: correct the list, or choose what each column holds.`
      : `${plural(preview.valid, 'student')} ready to import.`,
  ];
  if (preview.existing > 0) parts.push(`${plural(preview.existing, 'student')} already ${preview.existing === 1 ? 'has an account' : 'have accounts'} and ${preview.existing === 1 ? 'is' : 'are'} left out.`);
  return [h('p', { class: preview.invalid > 0 ? 'problem' : 'ok' }, parts.join(' ')), columnsPicker(preview, reread), rowsTable(preview.rows)];
}

/** What the hub made of each column, to correct: changing one checks the list again, read that way. */
function columnsPicker(preview: RosterPreview, reread: (reading: Reading) => void): HTMLElement {
  const selects = preview.columns.map((choice) => columnSelect(choice));
  const headerBox = h('input', { type: 'checkbox', checked: preview.header });
  const again = () => reread({ header: headerBox.checked, columns: selects.map((select) => (select.value || null) as RosterColumn | null) });
  for (const select of selects) select.onchange = again;
  headerBox.onchange = () => reread({ header: headerBox.checked });
  return h(
    'fieldset',
    { class: 'roster-columns' },
    h('legend', null, 'What each column holds'),
    h('div', { class: 'column-choices' }, selects.map((select, index) => h('label', null, h('span', { class: 'column-label' }, preview.columns[index]?.label ?? ''), select))),
    h('label', { class: 'check' }, headerBox, ' The first line names the columns'),
  );
}

function columnSelect(choice: ColumnChoice): HTMLSelectElement {
  const select = h(
    'select',
    null,
    h('option', { value: '' }, 'Leave out'),
    (Object.keys(COLUMN_NAMES) as RosterColumn[]).map((column) => h('option', { value: column }, COLUMN_NAMES[column])),
  );
  select.value = choice.column ?? '';
  return select;
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
        h('tr', null, ['Line', 'Login name', 'Full name', 'Class', 'Password', 'Notes'].map((label) => h('th', { scope: 'col' }, label))),
      ),
      h(
        'tbody',
        null,
        rows.map((row) =>
          h(
            'tr',
            { class: row.problems.length > 0 ? 'row-problem' : row.existing ? 'row-existing' : '' },
            h('td', null, row.line),
            h('th', { scope: 'row' }, row.name),
            h('td', null, row.displayName ?? ''),
            h('td', null, row.group ?? ''),
            h('td', null, row.existing ? '' : row.password === 'generated' ? 'made up for you' : 'from the list'),
            h('td', null, row.problems.length > 0 ? h('span', { class: 'problems' }, row.problems.join(' ')) : null, row.note ? h('span', { class: 'note' }, row.note) : null),
          ),
        ),
      ),
    ),
  );
}
