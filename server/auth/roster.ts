/**
 * A class roster, as a teacher exports it from a school system or a spreadsheet, or pastes it from
 * a document, read row by row with what importing it would do and what stands in its way. Pure:
 * existing accounts are looked up through a function, so the API, the CLI and the tests share
 * these rules.
 *
 * The columns come from a header row in the words school systems use (roster-columns.ts), or from
 * the teacher's choice in the preview. Without a header, one column is a list of names and more
 * are Lectern's own order: login name, display name, password, class. A student's login name is
 * the login column if there is one; otherwise it is made from the email address or the names
 * (`Zoë Martin` → `zoe.martin`; a namesake gets `zoe.martin2`), and the name as written becomes the
 * display name. The separator is detected: a comma, a semicolon (what spreadsheets export in
 * locales with a decimal comma) or a tab (what copying cells out of a spreadsheet gives).
 */
import { CsvError, parse } from 'csv-parse/sync';
import { groupNameFromClass, groupNameProblem } from './group-names.js';
import { loginFromEmail, loginFromNames, tidyName } from './login-names.js';
import { passwordProblem } from './passwords.js';
import { positionalColumns, readHeader, type ColumnChoice, type RosterColumn } from './roster-columns.js';
import { normalizeUsername, usernameProblem } from './usernames.js';

/** A class of 1,000 is far past the hub's 0–100 users; anything bigger is the wrong file. */
export const MAX_ROSTER_ROWS = 1000;
const MAX_ROSTER_BYTES = 1024 * 1024;
const MAX_DISPLAY_NAME_LENGTH = 128;
/** Lectern's own order, for a list without a header. */
const POSITIONAL_WIDTH = 4;

const SEPARATORS = [',', ';', '\t'] as const;
/** How many lines the separator is guessed from: enough to outvote a stray comma in a name. */
const SEPARATOR_SAMPLE_LINES = 20;

/** How the teacher says to read the file, when the guess was wrong. */
export interface RosterReading {
  /** Whether the first row is a header. */
  header?: boolean;
  /** What each column holds, in the file's order; null leaves a column out. */
  columns?: (RosterColumn | null)[];
}

/** One row as written in the file. */
export interface RosterEntry {
  /** The line the row starts on, counting from 1, as a text editor shows it. */
  line: number;
  /** The row's non-empty cells, by what they hold. */
  cells: Partial<Record<RosterColumn, string>>;
  /** Cells past the columns the file was read with: usually a separator inside a value. */
  extraCells: number;
}

export interface RosterRowPreview {
  line: number;
  /** The login name: from the list, or made from the student's names. */
  name: string;
  displayName: string | null;
  password: 'given' | 'generated';
  group: string | null;
  /** Why the row cannot be imported; empty when it can. */
  problems: string[];
  /** Something the teacher should see though it stops nothing, e.g. how a namesake was told apart. */
  note: string | null;
  /** The student already has this account (the list was imported before): the row is left out. */
  existing: boolean;
}

export interface RosterPreview {
  rows: RosterRowPreview[];
  /** Rows that would be imported. */
  valid: number;
  invalid: number;
  /** Rows left out because their student already has an account. */
  existing: number;
  /** Whether the first row was read as a header. */
  header: boolean;
  /** How each of the file's columns was read. */
  columns: ColumnChoice[];
}

export interface ParsedRoster {
  entries: RosterEntry[];
  header: boolean;
  columns: ColumnChoice[];
}

/** An account already on the hub, as far as an import cares. */
export interface ExistingAccount {
  displayName: string | null;
}

/** A roster that cannot be read at all (as opposed to rows with problems). */
export class RosterError extends Error {
  override readonly name = 'RosterError';
}

