import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectSeparator, parseRoster, previewRoster, RosterError, type RosterPreview, type RosterReading } from '../../../server/auth/roster.js';

const accounts = new Map<string, { displayName: string | null }>([
  ['taken', { displayName: null }],
  ['zoe.martin', { displayName: 'Zoë Martin' }],
  ['leo.roux', { displayName: 'Léo Roux' }],
]);
const rules = { existingAccount: (name: string) => accounts.get(name), minPasswordLength: 8 };
const preview = (text: string, reading?: RosterReading): RosterPreview => previewRoster(parseRoster(text, reading), rules);
/** Each row as [login name, display name, class]. */
const people = (text: string, reading?: RosterReading) => preview(text, reading).rows.map((row) => [row.name, row.displayName, row.group]);

describe('reading a roster', () => {
  it('reads a plain list of names, one per line, normalised, skipping blank lines', () => {
    const result = preview('Ann\n\n  bob  \r\nＣａｒｏｌ\n   \n');
    assert.deepEqual(
      result.rows.map((row) => [row.line, row.name, row.displayName, row.password, row.group]),
      [
        [1, 'ann', null, 'generated', null],
        [3, 'bob', null, 'generated', null],
        [4, 'carol', null, 'generated', null],
      ],
    );
  });

  it('reads a list of full names: accents off the login names, kept in the display names', () => {
    assert.deepEqual(people('Zoë Dupont\nAmélie Poulain\n"García, María José"\nSiobhán O\'Brien\nJürgen Groß\nИван Петров\n'), [
      ['zoe.dupont', 'Zoë Dupont', null],
      ['amelie.poulain', 'Amélie Poulain', null],
      ['maria-jose.garcia', 'García, María José', null],
      ['siobhan.obrien', "Siobhán O'Brien", null],
      ['jurgen.gross', 'Jürgen Groß', null],
      ['иван.петров', 'Иван Петров', null],
    ]);
  });

  it('takes login name, display name, password, class in that order without a header', () => {
    const [row] = preview('ann,Ann Smith,correct-horse,physics').rows;
    assert.deepEqual([row?.name, row?.displayName, row?.password, row?.group], ['ann', 'Ann Smith', 'given', 'physics']);
  });

  it('reads a school export: first and last names, namesakes told apart, classes made group names', () => {
    const result = preview('First name,Last name,Class\nZoë,Dupont,7 B\nAmélie,Martin,7 B\nZoë,Dupont,7/C\nLéa,Zoë-Martin,7B\n');
    assert.equal(result.header, true);
    assert.deepEqual(
      result.columns.map((choice) => choice.column),
      ['firstName', 'lastName', 'group'],
    );
    assert.deepEqual(
      result.rows.map((row) => [row.name, row.displayName, row.group, row.note]),
      [
        ['zoe.dupont', 'Zoë Dupont', '7-B', null],
        ['amelie.martin', 'Amélie Martin', '7-B', null],
        ['zoe.dupont2', 'Zoë Dupont', '7-C', 'zoe.dupont is taken (line 2): this student is zoe.dupont2.'],
        ['lea.zoe-martin', 'Léa Zoë-Martin', '7B', null],
      ],
    );
    assert.deepEqual([result.valid, result.invalid, result.existing], [4, 0, 0]);
  });

  it('recognises headers in the common European languages', () => {
    assert.deepEqual(people('Nom;Prénom;Classe\nDurand;Élodie;6e1\n'), [['elodie.durand', 'Élodie Durand', '6e1']]);
    assert.deepEqual(people('Name;Vorname;Klasse\nMüller;Jörg;5a\n'), [['jorg.muller', 'Jörg Müller', '5a']]);
    assert.deepEqual(people('Nombre;Apellidos;Grupo\nMaría;Núñez Peña;1ºA\n'), [['maria.nunez-pena', 'María Núñez Peña', '1ºA']]);
    assert.deepEqual(people('Nome\tCognome\tClasse\nNiccolò\tRossi\t3A\n'), [['niccolo.rossi', 'Niccolò Rossi', '3A']]);
    assert.deepEqual(people('Voornaam,Achternaam,Klas\nDaan,van der Berg,2b\n'), [['daan.van-der-berg', 'Daan van der Berg', '2b']]);
    assert.deepEqual(people('Student Name,Email\nZoë Dupont,Zoe.Dupont@school.example\n'), [['zoe.dupont', 'Zoë Dupont', null]]);
    assert.deepEqual(people('Full Name\nAnn Lee\n'), [['ann.lee', 'Ann Lee', null]]);
  });

  it('recognises Lectern’s own header in any order and case, and says which columns it left out', () => {
    const result = preview('Class;Notes;Full Name;Login;PASSWORD\nphysics;likes cats;Ann Smith;ann;correct-horse\n');
    assert.deepEqual(
      result.columns.map((choice) => [choice.label, choice.column]),
      [
        ['Class', 'group'],
        ['Notes', null],
        ['Full Name', 'fullName'],
        ['Login', 'login'],
        ['PASSWORD', 'password'],
      ],
    );
    const [row] = result.rows;
    assert.deepEqual([row?.line, row?.name, row?.displayName, row?.password, row?.group], [2, 'ann', 'Ann Smith', 'given', 'physics']);
    assert.deepEqual(people('username\tdisplay_name\nbob\tBob Ray\n'), [['bob', 'Bob Ray', null]]);
    assert.deepEqual(people('name,group\nbob,chem\n'), [['bob', null, 'chem']]);
    assert.deepEqual(people('name,display name\nann,Ann Smith\n'), [['ann', 'Ann Smith', null]]);
  });

  it('reads the columns the teacher chose, with or without a header', () => {
    const text = 'Kind,Familie,Kurs\nJörg,Müller,5a\n';
    assert.equal(preview(text).header, false, 'an unknown header is no header');
    const chosen = preview(text, { header: true, columns: ['firstName', 'lastName', 'group'] });
    assert.deepEqual(
      chosen.columns.map((choice) => [choice.label, choice.column]),
      [
        ['Kind', 'firstName'],
        ['Familie', 'lastName'],
        ['Kurs', 'group'],
      ],
    );
    assert.deepEqual(chosen.rows.map((row) => [row.name, row.displayName, row.group]), [['jorg.muller', 'Jörg Müller', '5a']]);
    const headerless = preview('Jörg,Müller\n', { header: false, columns: [null, 'fullName'] });
    assert.deepEqual(headerless.rows.map((row) => [row.line, row.name]), [[1, 'muller']]);
  });

  it('says so when no column holds the names', () => {
    const [row] = preview('First name,Class\n,5a\n').rows;
    assert.match(row?.problems[0] ?? '', /This row has no name/);
  });

  it('detects comma, semicolon and tab separators, ignoring those inside quotes', () => {
    assert.equal(detectSeparator('ann,Ann\nbob,Bob'), ',');
    assert.equal(detectSeparator('ann;"Smith, Ann"\nbob;"Jones, Bob"'), ';');
    assert.equal(detectSeparator('ann\tAnn, the first\nbob\tBob'), '\t');
    assert.equal(detectSeparator('ann\nbob'), ',');
    const [row] = preview('ann\t"Smith, Ann"\t\tphysics').rows;
    assert.deepEqual([row?.displayName, row?.password, row?.group], ['Smith, Ann', 'generated', 'physics']);
  });

  it('reads quoted fields, doubled quotes, a BOM, CRLF, and numbers rows by the line they start on', () => {
    const result = preview('\uFEFFname,display name\r\n"ann","Ann ""Nan""\r\nSmith"\r\nbob,O\'Brien\r\n');
    assert.deepEqual(
      result.rows.map((row) => [row.line, row.name, row.displayName]),
      [
        [2, 'ann', 'Ann "Nan" Smith'],
        [4, 'bob', "O'Brien"],
      ],
    );
  });

  it('ignores the empty cells spreadsheets pad rows with', () => {
    const result = preview('First name,Last name,,\nAnn,Lee,,\nBob,Ray,,,,\n');
    assert.deepEqual([result.valid, result.invalid], [2, 0]);
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
    assert.deepEqual(result.rows, [
      { line: 2, name: 'ann', displayName: null, password: 'given', group: 'physics', problems: [], note: null, existing: false },
      { line: 3, name: 'bob', displayName: null, password: 'generated', group: 'physics', problems: [], note: null, existing: false },
    ]);
    assert.deepEqual([result.valid, result.invalid, result.existing], [2, 0, 0]);
  });

  it('flags invalid login names, in the words of the username rules', () => {
    const [row] = preview('a b,Ann Bee\n').rows;
    assert.match(row?.problems[0] ?? '', /may contain only letters, digits/);
    assert.match(preview('login,class\n,physics\n').rows[0]?.problems[0] ?? '', /This row has no name/);
    assert.match(preview('Admin\n').rows[0]?.problems[0] ?? '', /"admin" is reserved/);
  });

  it('flags a name repeated in the file, naming the line it is first on', () => {
    const result = preview('login\nann\nbob\nANN\n');
    assert.deepEqual(result.rows[0]?.problems, []);
    assert.match(result.rows[2]?.problems[0] ?? '', /ann is already on line 2/);
    assert.equal(result.invalid, 1);
  });

  it('flags login names from the list that already have an account', () => {
    assert.match(preview('taken,Someone\n').rows[0]?.problems[0] ?? '', /An account named taken already exists/);
  });

  it('numbers a made-up name taken by someone else’s account, and leaves out students imported before', () => {
    const result = preview('First name,Last name\nZoë,Martin\nLéo,Roux\nLéo,Roux\nTaken,\n');
    assert.deepEqual(
      result.rows.map((row) => [row.name, row.existing, row.note]),
      [
        ['zoe.martin', true, 'Already has an account (zoe.martin): left out.'],
        ['leo.roux', true, 'Already has an account (leo.roux): left out.'],
        ['leo.roux2', false, 'leo.roux is taken (line 3): this student is leo.roux2.'],
        ['taken2', false, 'taken is taken: this student is taken2.'],
      ],
    );
    assert.deepEqual([result.valid, result.invalid, result.existing], [2, 0, 2]);
  });

  it('flags passwords the hub would refuse: too short, over 72 bytes', () => {
    const rows = preview(`ann,,short\nbob,,${'é'.repeat(37)}\ncarol,,${'a'.repeat(72)}\n`).rows;
    assert.match(rows[0]?.problems[0] ?? '', /at least 8 characters.*made up/);
    assert.match(rows[1]?.problems[0] ?? '', /at most 72 bytes/);
    assert.deepEqual(rows[2]?.problems, []);
  });

  it('flags classes that make no group name', () => {
    assert.match(preview('ann,,,---\n').rows[0]?.problems[0] ?? '', /Invalid class "---"\. A group name cannot be empty/);
  });

  it('flags rows with more cells than a roster has, which usually means an unquoted separator', () => {
    const problems = preview('ann,Smith, Ann,pw-pw-pw-pw,physics\n').rows[0]?.problems ?? [];
    assert.ok(problems.some((problem) => /5 cells but the list has 4 columns/.test(problem)), problems.join('\n'));
  });

  it('counts every problem of a row, and every bad row', () => {
    const result = preview('ann,,short,---\nann\n');
    assert.equal(result.rows[0]?.problems.length, 2);
    assert.deepEqual([result.valid, result.invalid], [0, 2]);
  });
});
