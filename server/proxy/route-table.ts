/**
 * The proxy's routing table: prefix → target, looked up by longest prefix, whole path segment by
 * whole path segment (configurable-http-proxy's semantics, so the hub's routes mean the same thing
 * here and on a CHP it exports to).
 *
 * Routes are plain data: the hub and the CHP-compatible REST API add and delete them, the proxy
 * reads them on every request and bumps `lastActivity`, and the API serialises them as they are.
 */

export interface Route {
  /** The normalised prefix: leading `/`, no trailing `/` (except the root route `/`). */
  prefix: string;
  /** Absolute `http:`, `https:`, `ws:`, `wss:` or `http+unix:` URL the matching requests go to. */
  target: string;
  /** Whatever the caller stored with the route (CHP's route data: `user`, `server_name`, …). */
  data: Record<string, unknown>;
  /** Epoch ms of the last successful proxied response or websocket client frame; set on add. */
  lastActivity: number;
}

const TARGET_PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:', 'http+unix:', 'unix+http:']);
const SLASH = 47;

/** One level of the trie; `route` is set only where a prefix ends, so inner nodes can be bare. */
interface TrieNode {
  route: Route | undefined;
  children: Map<string, TrieNode>;
}

/**
 * Normalises a route prefix as CHP does: a leading `/` is added and one trailing `/` dropped, so
 * `user/alice/`, `/user/alice/` and `/user/alice` are one key. No case folding and no decoding:
 * callers pass decoded paths.
 */
export function normalizePrefix(prefix: string): string {
  let key = prefix.startsWith('/') ? prefix : `/${prefix}`;
  if (key.length > 1 && key.endsWith('/')) key = key.slice(0, -1);
  return key;
}

/**
 * Throws a `TypeError` naming `target` unless it is an absolute http(s)/ws(s) URL with a host, or
 * CHP's `http+unix://<percent-encoded socket path>` form.
 */
export function validateTarget(target: string): void {
  let url: URL | undefined;
  try {
    url = new URL(target);
  } catch {
    url = undefined;
  }
  if (url === undefined || !TARGET_PROTOCOLS.has(url.protocol) || url.hostname === '') {
    throw new TypeError(
      `Invalid proxy target ${JSON.stringify(target)}: expected an absolute http:, https:, ws:, wss: or http+unix: URL`,
    );
  }
}

/**
 * The segments a key or request path is matched by, as CHP's trie splits them: every leading and
 * trailing slash dropped, then split on `/`, so inner empty segments (`/a//b`) count.
 */
function segmentsOf(path: string): string[] {
  let start = 0;
  let end = path.length;
  while (start < end && path.charCodeAt(start) === SLASH) start++;
  while (end > start && path.charCodeAt(end - 1) === SLASH) end--;
  return start === end ? [] : path.slice(start, end).split('/');
}

/** Whether two keys land on the same trie node (`/x` and `//x/`): CHP treats them so, and so do we. */
function isCanonical(key: string): boolean {
  return key === '/' || (key.charCodeAt(1) !== SLASH && key.charCodeAt(key.length - 1) !== SLASH);
}

function emptyNode(): TrieNode {
  return { route: undefined, children: new Map() };
}

export class RouteTable {
  private readonly root: TrieNode = emptyNode();
  /** Exact-key index beside the trie, so `get`, `list` and `size` do not walk it. */
  private readonly byPrefix = new Map<string, Route>();
  /** How many keys are not canonical (`//x`), so deletes only look for a same-node twin when one can exist. */
  private oddKeys = 0;

  get size(): number {
    return this.byPrefix.size;
  }

  /** Adds or replaces the route for `prefix`; a replaced route starts a fresh `lastActivity`. */
  add(prefix: string, target: string, data: Record<string, unknown> = {}): Route {
    validateTarget(target);
    const key = normalizePrefix(prefix);
    const route: Route = { prefix: key, target, data: { ...data }, lastActivity: Date.now() };
    let node = this.root;
    for (const segment of segmentsOf(key)) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = emptyNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    node.route = route;
    if (!this.byPrefix.has(key) && !isCanonical(key)) this.oddKeys++;
    this.byPrefix.set(key, route);
    return route;
  }

  /** Removes the route for `prefix`; false if there was none. Empty branches are pruned. */
  delete(prefix: string): boolean {
    const key = normalizePrefix(prefix);
    const removed = this.byPrefix.get(key);
    if (removed === undefined) return false;
    this.byPrefix.delete(key);
    if (!isCanonical(key)) this.oddKeys--;
    const path: Array<{ node: TrieNode; segment: string }> = [];
    let node = this.root;
    const segments = segmentsOf(key);
    for (const segment of segments) {
      const child = node.children.get(segment);
      // The index and the trie are updated together, so a key in the index always has its nodes.
      if (child === undefined) return true;
      path.push({ node, segment });
      node = child;
    }
    if (node.route !== removed) return true;
    node.route = this.oddKeys > 0 || !isCanonical(key) ? this.twinOf(segments) : undefined;
    for (let i = path.length - 1; i >= 0; i--) {
      const step = path[i];
      if (step === undefined) break;
      const child = step.node.children.get(step.segment);
      if (child === undefined || child.route !== undefined || child.children.size > 0) break;
      step.node.children.delete(step.segment);
    }
    return true;
  }

  /** The route stored under exactly this prefix (after normalisation), not a match. */
  get(prefix: string): Route | undefined {
    return this.byPrefix.get(normalizePrefix(prefix));
  }

  /**
   * The route with the longest prefix of `path`, compared by whole segments: `/user/foo` matches
   * `/user/foo`, `/user/foo/` and `/user/foo/x`, never `/user/foobar`. `path` is a decoded path
   * without query string. Runs on every request, so it walks the string instead of splitting it.
   */
  match(path: string): Route | undefined {
    let node = this.root;
    let best = node.route;
    let start = 0;
    let end = path.length;
    while (start < end && path.charCodeAt(start) === SLASH) start++;
    while (end > start && path.charCodeAt(end - 1) === SLASH) end--;
    while (start < end && node.children.size > 0) {
      let stop = path.indexOf('/', start);
      if (stop === -1 || stop > end) stop = end;
      const child = node.children.get(path.slice(start, stop));
      if (child === undefined) break;
      node = child;
      if (node.route !== undefined) best = node.route;
      start = stop + 1;
    }
    return best;
  }

  /** Every route, in the order they were first added. */
  list(): Route[] {
    return [...this.byPrefix.values()];
  }

  /** Another key on the same trie node as `segments` (`/x` for `//x`), if one is left. */
  private twinOf(segments: string[]): Route | undefined {
    const joined = segments.join('/');
    let twin: Route | undefined;
    for (const route of this.byPrefix.values()) {
      if (segmentsOf(route.prefix).join('/') === joined) twin = route;
    }
    return twin;
  }
}
