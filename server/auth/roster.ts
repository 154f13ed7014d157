/**
 * A class roster, as a teacher exports it from a spreadsheet or pastes it from a document, read
 * row by row with what importing it would do and what stands in its way. Pure: whether an account
 * already exists is asked through a function, so the API, the CLI and the tests share these rules.
 *
 * Columns: name, display name, password, group (class). A header row may name them in any order
 * (name/username/login, display name/full name, password, group/class); without one they are taken
 * in that order, so a plain list of names, one per line, is a roster too. The separator is
 * detected: a comma, a semicolon (what spreadsheets export in locales with a decimal comma) or a
 * tab (what copying cells out of a spreadsheet gives).
 */
import { CsvError, parse } from 'csv-parse/sync';
import { groupNameProblem } from './group-names.js';
import { passwordProblem } from './passwords.js';
import { normalizeUsername, usernameProblem } from './usernames.js';

/** A class of 1,000 is far past the hub's 0–100 users; anything bigger is the wrong file. */
export const MAX_ROSTER_ROWS = 1000;
const MAX_ROSTER_BYTES = 1024 * 1024;
const MAX_DISPLAY_NAME_LENGTH = 128;

type RosterColumn = 'name' | 'displayName' | 'password' | 'group';
const COLUMN_ORDER: readonly RosterColumn[] = ['name', 'displayName', 'password', 'group'];
const COLUMN_WORDS = 'name, display name, password, group';

/** Header labels, lower-cased with spaces, "_" and "-" removed. */
const HEADER_LABELS = new Map<string, RosterColumn>([
  ['name', 'name'],
  ['username', 'name'],
  ['user', 'name'],
  ['login', 'name'],
  ['loginname', 'name'],
  ['displayname', 'displayName'],
  ['fullname', 'displayName'],
  ['password', 'password'],
  ['group', 'group'],
  ['class', 'group'],
]);

const SEPARATORS = [',', ';', '\t'] as const;
/** How many lines the separator is guessed from: enough to outvote a stray comma in a name. */
const SEPARATOR_SAMPLE_LINES = 20;

/** One row as written in the file, the name already normalised. */
export interface RosterEntry {
  /** The line the row starts on, counting from 1, as a text editor shows it. */
  line: number;
  name: string;
  displayName: string | null;
  /** Null when a password is to be generated. */
  password: string | null;
  group: string | null;
  /** Cells past the four columns of a roster without a header. */
  extraCells: number;
}

export interface RosterRowPreview {
  line: number;
  name: string;
  displayName: string | null;
  password: 'given' | 'generated';
  group: string | null;
  /** Why the row cannot be imported; empty when it can. */
  problems: string[];
}

export interface RosterPreview {
  rows: RosterRowPreview[];
  valid: number;
  invalid: number;
  /** Header labels this reader does not know: their columns were left out. */
  ignoredColumns: string[];
}

export interface ParsedRoster {
  entries: RosterEntry[];
  ignoredColumns: string[];
}

/** A roster that cannot be read at all (as opposed to rows with problems). */
export class RosterError extends Error {
  override readonly name = 'RosterError';
}

