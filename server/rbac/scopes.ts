/**
 * JupyterHub 3.0's scopes: the names, what each one implies, and the filter rules
 * (`jupyterhub/scopes.py`). Pure logic: callers pass everything that would need the database,
 * such as a user's groups.
 *
 * Vocabulary, as in JupyterHub:
 *   raw scope       what roles and tokens store: may be a meta scope (`self`, `inherit`) or carry a bare
 *                   filter (`access:servers!user`).
 *   expanded scopes what a request holds: meta scopes resolved, subscopes added, bare filters bound to
 *                   the owner, and filtered forms dropped where the unfiltered scope is held.
 *   filter          `!user=NAME`, `!server=USER/SERVER` (default server `USER/`), `!group=NAME`,
 *                   `!service=NAME`; restricts a scope to those resources.
 */

export interface ScopeDefinition {
  /** One line, shown to people (for example on the OAuth confirmation page). */
  readonly description: string;
  /** Scopes that holding this one implies, one level deep. */
  readonly subscopes?: readonly string[];
}

/** Every scope JupyterHub 3.0 defines, in its order. */
export const SCOPE_DEFINITIONS = {
  '(no_scope)': { description: 'Identify the owner of the requesting entity.' },
  self: { description: 'Your own resources.' },
  inherit: { description: 'Anything you have access to.' },
  'admin-ui': { description: 'Open the admin page (each action on it needs its own scope).' },
  'admin:users': {
    description: 'Read, write, create and delete users and their authentication state, not their servers or tokens.',
    subscopes: ['admin:auth_state', 'users', 'read:roles:users', 'delete:users'],
  },
  'admin:auth_state': { description: 'Read a user’s authentication state.' },
  users: {
    description: 'Read and write user models (not servers, tokens or authentication state).',
    subscopes: ['read:users', 'list:users', 'users:activity'],
  },
  'delete:users': { description: 'Delete users.' },
  'list:users': { description: 'List users, with at least their names.', subscopes: ['read:users:name'] },
  'read:users': {
    description: 'Read user models (not servers, tokens or authentication state).',
    subscopes: ['read:users:name', 'read:users:groups', 'read:users:activity'],
  },
  'read:users:name': { description: 'Read user names.' },
  'read:users:groups': { description: 'Read which groups users belong to.' },
  'read:users:activity': { description: 'Read when users were last active.' },
  'read:roles': {
    description: 'Read role assignments.',
    subscopes: ['read:roles:users', 'read:roles:services', 'read:roles:groups'],
  },
  'read:roles:users': { description: 'Read the roles assigned to users.' },
  'read:roles:services': { description: 'Read the roles assigned to services.' },
  'read:roles:groups': { description: 'Read the roles assigned to groups.' },
  'users:activity': { description: 'Update when users were last active.', subscopes: ['read:users:activity'] },
  'admin:servers': {
    description: 'Read, start, stop, create and delete user servers and their state.',
    subscopes: ['admin:server_state', 'servers'],
  },
  'admin:server_state': { description: 'Read and write the state of user servers.' },
  servers: { description: 'Start and stop user servers.', subscopes: ['read:servers', 'delete:servers'] },
  'read:servers': {
    description: 'Read user names and their server models (not the server state).',
    subscopes: ['read:users:name'],
  },
  'delete:servers': { description: 'Stop and delete user servers.' },
  tokens: { description: 'Read, write, create and delete user tokens.', subscopes: ['read:tokens'] },
  'read:tokens': { description: 'Read user tokens.' },
  'admin:groups': {
    description: 'Read and write groups, create and delete them.',
    subscopes: ['groups', 'read:roles:groups', 'delete:groups'],
  },
  groups: {
    description: 'Read and write groups, including adding and removing members.',
    subscopes: ['read:groups', 'list:groups'],
  },
  'list:groups': { description: 'List groups, with at least their names.', subscopes: ['read:groups:name'] },
  'read:groups': { description: 'Read group models.', subscopes: ['read:groups:name'] },
  'read:groups:name': { description: 'Read group names.' },
  'delete:groups': { description: 'Delete groups.' },
  'list:services': { description: 'List services, with at least their names.', subscopes: ['read:services:name'] },
  'read:services': { description: 'Read service models.', subscopes: ['read:services:name'] },
  'read:services:name': { description: 'Read service names.' },
  'read:hub': { description: 'Read detailed information about the hub.' },
  'access:servers': { description: 'Use user servers, through the API or a browser.' },
  'access:services': { description: 'Use services, through the API or a browser.' },
  proxy: { description: 'Read the proxy’s routing table, sync the hub with the proxy, and tell the hub about a new proxy.' },
  shutdown: { description: 'Shut down the hub.' },
  'read:metrics': { description: 'Read Prometheus metrics.' },
  // Lectern's own: what a teaching assistant may do with a class's handouts (`lectern:collect!group=7b`).
  'lectern:collect': { description: 'See where students stand with handouts, collect their work and download it.' },
} as const satisfies Record<string, ScopeDefinition>;

