// Roster page: previews a roster, imports it with a progress bar fed by the import's event
// stream, shows the accounts made (their made-up passwords this once) with the link to their
// login cards, and makes new cards for existing accounts. Talks to the hub's REST API with the
// session cookie (same origin only).
const roster = document.getElementById('roster');
const text = document.getElementById('roster-text');
const fileInput = document.getElementById('roster-file');
const previewButton = document.getElementById('preview-button');
const importButton = document.getElementById('import-button');
const statusLine = document.getElementById('roster-status');
const errorLine = document.getElementById('roster-error');
const progress = document.getElementById('import-progress');
const previewTable = document.getElementById('preview-table');
const result = document.getElementById('import-result');
const reprint = document.getElementById('reprint');
const reprintNames = document.getElementById('reprint-names');
const reprintButton = document.getElementById('reprint-button');
const reprintError = document.getElementById('reprint-error');

function showError(element, message) {
  element.textContent = message || '';
  element.hidden = !message;
}

function addCell(row, value, className) {
  const cell = row.insertCell();
  cell.textContent = value ?? '';
  if (className) cell.className = className;
}

function postJson(url, body, accept = 'application/json') {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: accept },
    body: JSON.stringify(body),
  });
}

async function messageOf(response) {
  const body = await response.json().catch(() => ({}));
  return body.message || `The hub answered ${response.status}.`;
}

function showPreview(preview) {
  const body = previewTable.tBodies[0];
  body.replaceChildren();
  for (const row of preview.rows) {
    const tr = body.insertRow();
    if (row.problems.length > 0) tr.className = 'bad';
    addCell(tr, String(row.line));
    addCell(tr, row.name);
    addCell(tr, row.displayName);
    addCell(tr, row.existing ? '' : row.password === 'given' ? 'from the roster' : 'made up');
    addCell(tr, row.group);
    addCell(tr, row.problems.join(' '), 'problems');
    addCell(tr, row.note);
  }
  previewTable.hidden = preview.rows.length === 0;
  const leftOut = preview.columns.filter((choice) => choice.column === null).map((choice) => choice.label);
  const notes = [
    preview.existing > 0 ? ` ${preview.existing} already ${preview.existing === 1 ? 'has an account' : 'have accounts'}: left out.` : '',
    leftOut.length > 0 ? ` Columns left out: ${leftOut.join(', ')}.` : '',
  ].join('');
  if (preview.rows.length === 0) {
    statusLine.textContent = 'The roster is empty: paste names, one per line, or open a file.';
  } else if (preview.invalid === 0) {
    statusLine.textContent = `${preview.valid} ${preview.valid === 1 ? 'student' : 'students'} ready to import.${notes}`;
  } else {
    statusLine.textContent = `${preview.invalid} of ${preview.rows.length} rows need fixing (marked below): correct the roster and press Preview again.${notes}`;
  }
  importButton.disabled = !(preview.invalid === 0 && preview.valid > 0);
}

async function preview() {
  showError(errorLine, '');
  importButton.disabled = true;
  previewButton.disabled = true;
  try {
    const response = await postJson(roster.dataset.previewUrl, { text: text.value });
    if (response.ok) {
      showPreview(await response.json());
    } else {
      previewTable.hidden = true;
      statusLine.textContent = '';
      showError(errorLine, await messageOf(response));
    }
  } catch {
    showError(errorLine, 'The hub did not answer. Is it still running?');
  } finally {
    previewButton.disabled = false;
  }
}

/** Reads server-sent events, calling `onEvent` for each, until the one that says `done`. */
async function lastEvent(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffer += decoder.decode(value, { stream: true });
    let split;
    while ((split = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      if (!data) continue;
      const event = JSON.parse(data);
      if (event.done) return event;
      onEvent(event);
    }
  }
}

function showResult(answer) {
  const body = result.querySelector('#result-table').tBodies[0];
  body.replaceChildren();
  for (const account of answer.imported) {
    const tr = body.insertRow();
    addCell(tr, account.name);
    addCell(tr, account.displayName);
    addCell(tr, account.group);
    addCell(tr, account.password ?? '(from the roster)', 'password');
  }
  result.querySelector('#cards-link').href = answer.cardsUrl;
  result.hidden = false;
  previewTable.hidden = true;
  statusLine.textContent = `${answer.imported.length} ${answer.imported.length === 1 ? 'account' : 'accounts'} created.`;
  result.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function runImport() {
  showError(errorLine, '');
  importButton.disabled = true;
  previewButton.disabled = true;
  text.readOnly = true;
  progress.value = 0;
  progress.hidden = false;
  statusLine.textContent = 'Creating accounts…';
  let imported = false;
  try {
    const response = await postJson(roster.dataset.importUrl, { text: text.value }, 'text/event-stream');
    if (!response.ok) {
      const refusal = await response.json().catch(() => ({}));
      if (refusal.rows) showPreview(refusal);
      showError(errorLine, refusal.message || `The hub answered ${response.status}.`);
      return;
    }
    const last = await lastEvent(response, (event) => {
      progress.max = event.total || 1;
      progress.value = event.progress;
      statusLine.textContent = `Setting passwords: ${event.progress} of ${event.total}`;
    });
    if (!last) {
      showError(errorLine, 'The import stopped before it finished. Reload the page and check the users list before importing again.');
    } else if (last.status) {
      if (last.rows) showPreview(last);
      showError(errorLine, last.message);
    } else {
      imported = true;
      showResult(last);
    }
  } catch {
    showError(errorLine, 'The hub did not answer. Reload the page and check the users list before importing again.');
  } finally {
    progress.hidden = true;
    previewButton.disabled = false;
    text.readOnly = false;
    if (imported) importButton.disabled = true;
  }
}

/** A file's text: UTF-8, or UTF-16 and Windows-1252 as spreadsheet programs on Windows save CSV (as `lectern users import` reads it). */
function decode(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  const utf8 = new TextDecoder('utf-8').decode(bytes);
  return utf8.includes('\uFFFD') ? new TextDecoder('windows-1252').decode(bytes) : utf8;
}

if (roster) {
  previewButton.addEventListener('click', preview);
  importButton.addEventListener('click', runImport);
  text.addEventListener('input', () => {
    // The import sends what is in the box: it must be what the preview checked.
    if (importButton.disabled) return;
    importButton.disabled = true;
    statusLine.textContent = 'The roster changed: press Preview again before importing.';
  });
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files[0];
    if (!file) return;
    text.value = decode(await file.arrayBuffer());
    await preview();
  });
}

if (reprint) {
  reprintButton.addEventListener('click', async () => {
    showError(reprintError, '');
    const users = reprintNames.value.split(/[\s,;]+/).filter(Boolean);
    if (users.length === 0) {
      showError(reprintError, 'Type the login names of the students who need a new card.');
      return;
    }
    reprintButton.disabled = true;
    try {
      const revokeEarlier = document.getElementById('reprint-revoke').checked;
      const response = await postJson(reprint.dataset.cardsApiUrl, { users, revokeEarlier });
      if (!response.ok) {
        showError(reprintError, await messageOf(response));
        return;
      }
      const { cardsUrl } = await response.json();
      // Navigating away would lose an import's passwords still on this page: a new tab instead.
      const link = document.createElement('a');
      link.href = cardsUrl;
      link.target = '_blank';
      link.rel = 'noopener';
      link.className = 'button';
      link.textContent = 'Print the new cards';
      reprintButton.parentElement.replaceChildren(reprintButton, link);
    } catch {
      showError(reprintError, 'The hub did not answer. Is it still running?');
    } finally {
      reprintButton.disabled = false;
    }
  });
}
