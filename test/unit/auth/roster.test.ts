import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectSeparator, parseRoster, previewRoster, RosterError, type RosterPreview } from '../../../server/auth/roster.js';

const rules = { accountExists: (name: string) => name === 'taken', minPasswordLength: 8 };
const preview = (text: string): RosterPreview => previewRoster(parseRoster(text), rules);

describe('reading a roster', () => {
  it('reads a plain list of names, one per line, normalised, skipping blank lines', () => {
    const { entries } = parseRoster('Ann\n\n  bob  \r\nＣａｒｏｌ\n   \n');
    assert.deepEqual(
      entries.map((entry) => [entry.line, entry.name, entry.displayName, entry.password, entry.group]),
      [
        [1, 'ann', null, null, null],
        [3, 'bob', null, null, null],
        [4, 'carol', null, null, null],
      ],
    );
  });

  it('takes name, display name, password, group in that order without a header', () => {
    const [entry] = parseRoster('ann,Ann Smith,correct-horse,physics').entries;
    assert.deepEqual(entry, { line: 1, name: 'ann', displayName: 'Ann Smith', password: 'correct-horse', group: 'physics', extraCells: 0 });
  });

  it('recognises a header in any order and case, and says which columns it left out', () => {
    const roster = parseRoster('Class;E-mail;Full Name;Login;PASSWORD\nphysics;a@x.org;Ann Smith;ann;correct-horse\n');
    assert.deepEqual(roster.ignoredColumns, ['E-mail']);
    const [entry] = roster.entries;
    assert.deepEqual([entry?.line, entry?.name, entry?.displayName, entry?.password, entry?.group], [2, 'ann', 'Ann Smith', 'correct-horse', 'physics']);
    assert.equal(parseRoster('username\tdisplay_name\nbob\tBob\n').entries[0]?.displayName, 'Bob');
    assert.equal(parseRoster('user name,group\nbob,chem\n').entries[0]?.group, 'chem');
  });

  it('detects comma, semicolon and tab separators, ignoring those inside quotes', () => {
    assert.equal(detectSeparator('ann,Ann\nbob,Bob'), ',');
    assert.equal(detectSeparator('ann;"Smith, Ann"\nbob;"Jones, Bob"'), ';');
    assert.equal(detectSeparator('ann\tAnn, the first\nbob\tBob'), '\t');
    assert.equal(detectSeparator('ann\nbob'), ',');
    const [entry] = parseRoster('ann\t"Smith, Ann"\t\tphysics').entries;
    assert.deepEqual([entry?.displayName, entry?.password, entry?.group], ['Smith, Ann', null, 'physics']);
  });

  it('reads quoted fields, doubled quotes, a BOM, CRLF, and numbers rows by the line they start on', () => {
    const { entries } = parseRoster('\uFEFFname,display name\r\n"ann","Ann ""Nan""\r\nSmith"\r\nbob,O\'Brien\r\n');
    assert.deepEqual(
      entries.map((entry) => [entry.line, entry.name, entry.displayName]),
      [
        [2, 'ann', 'Ann "Nan" Smith'],
        [4, 'bob', "O'Brien"],
      ],
    );
  });

  it('refuses text it cannot read, saying where', () => {
    assert.throws(() => parseRoster('ann,"Ann\nbob'), (error: unknown) => error instanceof RosterError && /Line \d+: a quoted value is never closed/.test(error.message));
  });

  it('refuses a roster over 1,000 rows or 1 MB', () => {
    assert.throws(() => parseRoster(Array.from({ length: 1001 }, (_, i) => `s${i}`).join('\n')), /1001 rows; at most 1000/);
    assert.equal(parseRoster(`name\n${Array.from({ length: 1000 }, (_, i) => `s${i}`).join('\n')}`).entries.length, 1000);
    assert.throws(() => parseRoster('x'.repeat(1024 * 1024 + 1)), /larger than 1 MB/);
  });
});

describe('previewing a roster', () => {
  it('passes good rows, saying which passwords will be generated', () => {
    const result = preview('name,password,group\nann,correct-horse,physics\nbob,,physics\n');
    assert.deepEqual(result, {
      rows: [
        { line: 2, name: 'ann', displayName: null, password: 'given', group: 'physics', problems: [] },
        { line: 3, name: 'bob', displayName: null, password: 'generated', group: 'physics', problems: [] },
      ],
      valid: 2,
      invalid: 0,
      ignoredColumns: [],
    });
  });

  it('flags invalid names, in the words of the username rules', () => {
    const [row] = preview('a b\n').rows;
    assert.match(row?.problems[0] ?? '', /may contain only letters, digits/);
    assert.match(preview(',Nobody\n').rows[0]?.problems[0] ?? '', /cannot be empty/);
  });

  it('flags a name repeated in the file, naming the line it is first on', () => {
    const result = preview('ann\nbob\nANN\n');
    assert.deepEqual(result.rows[0]?.problems, []);
    assert.match(result.rows[2]?.problems[0] ?? '', /ann is already on line 1/);
    assert.equal(result.invalid, 1);
  });

  it('flags names that already have an account', () => {
    assert.match(preview('taken\n').rows[0]?.problems[0] ?? '', /An account named taken already exists/);
  });

  it('flags passwords the hub would refuse: too short, over 72 bytes', () => {
    const rows = preview(`ann,,short\nbob,,${'é'.repeat(37)}\ncarol,,${'a'.repeat(72)}\n`).rows;
    assert.match(rows[0]?.problems[0] ?? '', /at least 8 characters.*generated/);
    assert.match(rows[1]?.problems[0] ?? '', /at most 72 bytes/);
    assert.deepEqual(rows[2]?.problems, []);
  });

  it('flags group names the groups API would refuse', () => {
    assert.match(preview('ann,,,Physics 1A\n').rows[0]?.problems[0] ?? '', /Invalid group name "Physics 1A"\. A group name may contain only/);
  });

  it('flags rows with more cells than a roster has, which usually means an unquoted separator', () => {
    const problems = preview('ann,Smith, Ann,pw-pw-pw-pw,physics\n').rows[0]?.problems ?? [];
    assert.ok(problems.some((problem) => /5 columns; a roster has at most 4/.test(problem)), problems.join('\n'));
  });

  it('counts every problem of a row, and every bad row', () => {
    const result = preview('ann,,short,bad group\nann\n');
    assert.equal(result.rows[0]?.problems.length, 2);
    assert.deepEqual([result.valid, result.invalid], [0, 2]);
  });
});
