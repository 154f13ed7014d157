/**
 * The one logger. Lines look like JupyterHub's (`[I 2026-11-22 04:30:00.123 lectern] message`) and go
 * to stderr, or to whatever sink the composition root passes (tests capture lines to assert on them).
 *
 * Never log secrets: request URLs go through `scrubUrl` (query strings can carry tokens), and no
 * caller passes headers, cookies, tokens or passwords. Values are truncated and control characters
 * escaped so a hostile username cannot inject fake log lines. An `Error` given as a field is logged
 * with its whole stack, on indented lines after the line, which no line of its can pass for the
 * start of another log line.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, string | number | boolean | null | undefined | Error>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `name` (for example `proxy` or `spawner`). */
  child(name: string): Logger;
}

export type LogSink = (line: string) => void;

const LEVEL_LETTER: Record<LogLevel, string> = { debug: 'D', info: 'I', warn: 'W', error: 'E' };
const MAX_VALUE_LENGTH = 200;
const MAX_MESSAGE_LENGTH = 1000;

export function createLogger(
  options: { level?: LogLevel; name?: string; sink?: LogSink } = {},
): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const make = (name: string): Logger => {
    const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const time = new Date().toISOString().replace('T', ' ').replace('Z', '');
      sink(`[${LEVEL_LETTER[level]} ${time} ${name}] ${safeText(message, MAX_MESSAGE_LENGTH)}${formatFields(fields)}${formatStacks(fields)}`);
    };
    return {
      debug: (message, fields) => emit('debug', message, fields),
      info: (message, fields) => emit('info', message, fields),
      warn: (message, fields) => emit('warn', message, fields),
      error: (message, fields) => emit('error', message, fields),
      child: (child) => make(`${name}.${child}`),
    };
  };
  return make(options.name ?? 'lectern');
}

/** A logger that drops everything, for code paths that run without one (CLI one-shots). */
export const silentLogger: Logger = createLogger({ level: 'error', sink: () => undefined });

/** Hub paths whose last segment is a secret: a login card's link, a sheet of cards. */
const SECRET_IN_PATH = /(\/hub\/(?:login-link|cards)\/)[^/]+/;

/**
 * The path of a URL without its query string or fragment, which may hold tokens, and with the
 * secret of a login link (which logs a student in) or of a cards sheet replaced by `[secret]`.
 */
export function scrubUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return (cut === -1 ? url : url.slice(0, cut)).replace(SECRET_IN_PATH, '$1[secret]');
}

/**
 * Where secrets show up in a Jupyter server's log: tokens, OAuth codes and states, XSRF tokens and
 * passwords in URLs (`/user/ann/?token=…`, a Referer), and the Cookie and Authorization headers
 * that Notebook and Jupyter Server print on a server error.
 */
const SECRET_QUERY = /([?&;](?:token|access_token|code|state|_xsrf|password)=)[^&;#\s"'<>]+/gi;
const SECRET_JSON_HEADER = /("(?:cookie|authorization|x-xsrftoken|set-cookie)"\s*:\s*")(?:[^"\\]|\\.)*/gi;
const SECRET_HEADER = /\b((?:cookie|authorization|x-xsrftoken|set-cookie)\s*:\s*)[^\n]*/gi;

/** `text` (a server's log) with every secret it can recognise replaced by `[secret]`, for showing to a teacher or student. */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_QUERY, '$1[secret]').replace(SECRET_JSON_HEADER, '$1[secret]').replace(SECRET_HEADER, '$1[secret]');
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = value instanceof Error ? `${value.name}: ${value.message}` : value;
    out += ` ${key}=${typeof text === 'string' ? JSON.stringify(safeText(text)) : String(text)}`;
  }
  return out;
}

/** Each Error field's stack, below the line: every frame on a line of its own, indented. */
function formatStacks(fields: LogFields | undefined): string {
  let out = '';
  for (const value of Object.values(fields ?? {})) {
    if (!(value instanceof Error) || !value.stack) continue;
    for (const line of value.stack.split('\n')) out += `\n    ${safeText(line.trim(), MAX_MESSAGE_LENGTH)}`;
  }
  return out;
}

/** Truncates and escapes control characters so one value is always one short line. */
function safeText(text: string, limit = MAX_VALUE_LENGTH): string {
  const short = text.length > limit ? `${text.slice(0, limit)}…` : text;
  // eslint-disable-next-line no-control-regex
  return short.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
