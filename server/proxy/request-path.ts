/**
 * What a request's URL means to the proxy: the path it is forwarded with and the key it is routed
 * by, and how that path is joined to a target's own path.
 *
 * configurable-http-proxy parses every request URL with WHATWG URL, which resolves dot segments,
 * turns backslashes into slashes and percent-encodes a few characters, and routes by the decoded
 * pathname. Lectern gives the same answers, but parses only the URLs that need it: most request
 * targets (`/user/alice/api/kernels?x=1`) come out of URL parsing unchanged, and for those the
 * string the client sent is used as it is, with nothing allocated.
 */

const SLASH = 47;
const PERCENT = 37;

/**
 * Whatever URL parsing would change, or that routing must decode: `%`, `\`, `#`, dot segments,
 * characters WHATWG percent-encodes in a path or a special URL's query (controls, space, `"`, `'`,
 * `<`, `>`, `` ` ``, `{`, `}`, DEL and non-ASCII), and an empty query (`/x?`, which parsing drops).
 */
// eslint-disable-next-line no-control-regex
const NEEDS_PARSING = /[\u0000-\u0020"#%'<>\\`{}\u007f-\uffff]|\/\.\.?(?:[/?]|$)|\?$/;

/** A base for relative parsing; the host never leaves this file. */
const PARSE_BASE = 'http://lectern.invalid';

/**
 * The path and query a request is forwarded with, as WHATWG URL normalises them (CHP's rule), or
 * `undefined` if the request target cannot be parsed at all. An absolute-form target
 * (`http://other/user/x`) is reduced to its path; `//x` is a path, not a host.
 */
export function forwardedPath(url: string): string | undefined {
  if (url.charCodeAt(0) === SLASH && url.charCodeAt(1) !== SLASH && !NEEDS_PARSING.test(url)) return url;
  try {
    const parsed = new URL(url.charCodeAt(0) === SLASH ? `${PARSE_BASE}${url}` : url, PARSE_BASE);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return undefined;
  }
}

/**
 * The decoded pathname a request is routed by, from its forwarded path; `undefined` if it holds a
 * malformed %-escape. Routing and forwarding start from the same normalised string, so the route
 * chosen and the path the target sees always agree.
 */
export function routingPath(path: string): string | undefined {
  const query = path.indexOf('?');
  const pathname = query === -1 ? path : path.slice(0, query);
  if (pathname.indexOf('%') === -1) return pathname;
  try {
    return decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
}

/**
 * The host-routing key prefix for a Host header: `/` + the host without its port, lower-cased
 * (host names are case-insensitive; CHP compares them as sent).
 */
export function hostKey(host: string): string {
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    if (close !== -1) end = close + 1;
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) end = colon;
  }
  return `/${host.slice(0, end).toLowerCase()}`;
}

/**
 * http-proxy-3's `urlJoin`, which CHP forwards with: the paths are concatenated with the slashes at
 * the seam merged into one, and the two query strings are joined with `&`.
 * `joinUrl('/base?tq=1', '/pq/a?q=2')` is `/base/pq/a?tq=1&q=2`.
 */
export function joinUrl(first: string, second: string): string {
  // Most targets have no path of their own: the request's path is the answer as it is.
  if (first === '/' && second.charCodeAt(0) === SLASH) return second;
  const firstQuery = first.indexOf('?');
  const secondQuery = second.indexOf('?');
  let joined = appendSegment('', firstQuery === -1 ? first : first.slice(0, firstQuery));
  joined = appendSegment(joined, secondQuery === -1 ? second : second.slice(0, secondQuery));
  const a = firstQuery === -1 ? '' : first.slice(firstQuery + 1);
  const b = secondQuery === -1 ? '' : second.slice(secondQuery + 1);
  const query = a !== '' && b !== '' ? `${a}&${b}` : a || b;
  return query === '' ? joined : `${joined}?${query}`;
}

function appendSegment(joined: string, segment: string): string {
  if (segment === '') return joined;
  const startsWithSlash = segment.charCodeAt(0) === SLASH;
  if (joined.charCodeAt(joined.length - 1) === SLASH) return joined + (startsWithSlash ? segment.slice(1) : segment);
  return startsWithSlash ? joined + segment : `${joined}/${segment}`;
}

/** How many segments a route key has, as the trie counts them (outer slashes ignored). */
export function segmentCount(key: string): number {
  let start = 0;
  let end = key.length;
  while (start < end && key.charCodeAt(start) === SLASH) start++;
  while (end > start && key.charCodeAt(end - 1) === SLASH) end--;
  if (start === end) return 0;
  let count = 1;
  for (let i = start; i < end; i++) if (key.charCodeAt(i) === SLASH) count++;
  return count;
}

/**
 * `path` (encoded, with its query) without its first `count` decoded segments: what
 * `--no-include-prefix` forwards. CHP cuts `prefix.length` characters off the raw URL instead,
 * which goes wrong when the prefix holds escapes or is a host-routing key; counting segments (an
 * encoded `%2F` separates two) cuts where the route ends.
 */
export function stripSegments(path: string, count: number): string {
  if (count === 0) return path;
  const query = path.indexOf('?');
  const end = query === -1 ? path.length : query;
  let pos = 0;
  // The trie ignores leading slashes, so they are part of the first segment's separator.
  while (pos < end && path.charCodeAt(pos) === SLASH) pos++;
  for (let remaining = count; remaining > 0 && pos < end; remaining--) {
    while (pos < end && path.charCodeAt(pos) !== SLASH && !isEncodedSlash(path, pos)) pos++;
    if (remaining > 1 && pos < end) pos += path.charCodeAt(pos) === SLASH ? 1 : 3;
  }
  return path.slice(pos);
}

function isEncodedSlash(path: string, pos: number): boolean {
  return (
    path.charCodeAt(pos) === PERCENT &&
    path.charCodeAt(pos + 1) === 50 /* 2 */ &&
    (path.charCodeAt(pos + 2) | 0x20) === 102 /* f or F */
  );
}