/** Reads roster text into rows; throws RosterError when it is too big or not readable as CSV. */
export function parseRoster(text: string): ParsedRoster {
  if (Buffer.byteLength(text, 'utf8') > MAX_ROSTER_BYTES) {
    throw new RosterError(`The roster is larger than 1 MB. Split it into several files of at most ${MAX_ROSTER_ROWS} rows.`);
  }
  // csv-parse counts lines differently around "\r\n" (it guesses the line ending from the first
  // line); with "\n" only, its count is the line a record ends on, as an editor shows it.
  const unified = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const records = readRecords(unified, detectSeparator(unified));
  const first = records[0];
  const header = first ? readHeader(first.cells) : undefined;
  const columns = header?.columns ?? COLUMN_ORDER;
  const rows = header ? records.slice(1) : records;
  if (rows.length > MAX_ROSTER_ROWS) {
    throw new RosterError(`The roster has ${rows.length} rows; at most ${MAX_ROSTER_ROWS} can be imported at once. Split it into several files.`);
  }
  const entries = rows.map(({ cells, line }) => {
    const cell = (column: RosterColumn): string | null => {
      const index = columns.indexOf(column);
      const value = index === -1 ? undefined : cells[index];
      return value === undefined || value === '' ? null : value;
    };
    return {
      line,
      name: normalizeUsername(cell('name') ?? ''),
      displayName: cell('displayName')?.replace(/\s+/g, ' ') ?? null,
      password: cell('password'),
      group: cell('group'),
      extraCells: header ? 0 : Math.max(0, cells.length - COLUMN_ORDER.length),
    };
  });
  return { entries, ignoredColumns: header?.ignored ?? [] };
}

/**
 * What importing `roster` would do, row by row. A row is refused for an invalid name, a name
 * already on an earlier line or already taken by an account, a password the hub would refuse, or
 * a group name the groups API would refuse.
 */
export function previewRoster(
  roster: ParsedRoster,
  rules: { accountExists: (name: string) => boolean; minPasswordLength: number },
): RosterPreview {
  const firstLine = new Map<string, number>();
  const rows = roster.entries.map((entry): RosterRowPreview => {
    const problems: string[] = [];
    const nameProblem = usernameProblem(entry.name);
    const earlier = firstLine.get(entry.name);
    if (nameProblem) problems.push(nameProblem);
    else if (earlier !== undefined) problems.push(`${entry.name} is already on line ${earlier}: each student needs their own name.`);
    else if (rules.accountExists(entry.name)) problems.push(`An account named ${entry.name} already exists: remove the row, or choose another name.`);
    if (!nameProblem && earlier === undefined) firstLine.set(entry.name, entry.line);
    if (entry.displayName !== null && entry.displayName.length > MAX_DISPLAY_NAME_LENGTH) {
      problems.push(`A display name can be at most ${MAX_DISPLAY_NAME_LENGTH} characters long.`);
    }
    if (entry.password !== null) {
      const problem = passwordProblem(entry.password, rules.minPasswordLength);
      if (problem) problems.push(`${problem} Leave the password empty to have one generated.`);
    }
    if (entry.group !== null) {
      const problem = groupNameProblem(entry.group);
      if (problem) problems.push(`Invalid group name "${entry.group}". ${problem}`);
    }
    if (entry.extraCells > 0) {
      problems.push(
        `This row has ${COLUMN_ORDER.length + entry.extraCells} columns; a roster has at most ${COLUMN_ORDER.length} (${COLUMN_WORDS}). ` +
          'Quote values that contain the separator, or add a header row.',
      );
    }
    return {
      line: entry.line,
      name: entry.name,
      displayName: entry.displayName,
      password: entry.password === null ? 'generated' : 'given',
      group: entry.group,
      problems,
    };
  });
  const invalid = rows.filter((row) => row.problems.length > 0).length;
  return { rows, valid: rows.length - invalid, invalid, ignoredColumns: roster.ignoredColumns };
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
    return { cells: record, line: info.lines - inside };
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

/** The columns a first row names, if it is a header: it must name the name column. */
function readHeader(cells: string[]): { columns: (RosterColumn | null)[]; ignored: string[] } | undefined {
  const columns: (RosterColumn | null)[] = [];
  const ignored: string[] = [];
  for (const cell of cells) {
    const column = HEADER_LABELS.get(cell.toLowerCase().replace(/[\s_-]+/g, ''));
    // A column named twice is read from its first place only.
    if (column && !columns.includes(column)) columns.push(column);
    else {
      columns.push(null);
      if (cell !== '') ignored.push(cell);
    }
  }
  return columns.includes('name') ? { columns, ignored } : undefined;
}
