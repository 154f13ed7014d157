/**
 * JSON models in JupyterHub 3.0's shapes (reference §4), each cut down to the keys the caller's
 * `read:` scopes allow on that resource, as JupyterHub's `_filter_model` does. The scope filters
 * are parsed once per request (`ModelAccess`), not once per row: a list of 100 users stays cheap.
 */
import { scopeFilter, describeScopes, type ScopeTarget } from '../../rbac/scopes.js';
import { assignedRoles } from '../../rbac/roles.js';
import type { GroupRecord } from '../../store/groups.js';
import type { TokenRecord } from '../../store/tokens.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import type { Identity, Service } from '../identity.js';
import type { ServerPhase } from '../../servers/server-state.js';

type AccessMap = readonly (readonly [scope: string, keys: readonly string[]])[];

const USER_ACCESS: AccessMap = [
  ['read:users', ['kind', 'name', 'lectern_display_name', 'admin', 'roles', 'groups', 'server', 'pending', 'created', 'last_activity']],
  ['read:users:name', ['kind', 'name', 'lectern_display_name', 'admin']],
  ['read:users:groups', ['kind', 'name', 'groups']],
  ['read:users:activity', ['kind', 'name', 'last_activity']],
  ['read:servers', ['kind', 'name', 'servers']],
  ['read:roles:users', ['kind', 'name', 'roles', 'admin']],
  ['admin:auth_state', ['kind', 'name', 'auth_state']],
];
const GROUP_ACCESS: AccessMap = [
  ['read:groups', ['kind', 'name', 'users', 'properties']],
  ['read:groups:name', ['kind', 'name']],
  ['read:roles:groups', ['kind', 'name', 'roles']],
];
const SERVICE_ACCESS: AccessMap = [
  ['read:services', ['kind', 'name', 'admin', 'url', 'prefix', 'command', 'pid', 'info', 'display']],
  ['read:services:name', ['kind', 'name', 'admin']],
  ['read:roles:services', ['kind', 'name', 'roles', 'admin']],
];

type Filter = (target: ScopeTarget) => boolean;

/** The caller's read scopes, parsed once, as predicates per resource. */
export class ModelAccess {
  private readonly users: [Filter, readonly string[]][];
  private readonly groups: [Filter, readonly string[]][];
  private readonly services: [Filter, readonly string[]][];
  readonly readServers: Filter;
  readonly serverState: Filter;

  constructor(readonly identity: Identity) {
    const { scopes, groupsOf } = identity;
    const compile = (map: AccessMap) =>
      map.map(([scope, keys]) => [scopeFilter(scopes, scope, groupsOf), keys] as [Filter, readonly string[]]);
    this.users = compile(USER_ACCESS);
    this.groups = compile(GROUP_ACCESS);
    this.services = compile(SERVICE_ACCESS);
    this.readServers = scopeFilter(scopes, 'read:servers', groupsOf);
    this.serverState = scopeFilter(scopes, 'admin:server_state', groupsOf);
  }

  userKeys(name: string): Set<string> {
    return allowedKeys(this.users, { user: name });
  }

  groupKeys(name: string): Set<string> {
    return allowedKeys(this.groups, { group: name });
  }

  serviceKeys(name: string): Set<string> {
    return allowedKeys(this.services, { service: name });
  }
}

function allowedKeys(filters: [Filter, readonly string[]][], target: ScopeTarget): Set<string> {
  const keys = new Set<string>();
  for (const [filter, allowed] of filters) if (filter(target)) for (const key of allowed) keys.add(key);
  return keys;
}

function pick<T extends Record<string, unknown>>(model: T, keys: Set<string>): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(model) as (keyof T & string)[]) if (keys.has(key)) out[key] = model[key];
  return out;
}

function pendingOf(phase: ServerPhase): 'spawn' | 'stop' | null {
  return phase === 'spawning' ? 'spawn' : phase === 'stopping' ? 'stop' : null;
}