/** Reads roster text into rows; throws RosterError when it is too big or not readable as CSV. */
export function parseRoster(text: string, reading: RosterReading = {}): ParsedRoster {
  if (Buffer.byteLength(text, 'utf8') > MAX_ROSTER_BYTES) {
    throw new RosterError(`The roster is larger than 1 MB. Split it into several files of at most ${MAX_ROSTER_ROWS} rows.`);
  }
  // csv-parse counts lines differently around "\r\n" (it guesses the line ending from the first
  // line); with "\n" only, its count is the line a record ends on, as an editor shows it.
  const unified = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const records = readRecords(unified, detectSeparator(unified));
  const firstCells = records[0]?.cells ?? [];
  const guessedHeader = readHeader(firstCells);
  const header = reading.header ?? guessedHeader !== undefined;
  const rows = header ? records.slice(1) : records;
  if (rows.length > MAX_ROSTER_ROWS) {
    throw new RosterError(`The roster has ${rows.length} rows; at most ${MAX_ROSTER_ROWS} can be imported at once. Split it into several files.`);
  }
  const columns = chooseColumns(reading, header, firstCells, guessedHeader, rows);
  const entries = rows.map(({ cells, line }): RosterEntry => {
    const byColumn: Partial<Record<RosterColumn, string>> = {};
    columns.forEach(({ column }, index) => {
      const value = cells[index];
      if (column && value) byColumn[column] = value;
    });
    return { line, cells: byColumn, extraCells: Math.max(0, cells.length - columns.length) };
  });
  return { entries, header, columns };
}

function chooseColumns(
  reading: RosterReading,
  header: boolean,
  firstCells: string[],
  guessedHeader: ColumnChoice[] | undefined,
  rows: RosterRecord[],
): ColumnChoice[] {
  const labelOf = (index: number) => (header && firstCells[index]) || `Column ${index + 1}`;
  if (reading.columns) return reading.columns.map((column, index) => ({ label: labelOf(index), column }));
  if (header) return guessedHeader ?? firstCells.map((_, index) => ({ label: labelOf(index), column: null }));
  const widest = Math.max(0, ...rows.map((row) => row.cells.length));
  return positionalColumns(Math.min(widest, POSITIONAL_WIDTH));
}

/**
 * What importing `roster` would do, row by row. A row is refused for a login name that is invalid,
 * on an earlier line or taken by an account (made-up names are numbered instead), a password the
 * hub would refuse, or a class that cannot be a group name. A made-up name whose account exists
 * with the same display name is the same student, imported before: the row is left out.
 */
export function previewRoster(
  roster: ParsedRoster,
  rules: { existingAccount: (name: string) => ExistingAccount | undefined; minPasswordLength: number },
): RosterPreview {
  /** Login names the rows already stand for, with the line that took each. */
  const claimed = new Map<string, number>();
  const rows = roster.entries.map((entry): RosterRowPreview => {
    const problems: string[] = [];
    const { cells } = entry;
    const displayName = displayNameOf(cells);
    const given = cells.login !== undefined;
    const base = given ? normalizeUsername(cells.login as string) : madeUpLogin(cells);
    let name = base;
    let note: string | null = null;
    let existing = false;
    const nameProblem = usernameProblem(base);
    if (nameProblem) {
      problems.push(given || base !== '' ? nameProblem : 'This row has no name. Fill it in, or choose which column holds the names.');
    } else if (given) {
      const earlier = claimed.get(base);
      if (earlier !== undefined) problems.push(`${base} is already on line ${earlier}: each student needs their own name.`);
      else if (rules.existingAccount(base)) problems.push(`An account named ${base} already exists: remove the row, or choose another name.`);
    } else {
      ({ name, existing } = numberedLogin(base, displayName, claimed, rules.existingAccount));
      if (existing) note = `Already has an account (${name}): left out.`;
      else if (name !== base) note = `${base} is taken${claimed.has(base) ? ` (line ${claimed.get(base)})` : ''}: this student is ${name}.`;
    }
    if (!nameProblem && !claimed.has(name)) claimed.set(name, entry.line);
    if (displayName !== null && displayName.length > MAX_DISPLAY_NAME_LENGTH) {
      problems.push(`A display name can be at most ${MAX_DISPLAY_NAME_LENGTH} characters long.`);
    }
    if (cells.password !== undefined) {
      const problem = passwordProblem(cells.password, rules.minPasswordLength);
      if (problem) problems.push(`${problem} Leave the password empty to have one made up.`);
    }
    const group = cells.group === undefined ? null : groupNameFromClass(cells.group);
    if (group !== null) {
      const problem = groupNameProblem(group);
      if (problem) problems.push(`Invalid class "${cells.group}". ${problem}`);
    }
    if (entry.extraCells > 0) {
      const width = roster.columns.length;
      problems.push(
        `This row has ${width + entry.extraCells} cells but the list has ${width} ${width === 1 ? 'column' : 'columns'}. ` +
          'Quote values that contain the separator, or choose the columns below.',
      );
    }
    return {
      line: entry.line,
      name,
      displayName: displayName !== null && normalizeUsername(displayName) === name ? null : displayName,
      password: cells.password === undefined ? 'generated' : 'given',
      group,
      problems,
      note,
      existing: existing && problems.length === 0,
    };
  });
  const invalid = rows.filter((row) => row.problems.length > 0).length;
  const existing = rows.filter((row) => row.existing).length;
  return { rows, valid: rows.length - invalid - existing, invalid, existing, header: roster.header, columns: roster.columns };
}

