/**
 * The proxy's routing table: prefix → target, looked up by longest prefix, whole path segment by
 * whole path segment (configurable-http-proxy's semantics, so the hub's routes mean the same thing
 * here and on a CHP it exports to).
 *
 * Routes are plain data: the hub adds and deletes them, the proxy reads them on every request and
 * bumps `lastActivity`, and a CHP-compatible REST API can serialise them as they are.
 */

export interface Route {
  /** The normalised prefix: leading `/`, no trailing `/` (except the root route `/`). */
  prefix: string;
  /** Absolute `http:`, `https:`, `ws:` or `wss:` URL the matching requests are forwarded to. */
  target: string;
  /** Whatever the caller stored with the route (CHP's route data: `user`, `server_name`, …). */
  data: Record<string, unknown>;
  /** Epoch ms of the last successful proxied response or websocket client frame; set on add. */
  lastActivity: number;
}

const TARGET_PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:']);

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

/** Throws a `TypeError` naming `target` unless it is an absolute http(s)/ws(s) URL with a host. */
export function validateTarget(target: string): void {
  let url: URL | undefined;
  try {
    url = new URL(target);
  } catch {
    url = undefined;
  }
  if (url === undefined || !TARGET_PROTOCOLS.has(url.protocol) || url.hostname === '') {
    throw new TypeError(
      `Invalid proxy target ${JSON.stringify(target)}: expected an absolute http:, https:, ws: or wss: URL`,
    );
  }
}

/** Path segments of a normalised key or a request path; the root has none. */
function segmentsOf(path: string): string[] {
  const withoutLeadingSlash = path.startsWith('/') ? path.slice(1) : path;
  return withoutLeadingSlash === '' ? [] : withoutLeadingSlash.split('/');
}

function emptyNode(): TrieNode {
  return { route: undefined, children: new Map() };
}

export class RouteTable {
  private readonly root: TrieNode = emptyNode();
  /** Exact-key index beside the trie, so `get`, `list` and `size` do not walk it. */
  private readonly byPrefix = new Map<string, Route>();

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
    this.byPrefix.set(key, route);
    return route;
  }

  /** Removes the route for `prefix`; false if there was none. Empty branches are pruned. */
  delete(prefix: string): boolean {
    const key = normalizePrefix(prefix);
    if (!this.byPrefix.delete(key)) return false;
    const path: Array<{ node: TrieNode; segment: string }> = [];
    let node = this.root;
    for (const segment of segmentsOf(key)) {
      const child = node.children.get(segment);
      // The index and the trie are updated together, so a key in the index always has its nodes.
      if (child === undefined) return true;
      path.push({ node, segment });
      node = child;
    }
    node.route = undefined;
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
   * without query string.
   */
  match(path: string): Route | undefined {
    let node = this.root;
    let best = node.route;
    for (const segment of segmentsOf(path)) {
      const child = node.children.get(segment);
      if (child === undefined) break;
      node = child;
      if (node.route !== undefined) best = node.route;
    }
    return best;
  }

  /** Every route, in the order they were first added. */
  list(): Route[] {
    return [...this.byPrefix.values()];
  }
}
