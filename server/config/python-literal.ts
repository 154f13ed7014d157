/**
 * Python literals for the `jupyterhub_config.py` Lectern exports. Names come from students and
 * teachers (`o'brien`, `zoë`, a group called `7\b`), so every string is written the way Python's own
 * `repr()` writes it rather than pasted between quotes: a quote or backslash in a name must never end
 * the string early or turn into an escape.
 */

/** A Python set (`{'a', 'b'}`; empty: `set()`), for traits such as `Authenticator.allowed_users`. */
export class PythonSet {
  constructor(readonly items: readonly PythonValue[]) {}
}

/** Python code written as is, for values that are expressions rather than data (`sys.executable`). */
export class PythonCode {
  constructor(readonly code: string) {}
}

export type PythonValue =
  | string
  | number
  | boolean
  | null
  | PythonSet
  | PythonCode
  | readonly PythonValue[]
  | { readonly [key: string]: PythonValue };

/** Lines longer than this are broken one item per line. */
const MAX_LINE = 88;
const INDENT = '    ';

/**
 * A string as Python's `repr()` writes it: single quotes unless the text has single quotes and no
 * double ones; backslashes and the chosen quote escaped; characters Python does not print as they are
 * (controls, line and paragraph separators, unassigned and private-use code points, lone surrogates)
 * as `\x`, `\u` or `\U` escapes. Printable non-ASCII letters stay readable.
 */
export function pythonString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  // Iterating a string yields code points, and a lone surrogate on its own.
  for (const char of text) {
    if (char === '\\' || char === quote) out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (isPrintable(char)) out += char;
    else out += escapeCodePoint(char.codePointAt(0) ?? 0);
  }
  return out + quote;
}

/** Python's `str.isprintable()` for one code point: no "Other" or "Separator" category, except the space. */
function isPrintable(char: string): boolean {
  return char === ' ' || !/[\p{C}\p{Z}]/u.test(char);
}

function escapeCodePoint(code: number): string {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/**
 * `value` as a Python expression. Short containers stay on one line; longer ones get one item per
 * line, indented from `indent`, with a trailing comma as Python formatters write them.
 */
export function pythonLiteral(value: PythonValue, indent = ''): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${value} has no Python literal`);
    return String(value);
  }
  if (typeof value === 'string') return pythonString(value);
  if (value instanceof PythonCode) return value.code;
  if (value instanceof PythonSet) {
    return value.items.length === 0 ? 'set()' : container('{', '}', value.items, indent, (item, inner) => pythonLiteral(item, inner));
  }
  if (isList(value)) return container('[', ']', value, indent, (item, inner) => pythonLiteral(item, inner));
  return container('{', '}', Object.entries(value), indent, ([key, item], inner) => `${pythonString(key)}: ${pythonLiteral(item, inner)}`);
}

function isList(value: PythonValue): value is readonly PythonValue[] {
  return Array.isArray(value);
}

function container<T>(open: string, close: string, items: readonly T[], indent: string, write: (item: T, indent: string) => string): string {
  const oneLine = `${open}${items.map((item) => write(item, indent)).join(', ')}${close}`;
  if (!oneLine.includes('\n') && indent.length + oneLine.length <= MAX_LINE) return oneLine;
  const inner = indent + INDENT;
  return `${open}\n${items.map((item) => `${inner}${write(item, inner)},\n`).join('')}${indent}${close}`;
}
