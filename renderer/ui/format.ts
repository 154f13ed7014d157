/** Times, durations and sizes as a teacher reads them at a glance: "5 min ago", "1 h 20 min", "312 MB". */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long ago `iso` was, relative to `now`; "never" for null. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return '—';
  if (ms < MINUTE) return 'just now';
  return `${duration(ms)} ago`;
}

/** A duration such as "45 s", "12 min", "1 h 20 min" or "3 days". */
function duration(ms: number): string {
  if (ms < MINUTE) return `${Math.max(0, Math.floor(ms / 1000))} s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min`;
  if (ms < DAY) {
    const minutes = Math.floor((ms % HOUR) / MINUTE);
    return `${Math.floor(ms / HOUR)} h${minutes ? ` ${minutes} min` : ''}`;
  }
  const days = Math.floor(ms / DAY);
  return `${days} day${days === 1 ? '' : 's'}`;
}

/** Time since `iso` (a server's start), or an empty string when unknown. */
export function since(iso: string | null, now = Date.now()): string {
  if (!iso) return '';
  const ms = now - Date.parse(iso);
  return Number.isNaN(ms) ? '' : duration(ms);
}

export function bytes(value: number): string {
  if (value < 1024 ** 2) return `${Math.round(value / 1024)} KB`;
  if (value < 1024 ** 3) return `${Math.round(value / 1024 ** 2)} MB`;
  return `${(value / 1024 ** 3).toFixed(1)} GB`;
}

export function percent(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} %`;
}

/** "1 student", "3 students". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A local date and time for a tooltip: the exact moment behind "5 min ago". */
export function exactTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '';
}

/** Text folded for searching: case and accents ignored, so "garcia" finds "García". */
function searchable(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}

/** Whether what the teacher typed (`query`, empty: everything) is in any of `texts`. */
export function matchesSearch(query: string, ...texts: (string | null | undefined)[]): boolean {
  const wanted = searchable(query.trim());
  return wanted === '' || texts.some((text) => text != null && searchable(text).includes(wanted));
}