export type ScopeName = keyof typeof SCOPE_DEFINITIONS;

/** Meta scopes stand for other scopes and never appear in an expanded set. */
const META_SCOPES: ReadonlySet<string> = new Set(['(no_scope)', 'self', 'inherit']);

/** What `self` grants a user, each filtered to that user (`_expand_self_scope`). */
const SELF_SCOPES: readonly ScopeName[] = [
  'read:users',
  'read:users:name',
  'read:users:groups',
  'users:activity',
  'read:users:activity',
  'servers',
  'delete:servers',
  'read:servers',
  'tokens',
  'read:tokens',
  'access:servers',
];

export type FilterKind = 'user' | 'server' | 'group' | 'service';
const FILTER_KINDS: readonly FilterKind[] = ['user', 'server', 'group', 'service'];
/** Bare filters name no resource; expansion binds them to the token's owner. */
const BARE_FILTERS: ReadonlySet<string> = new Set(['user', 'server', 'service']);

/** Who holds the scopes being expanded; bare filters and `self` are resolved against it. */
export type Owner =
  | {
      kind: 'user';
      name: string;
      /** Expansion keeps `!group=` filters as they are; carried so one value also answers "is the owner in g". */
      groups: string[];
      /** Set for a token tied to one of the user's servers ('' is the default server): binds a bare `!server`. */
      server?: string;
    }
  | { kind: 'service'; name: string };

/** The resource a request acts on, as the route names it. */
export interface ScopeTarget {
  user?: string;
  /** `USER/SERVERNAME`; the default server is `USER/`. */
  server?: string;
  group?: string;
  service?: string;
}

/** Group membership lookup, supplied by the caller because it lives in the database. */
export type GroupsOf = (user: string) => readonly string[];

export type ScopeStatus = 'allowed' | 'forbidden' | 'filtered';

function isScopeName(name: string): name is ScopeName {
  return Object.hasOwn(SCOPE_DEFINITIONS, name);
}

function splitScope(scope: string): { base: string; filter: string | undefined } {
  const bang = scope.indexOf('!');
  return bang === -1 ? { base: scope, filter: undefined } : { base: scope.slice(0, bang), filter: scope.slice(bang + 1) };
}

function splitFilter(filter: string): { kind: string; value: string | undefined } {
  const eq = filter.indexOf('=');
  return eq === -1 ? { kind: filter, value: undefined } : { kind: filter.slice(0, eq), value: filter.slice(eq + 1) };
}

/** Why `scope` is not a valid raw scope, or undefined if it is. */
function scopeProblem(scope: string): string | undefined {
  const { base, filter } = splitScope(scope);
  if (!isScopeName(base)) {
    if (base === 'all') return "Draft scope 'all' is now called 'inherit'";
    return `Scope '${scope}' does not exist`;
  }
  if (filter === undefined) return undefined;
  if (META_SCOPES.has(base)) return `Meta scope '${base}' cannot be filtered (in '${scope}')`;
  const { kind, value } = splitFilter(filter);
  if (value === undefined) {
    return BARE_FILTERS.has(kind) ? undefined : `Scope filter '!${filter}' in scope '${scope}' does not exist`;
  }
  if (!(FILTER_KINDS as readonly string[]).includes(kind)) {
    return `Scope filter '!${filter}' in scope '${scope}' does not exist`;
  }
  if (value === '') return `Scope filter '!${filter}' in scope '${scope}' names nothing`;
  if (kind === 'server' && !value.includes('/')) {
    return `Scope filter '!${filter}' in scope '${scope}' must name a server as USER/SERVERNAME`;
  }
  return undefined;
}

