/**
 * `lectern users import FILE [--cards]`: a class roster in, accounts out, all or none (the rules
 * are the dashboard import's: server/auth/roster.ts). With a hub running on the data dir it goes
 * through the hub's REST API; otherwise it opens the database itself, and cannot make login cards
 * (they live in a running hub's memory).
 */
import { readFile } from 'node:fs/promises';
import { RosterImport } from '../auth/roster-import.js';
import { RosterError, type RosterPreview } from '../auth/roster.js';
import type { LecternConfig } from '../config/schema.js';
import { GroupRepository } from '../store/groups.js';
import { readLock } from '../store/lock.js';
import { callHub, CliError, withOfflineStore } from './users.js';

interface ImportedRow {
  name: string;
  displayName: string | null;
  group: string | null;
  password?: string;
}

export async function importRosterFile(config: LecternConfig, file: string, cards: boolean): Promise<number> {
  const text = decodeRoster(
    await readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(error.code === 'ENOENT' ? `No such file: ${file}` : `Cannot read ${file}: ${error.message}`);
    }),
  );
  const running = await readLock(config.dataDir);
  if (running?.apiUrl && running.token) {
    // Checked first, so a bad roster prints its rows' problems rather than one line.
    const preview = (await callHub(running, 'POST', '/lectern/roster/preview', { text })) as RosterPreview;
    if (preview.invalid > 0 || preview.valid === 0) return refuse(file, preview);
    const answer = (await callHub(running, 'POST', '/lectern/roster/import', { text })) as { imported: ImportedRow[]; cardsUrl: string };
    printImported(answer.imported, preview);
    if (cards) {
      const url = new URL(answer.cardsUrl, running.url ?? running.apiUrl).href;
      console.log(`\nLogin cards: open ${url} in a browser on this machine, logged in as a teacher, and print them within the hour.`);
    }
    return 0;
  }
  const outcome = await withOfflineStore(config, async (db, users, hasher) => {
    let roster: RosterImport;
    try {
      roster = new RosterImport({ db, users, groups: new GroupRepository(db), hasher, minPasswordLength: config.auth.minPasswordLength }, text);
    } catch (error) {
      if (error instanceof RosterError) throw new CliError(`${file}: ${error.message}`);
      throw error;
    }
    if (roster.refusal()) return { refused: roster.preview };
    const accounts = await roster.run();
    return {
      preview: roster.preview,
      imported: accounts.map(({ user, group, password, generated }) => ({
        name: user.name,
        displayName: user.displayName,
        group,
        ...(generated ? { password } : {}),
      })),
    };
  });
  if (outcome.refused) return refuse(file, outcome.refused);
  printImported(outcome.imported, outcome.preview);
  if (cards) {
    console.log(
      '\nNo login cards: they are made by a running hub. Start it (lectern start), then print cards for these ' +
        'students in its dashboard (Users: select them, then Print login cards).',
    );
  }
  return 0;
}

/**
 * A roster file's text: UTF-8, or UTF-16 and Windows-1252 as spreadsheet programs on Windows save
 * CSV. The dashboard reads a chosen file by the same rules (renderer/text-files.ts), in the browser.
 */
function decodeRoster(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  const utf8 = new TextDecoder('utf-8').decode(bytes);
  return utf8.includes('\uFFFD') ? new TextDecoder('windows-1252').decode(bytes) : utf8;
}

function refuse(file: string, preview: RosterPreview): number {
  if (preview.rows.length === 0) {
    console.error(`${file} has no names: nothing was imported. Put one name per line, or a CSV with a "name" column.`);
    return 1;
  }
  if (preview.invalid === 0) {
    console.error(`Everyone in ${file} already has an account: nothing was imported.`);
    return 1;
  }
  console.error(`Nothing was imported: ${preview.invalid} of ${preview.rows.length} rows of ${file} need fixing.`);
  for (const row of preview.rows) {
    for (const problem of row.problems) console.error(`  line ${row.line} (${row.name || 'no name'}): ${problem}`);
  }
  console.error('Fix them and run the command again.');
  return 1;
}

/** The accounts made, then what the teacher should know about the list: namesakes, students left out. */
function printImported(rows: ImportedRow[], preview: RosterPreview): void {
  console.log(`Created ${rows.length} ${rows.length === 1 ? 'account' : 'accounts'}:`);
  const table = [
    ['NAME', 'DISPLAY NAME', 'GROUP', 'PASSWORD'],
    ...rows.map((row) => [row.name, row.displayName ?? '', row.group ?? '', row.password ?? '(from the file)']),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  for (const row of table) console.log(`  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()}`);
  if (rows.some((row) => row.password !== undefined)) console.log('The generated passwords are shown only this once.');
  for (const row of preview.rows) if (row.note) console.log(`  line ${row.line}: ${row.note}`);
}
