import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pythonLiteral, pythonString, PythonCode, PythonSet } from '../../../server/config/python-literal.js';

/** Names that have broken hand-quoted config files: quotes, backslashes, controls, scripts, emoji. */
const AWKWARD = [
  '',
  'alice',
  "o'brien",
  'say "hi"',
  `both ' and "`,
  'back\\slash',
  'trailing\\',
  'line\nbreak',
  'tab\there',
  'carriage\rreturn',
  'nul\0byte',
  'del\x7f',
  'zoë',
  'Łukasz',
  '李小龙',
  'مريم',
  'emoji 🎓',
  'no\u00a0break',
  'line\u2028separator',
  'zero\u200bwidth',
  'lone \ud800 surrogate',
  "'''",
  '\\x41 is not A',
];

describe('pythonString', () => {
  it("writes strings as Python's repr() does", () => {
    assert.equal(pythonString('alice'), "'alice'");
    assert.equal(pythonString("o'brien"), `"o'brien"`);
    assert.equal(pythonString(`both ' and "`), `'both \\' and "'`);
    assert.equal(pythonString('back\\slash'), "'back\\\\slash'");
    assert.equal(pythonString('a\nb\tc\0'), "'a\\nb\\tc\\x00'");
    assert.equal(pythonString('zoë 李 🎓'), "'zoë 李 🎓'", 'printable letters stay readable');
    assert.equal(pythonString('\u00a0\u2028\u200b'), "'\\xa0\\u2028\\u200b'");
    assert.equal(pythonString('\u{e0001}'), "'\\U000e0001'");
  });

  it('gives back every awkward name exactly when Python reads it (the real /usr/bin/python3)', () => {
    // Python evaluates each literal and prints the code points it got, as JSON numbers.
    const program = [
      'import ast, json, sys',
      'for line in sys.stdin.read().split("\\n"):',
      '    print(json.dumps([ord(c) for c in ast.literal_eval(line)]))',
    ].join('\n');
    const input = AWKWARD.map(pythonString).join('\n');
    const result = spawnSync('/usr/bin/python3', ['-c', program], { input, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const read = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as number[]);
    const codePoints = (text: string) => [...text].map((char) => char.codePointAt(0));
    assert.deepEqual(read, AWKWARD.map(codePoints));
  });
});

describe('pythonLiteral', () => {
  it('writes None, booleans, numbers, lists, dicts, sets and code', () => {
    assert.equal(pythonLiteral(null), 'None');
    assert.equal(pythonLiteral(true), 'True');
    assert.equal(pythonLiteral(false), 'False');
    assert.equal(pythonLiteral(60), '60');
    assert.equal(pythonLiteral(['a', 1]), "['a', 1]");
    assert.equal(pythonLiteral({ "it's": [true] }), `{"it's": [True]}`);
    assert.equal(pythonLiteral(new PythonSet(['a', 'b'])), "{'a', 'b'}");
    assert.equal(pythonLiteral(new PythonSet([])), 'set()', '{} would be an empty dict');
    assert.equal(pythonLiteral([new PythonCode('sys.executable'), '-m']), "[sys.executable, '-m']");
    assert.throws(() => pythonLiteral(Number.NaN), /no Python literal/);
  });

  it('breaks long containers one item per line, indented, with trailing commas', () => {
    const names = Array.from({ length: 12 }, (_, i) => `student-${i}`);
    const text = pythonLiteral({ physics: names });
    assert.equal(text.split('\n')[0], '{');
    assert.match(text, /^ {4}'physics': \[\n {8}'student-0',\n/m);
    assert.ok(text.endsWith("        'student-11',\n    ],\n}"), text);
  });
});