/**
 * Whether `scope` is a scope JupyterHub 3.0 defines, alone or with a valid filter (including the
 * bare `!user`, `!server`, `!service`).
 */
export function isKnownScope(scope: string): boolean {
  return scopeProblem(scope) === undefined;
}

/** Throws an Error naming the first unknown scope; `where` (for example "role 'ta'") goes in the message. */
export function assertKnownScopes(scopes: Iterable<string>, where?: string): void {
  for (const scope of scopes) {
    const problem = scopeProblem(scope);
    if (problem !== undefined) throw new Error(where === undefined ? problem : `${problem} (${where})`);
  }
}

/** Scope names implied by `base`, itself included. */
function withSubscopes(base: ScopeName): Set<string> {
  const found = new Set<string>();
  const visit = (name: string): void => {
    if (found.has(name) || !isScopeName(name)) return;
    found.add(name);
    const definition: ScopeDefinition = SCOPE_DEFINITIONS[name];
    for (const sub of definition.subscopes ?? []) visit(sub);
  };
  visit(base);
  return found;
}

/** The concrete filter a bare one stands for, or undefined when the owner cannot give it one. */
function bindBareFilter(kind: string, owner: Owner): string | undefined {
  if (kind === 'user') return owner.kind === 'user' ? `user=${owner.name}` : undefined;
  if (kind === 'service') return owner.kind === 'service' ? `service=${owner.name}` : undefined;
  if (kind === 'server') {
    return owner.kind === 'user' && owner.server !== undefined ? `server=${owner.name}/${owner.server}` : undefined;
  }
  return undefined;
}

/**
 * Expands raw scopes into the scopes they grant `owner`:
 * - `self` becomes the user's own scopes (`read:users!user=NAME`, …); it grants a service nothing.
 * - `inherit` becomes `ownerScopes` (the owner's expanded scopes). A caller expanding a token's scopes
 *   passes them; anywhere else `inherit` has no meaning, so meeting it without them throws.
 * - `(no_scope)` grants nothing by itself (token resolution adds the identify scopes).
 * - Subscopes are added recursively, keeping the filter.
 * - Bare filters bind to the owner (`!user` → its name, `!service` → the owner service, `!server` → the
 *   owner's `server`). A scope whose bare filter cannot be bound is dropped, never widened.
 * - A `!server=u/s` filter on anything that implies a `read:*` scope also grants `read:users:name!user=u`.
 * - Filtered forms of a scope held unfiltered are dropped.
 * Throws an Error on an unknown scope or filter.
 */
export function expandScopes(raw: Iterable<string>, owner: Owner, ownerScopes?: ReadonlySet<string>): Set<string> {
  const expanded = new Set<string>();
  for (const scope of raw) {
    assertKnownScopes([scope]);
    if (scope === 'self') {
      if (owner.kind === 'user') for (const name of SELF_SCOPES) addExpanded(expanded, name, `user=${owner.name}`);
      continue;
    }
    if (scope === 'inherit') {
      if (ownerScopes === undefined) {
        throw new Error("Scope 'inherit' needs the owner's expanded scopes to expand to");
      }
      for (const held of ownerScopes) expanded.add(held);
      continue;
    }
    if (scope === '(no_scope)') continue;

    const { base, filter } = splitScope(scope);
    let boundFilter = filter;
    if (filter !== undefined && BARE_FILTERS.has(filter)) {
      boundFilter = bindBareFilter(filter, owner);
      if (boundFilter === undefined) continue;
    }
    addExpanded(expanded, base as ScopeName, boundFilter);
  }
  return reduceScopes(expanded);
}