export function serverModel(ctx: HubContext, access: ModelAccess | null, user: UserRecord, name: string) {
  const view = ctx.servers.view(user, name);
  const record = ctx.serverRecords.find(user.id, name);
  const model: Record<string, unknown> = {
    name,
    last_activity: record?.lastActivity ?? null,
    started: view.started,
    pending: pendingOf(view.phase),
    ready: view.phase === 'running',
    stopped: view.phase === 'stopped',
    url: ctx.urls.server(user.name, name),
    user_options: record?.userOptions ?? {},
    progress_url: ctx.urls.progress(user.name, name),
    // Lectern extension: what the server and its kernels use of the machine (null when not running).
    lectern_usage: view.usage && {
      cpu_percent: Math.round(view.usage.cpuPercent * 10) / 10,
      memory_bytes: view.usage.memoryBytes,
      processes: view.usage.processes,
    },
    // Lectern extensions: the sandbox it runs in (null: not isolated, or not running), and what its
    // student should know about it (a kernel stopped for using too much memory).
    lectern_sandbox: view.sandbox,
    lectern_notice: view.notice,
  };
  if (access?.serverState({ server: `${user.name}/${name}` })) model.state = view.phase === 'stopped' ? {} : (record?.state ?? {});
  return model;
}

export interface UserModelOptions {
  includeStoppedServers?: boolean;
  /** Set for `GET /users/{name}` and `PATCH`: JupyterHub fills auth_state there (Lectern keeps none). */
  withAuthState?: boolean;
}

/** The user model, or null when the caller may see nothing of this user. */
export function userModel(ctx: HubContext, access: ModelAccess, user: UserRecord, options: UserModelOptions = {}) {
  const keys = access.userKeys(user.name);
  if (keys.size === 0) return null;
  const view = ctx.servers.view(user);
  const model = pick(
    {
      kind: 'user',
      name: user.name,
      // Lectern extension: the full name from the class list or the join page, accents kept.
      lectern_display_name: user.displayName,
      admin: user.admin,
      roles: assignedRoles({ kind: 'user', name: user.name, admin: user.admin }, ctx.config.roles),
      groups: ctx.groups.groupsOf(user.id),
      server: view.phase === 'running' ? ctx.urls.server(user.name) : null,
      pending: pendingOf(view.phase),
      created: user.created,
      last_activity: user.lastActivity,
      auth_state: null,
    },
    keys,
  ) as Record<string, unknown>;
  const names = new Set(ctx.servers.activeServerNames(user));
  if (options.includeStoppedServers) {
    // Every user has a default server, running or not, as JupyterHub creates one per user.
    names.add('');
    for (const record of ctx.serverRecords.listForUser(user.id)) names.add(record.name);
  }
  const servers: Record<string, unknown> = {};
  for (const name of [...names].sort()) {
    if (access.readServers({ server: `${user.name}/${name}` })) servers[name] = serverModel(ctx, access, user, name);
  }
  // As JupyterHub: present (maybe empty) for callers who may read servers, else only if some are visible.
  if (keys.has('servers') || Object.keys(servers).length > 0) model.servers = servers;
  return model;
}

export function groupModel(ctx: HubContext, access: ModelAccess, group: GroupRecord) {
  const keys = access.groupKeys(group.name);
  if (keys.size === 0) return null;
  return pick(
    {
      kind: 'group',
      name: group.name,
      roles: assignedRoles({ kind: 'group', name: group.name }, ctx.config.roles),
      users: ctx.groups.members(group.id),
      properties: group.properties,
    },
    keys,
  );
}

/** The service model; with `access` null (a service asking about itself), every key. */
export function serviceModel(ctx: HubContext, access: ModelAccess | null, service: Service) {
  const keys = access ? access.serviceKeys(service.name) : new Set(SERVICE_ACCESS.flatMap(([, allowed]) => allowed));
  if (keys.size === 0) return null;
  return pick(
    {
      kind: 'service',
      name: service.name,
      roles: assignedRoles({ kind: 'service', name: service.name, admin: service.admin }, ctx.config.roles),
      admin: service.admin,
      // Lectern's services are API clients only: no process, no URL (JupyterHub's defaults for those).
      url: '',
      prefix: '',
      command: [] as string[],
      pid: 0,
      info: {},
      display: true,
    },
    keys,
  );
}

/** JupyterHub's token ids are the row id with an `a` in front (`a12`). */
export function tokenId(record: TokenRecord): string {
  return `a${record.id}`;
}

export function tokenModel(ctx: HubContext, owner: UserRecord, record: TokenRecord) {
  const client = record.oauthClientId ? ctx.oauthClients.find(record.oauthClientId) : undefined;
  return {
    user: owner.name,
    id: tokenId(record),
    kind: 'api_token',
    roles: [] as string[],
    scopes: describeScopes(ctx.identities.tokenScopes(record, owner)),
    created: record.created,
    last_activity: record.lastActivity,
    expires_at: record.expiresAt,
    note: record.note,
    session_id: record.sessionId === null ? null : String(record.sessionId),
    oauth_client: client?.description ?? 'JupyterHub',
  };
}