/** The student's name as written: the full name, or first and last names; null without either. */
function displayNameOf(cells: RosterEntry['cells']): string | null {
  const written = cells.fullName ?? [cells.firstName, cells.lastName].filter(Boolean).join(' ');
  return written ? tidyName(written) : null;
}

/** A login name made from the email address, the names or the student ID, the first present. */
function madeUpLogin(cells: RosterEntry['cells']): string {
  if (cells.email) return loginFromEmail(cells.email);
  if (cells.firstName || cells.lastName) return loginFromNames({ first: cells.firstName, last: cells.lastName });
  if (cells.fullName) return loginFromNames({ full: cells.fullName });
  return normalizeUsername(cells.studentId ?? '');
}

/**
 * `base`, or `base2`, `base3`… — the first not stood for by an earlier row nor by someone else's
 * account. An account with the student's own display name is theirs (`existing`).
 */
function numberedLogin(
  base: string,
  displayName: string | null,
  claimed: ReadonlyMap<string, number>,
  existingAccount: (name: string) => ExistingAccount | undefined,
): { name: string; existing: boolean } {
  for (let number = 1; ; number++) {
    const name = number === 1 ? base : `${base}${number}`;
    if (claimed.has(name)) continue;
    const account = existingAccount(name);
    if (!account) return { name, existing: false };
    if (displayName !== null && account.displayName === displayName) return { name, existing: true };
  }
}

interface RosterRecord {
  cells: string[];
  line: number;
}

function readRecords(text: string, separator: string): RosterRecord[] {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, each record comes with where it was found; the sync API's types do not say so.
    parsed = parse(text, {
      delimiter: separator,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      trim: true,
    }) as unknown as typeof parsed;
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = typeof error.lines === 'number' ? `Line ${error.lines}: ` : '';
    throw new RosterError(`${line}${csvProblem(error)}`);
  }
  return parsed.map(({ record, info }) => {
    // `lines` is where the record ends; a quoted cell may span lines, and the row starts above it.
    const inside = record.reduce((count, cell) => count + (cell.match(/\n/g)?.length ?? 0), 0);
    // Spreadsheets pad rows with empty cells up to their widest one: those are no columns.
    let width = record.length;
    while (width > 0 && record[width - 1] === '') width--;
    return { cells: record.slice(0, width), line: info.lines - inside };
  });
}

function csvProblem(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted value is never closed. Add the missing " or remove the stray one.';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'text follows a closing quote. Put the whole value in quotes, and double any " inside it ("").';
    default:
      return `the roster cannot be read (${error.message}).`;
  }
}

/**
 * The separator found on the most of the first lines (outside quotes), then the most often; a
 * comma when none is found, which reads a plain list of names as one column.
 */
export function detectSeparator(text: string): string {
  const lines = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, SEPARATOR_SAMPLE_LINES)
    .map((line) => line.replace(/"[^"]*"?/g, ''));
  let best: { separator: string; lines: number; total: number } = { separator: ',', lines: 0, total: 0 };
  for (const separator of SEPARATORS) {
    const counts = lines.map((line) => line.split(separator).length - 1);
    const score = { separator, lines: counts.filter((count) => count > 0).length, total: counts.reduce((a, b) => a + b, 0) };
    if (score.lines > best.lines || (score.lines === best.lines && score.total > best.total)) best = score;
  }
  return best.separator;
}