function addExpanded(into: Set<string>, base: ScopeName, filter: string | undefined): void {
  const names = withSubscopes(base);
  for (const name of names) into.add(filter === undefined ? name : `${name}!${filter}`);
  if (filter === undefined) return;
  const { kind, value } = splitFilter(filter);
  // Whoever may read something of a server may also read whose server it is.
  if (kind === 'server' && value !== undefined && [...names].some((name) => name.startsWith('read:'))) {
    const user = value.slice(0, value.indexOf('/'));
    into.add(`read:users:name!user=${user}`);
  }
}

/** Scope base → `'all'` when held unfiltered, else the filter values held for each kind. */
type ParsedScopes = Map<string, 'all' | Map<string, Set<string>>>;

/**
 * Parsed forms of the scope sets checked by `scopeStatus` and `scopeFilter`, which a request checks
 * many times (every row of a list). Checked sets must not change afterwards: they never do here,
 * as every expansion builds a new set.
 */
const parsedHeld = new WeakMap<ReadonlySet<string>, ParsedScopes>();

function parseHeld(held: ReadonlySet<string>): ParsedScopes {
  let parsed = parsedHeld.get(held);
  if (!parsed) {
    parsed = parseScopes(held);
    parsedHeld.set(held, parsed);
  }
  return parsed;
}

function parseScopes(scopes: Iterable<string>): ParsedScopes {
  const parsed: ParsedScopes = new Map();
  for (const scope of scopes) {
    const { base, filter } = splitScope(scope);
    if (filter === undefined) {
      parsed.set(base, 'all');
      continue;
    }
    let filters = parsed.get(base);
    if (filters === 'all') continue;
    if (filters === undefined) {
      filters = new Map();
      parsed.set(base, filters);
    }
    const { kind, value } = splitFilter(filter);
    // Expanded scopes never carry bare filters; one here has no value to match, so it grants nothing.
    if (value === undefined) continue;
    const values = filters.get(kind) ?? new Set<string>();
    values.add(value);
    filters.set(kind, values);
  }
  return parsed;
}

function unparseScopes(parsed: ParsedScopes): Set<string> {
  const scopes = new Set<string>();
  for (const [base, filters] of parsed) {
    if (filters === 'all') {
      scopes.add(base);
      continue;
    }
    for (const [kind, values] of filters) for (const value of values) scopes.add(`${base}!${kind}=${value}`);
  }
  return scopes;
}

/** Drops filtered forms of scopes also held unfiltered (`access:servers` covers `access:servers!user=x`). */
export function reduceScopes(expanded: Iterable<string>): Set<string> {
  return unparseScopes(parseScopes(expanded));
}

function serverOwner(server: string): string {
  const slash = server.indexOf('/');
  return slash === -1 ? server : server.slice(0, slash);
}

function intersectFilters(
  a: Map<string, Set<string>>,
  b: Map<string, Set<string>>,
  groupsOf: GroupsOf,
): Map<string, Set<string>> {
  const common = new Map<string, Set<string>>();
  for (const [kind, values] of a) {
    const other = b.get(kind);
    if (other === undefined) continue;
    const both = new Set([...values].filter((value) => other.has(value)));
    if (both.size > 0) common.set(kind, both);
  }
  const servers = common.get('server') ?? new Set<string>();
  const users = common.get('user') ?? new Set<string>();
  const inAnyGroup = (user: string, groups: Set<string> | undefined): boolean =>
    groups !== undefined && groupsOf(user).some((group) => groups.has(group));

  // A narrower filter on one side survives if the other side's wider filter covers it:
  // a server is covered by its owner's user filter or a group holding its owner; a user by a group.
  for (const [narrow, wide] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const server of narrow.get('server') ?? []) {
      if (servers.has(server)) continue;
      const owner = serverOwner(server);
      if (wide.get('user')?.has(owner) === true || inAnyGroup(owner, wide.get('group'))) servers.add(server);
    }
    for (const user of narrow.get('user') ?? []) {
      if (!users.has(user) && inAnyGroup(user, wide.get('group'))) users.add(user);
    }
  }
  if (servers.size > 0) common.set('server', servers);
  if (users.size > 0) common.set('user', users);
  return common;
}

/**
 * What two expanded scope sets both grant, filter-aware (`_intersect_expanded_scopes`):
 * `access:servers` ∩ `access:servers!user=alice` = `access:servers!user=alice`;
 * `!user=alice` ∩ `!server=alice/x` = `!server=alice/x`; `!group=g` ∩ `!user=u` = `!user=u` iff u is in g
 * (likewise for the owner of a `!server=`). Two different groups never intersect, even if they share
 * members. Used to keep a token within its owner's scopes. Pass `() => []` where group membership
 * cannot be known (the single-user server's view), which only ever narrows the result.
 */
export function intersectScopes(a: ReadonlySet<string>, b: ReadonlySet<string>, groupsOf: GroupsOf): Set<string> {
  const parsedA = parseScopes(a);
  const parsedB = parseScopes(b);
  const common: ParsedScopes = new Map();
  for (const [base, filtersA] of parsedA) {
    const filtersB = parsedB.get(base);
    if (filtersB === undefined) continue;
    if (filtersA === 'all') common.set(base, filtersB);
    else if (filtersB === 'all') common.set(base, filtersA);
    else {
      const filters = intersectFilters(filtersA, filtersB, groupsOf);
      if (filters.size > 0) common.set(base, filters);
    }
  }
  return unparseScopes(common);
}

/**
 * The scopes of `required` that `held` satisfies, as the single-user server checks them
 * (`services.auth.check_scopes`): non-empty means allowed. Group filters are not resolved, so the hub
 * must hand out `!server=`/`!user=` filters for anything a single-user server checks.
 */
export function matchRequiredScopes(required: Iterable<string>, held: Iterable<string>): Set<string> {
  const requiredSet = new Set(required);
  const common = intersectScopes(requiredSet, new Set(held), () => []);
  return new Set([...requiredSet].filter((scope) => common.has(scope)));
}

function isEmptyTarget(target: ScopeTarget | undefined): boolean {
  return (
    target === undefined ||
    (target.user === undefined && target.server === undefined && target.group === undefined && target.service === undefined)
  );
}

function filtersMatch(filters: Map<string, Set<string>>, target: ScopeTarget, groupsOf: GroupsOf | undefined): boolean {
  const groups = filters.get('group');
  const userInGroups = (user: string): boolean =>
    groups !== undefined && groupsOf !== undefined && groupsOf(user).some((group) => groups.has(group));
  const usersOfTarget = [target.user, target.server === undefined ? undefined : serverOwner(target.server)].filter(
    (user): user is string => user !== undefined,
  );
  if (target.server !== undefined && filters.get('server')?.has(target.server) === true) return true;
  if (target.group !== undefined && groups?.has(target.group) === true) return true;
  if (target.service !== undefined && filters.get('service')?.has(target.service) === true) return true;
  return usersOfTarget.some((user) => filters.get('user')?.has(user) === true || userInGroups(user));
}

/**
 * A predicate saying whether `held` grants `needed` on a given resource: for list endpoints, which
 * answer only the rows it accepts. Matching rules are those of `hasScope`.
 */
export function scopeFilter(
  held: ReadonlySet<string>,
  needed: string,
  groupsOf?: GroupsOf,
): (target: ScopeTarget) => boolean {
  const filters = parseHeld(held).get(needed);
  if (filters === undefined) return () => false;
  if (filters === 'all') return () => true;
  return (target) => filtersMatch(filters, target, groupsOf);
}

/**
 * Whether the expanded scopes `held` grant `needed` (a scope name without filter) on `target`:
 * held unfiltered, or with a filter matching the target. A user filter matches that user and that
 * user's servers; a server filter matches that server only; a group filter matches the group itself,
 * its members (via `groupsOf`; without it, membership is unknown and never matches) and their
 * servers; a service filter matches that service. Without a target only the unfiltered scope counts;
 * list endpoints use `scopeStatus` and `scopeFilter` instead.
 */
export function hasScope(held: ReadonlySet<string>, needed: string, target?: ScopeTarget, groupsOf?: GroupsOf): boolean {
  return scopeStatus(held, needed, target, groupsOf) === 'allowed';
}

/**
 * How JupyterHub's `needs_scope` would answer a request needing any of `needed` on `target`:
 * - 'allowed'   some needed scope is held unfiltered, or with a filter matching the target;
 * - 'filtered'  some needed scope is held, but only with filters that do not match (JupyterHub: 404
 *               "No access to resources or resources not found"). Without a target this means "held
 *               with filters": a list endpoint answers the rows `scopeFilter` accepts;
 * - 'forbidden' no needed scope is held in any form (JupyterHub: 403 "Action is not authorized with
 *               current scopes; requires any of [...]", see `notAuthorizedMessage`).
 */
export function scopeStatus(
  held: ReadonlySet<string>,
  needed: string | readonly string[],
  target?: ScopeTarget,
  groupsOf?: GroupsOf,
): ScopeStatus {
  const parsed = parseHeld(held);
  let status: ScopeStatus = 'forbidden';
  for (const scope of typeof needed === 'string' ? [needed] : needed) {
    const filters = parsed.get(scope);
    if (filters === undefined) continue;
    if (filters === 'all') return 'allowed';
    if (!isEmptyTarget(target) && filtersMatch(filters, target ?? {}, groupsOf)) return 'allowed';
    status = 'filtered';
  }
  return status;
}

/** JupyterHub's 403 message when no needed scope is held. */
export function notAuthorizedMessage(needed: string | readonly string[]): string {
  const list = typeof needed === 'string' ? needed : needed.join(', ');
  return `Action is not authorized with current scopes; requires any of [${list}]`;
}

/** JupyterHub's 404 message when scopes are held only for other resources. */
export const NO_ACCESS_MESSAGE = 'No access to resources or resources not found';

/** Scopes as a sorted array, the way JupyterHub lists them in JSON answers. */
export function describeScopes(scopes: Iterable<string>): string[] {
  // Code-unit order, like Python's sorted() on these ASCII names; localeCompare would differ.
  return [...scopes].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

export interface ScopeExplanation {
  scope: string;
  description: string;
  /** Empty when unfiltered; "only you" for the viewer's own user filter; else "user bob", "users in group g", … */
  filter: string;
}

/** Human explanations of raw scopes for `username`, as the OAuth confirmation page lists them. */
export function explainRawScopes(raw: Iterable<string>, username?: string): ScopeExplanation[] {
  return [...raw].map((scope) => {
    const { base, filter } = splitScope(scope);
    if (!isScopeName(base)) throw new Error(`Scope '${scope}' does not exist`);
    const description: string = SCOPE_DEFINITIONS[base].description;
    let filterText = '';
    if (filter !== undefined) {
      const { kind, value } = splitFilter(filter);
      if (kind === 'user' && (value === undefined || value === username)) filterText = 'only you';
      else filterText = `${kind === 'group' ? 'users in group' : kind} ${value ?? ''}`.trim();
    }
    return { scope: base, description, filter: filterText };
  });
}

/**
 * The scopes every token may use to identify its owner (`identify_scopes`). Without an owner, the raw
 * form with bare filters, as OAuth clients are granted them.
 */
export function identifyScopes(owner?: Owner): string[] {
  if (owner === undefined) return ['read:users:name!user', 'read:users:groups!user'];
  if (owner.kind === 'user') return [`read:users:name!user=${owner.name}`, `read:users:groups!user=${owner.name}`];
  return [`read:services:name!service=${owner.name}`];
}

/**
 * The expanded scopes a token actually holds (`get_scopes_for` on a token): its raw scopes expanded
 * for the owner, plus the access scopes of the OAuth client that issued it and the owner's identify
 * scopes, all cut down to what the owner holds. A token holding `inherit` holds exactly the owner's
 * scopes.
 */
export function resolveTokenScopes(token: {
  scopes: Iterable<string>;
  owner: Owner;
  /** The owner's expanded scopes (from its roles). */
  ownerScopes: ReadonlySet<string>;
  /** `access:*` scopes of the issuing OAuth client; none for API tokens. */
  clientAccessScopes?: Iterable<string>;
  groupsOf: GroupsOf;
}): Set<string> {
  const raw = [...token.scopes];
  if (raw.includes('inherit')) return new Set(token.ownerScopes);
  const wanted = expandScopes(
    [...raw, ...(token.clientAccessScopes ?? []), ...identifyScopes(token.owner)],
    token.owner,
  );
  return intersectScopes(wanted, token.ownerScopes, token.groupsOf);
}
