/**
 * JupyterHub 3.0's roles (`jupyterhub/roles.py`): named bundles of raw scopes. Users hold roles; the
 * scopes a request may use come from expanding the roles' scopes (`expandScopes`).
 */
import { assertKnownScopes, identifyScopes } from './scopes.js';

export interface RoleDefinition {
  name: string;
  description?: string;
  /** Raw scopes: may be meta scopes or carry bare filters (`!user`). */
  scopes: readonly string[];
}

/** The roles every JupyterHub 3.0 hub has (`get_default_roles`), with their raw scopes. */
export const BUILT_IN_ROLES: readonly Readonly<Required<RoleDefinition>>[] = [
  { name: 'user', description: 'Standard user privileges', scopes: ['self'] },
  {
    name: 'admin',
    description: 'Elevated privileges (can do anything)',
    scopes: [
      'admin-ui',
      'admin:users',
      'admin:servers',
      'tokens',
      'admin:groups',
      'list:services',
      'read:services',
      'read:hub',
      'proxy',
      'shutdown',
      'access:services',
      'access:servers',
      'read:roles',
      'read:metrics',
    ],
  },
  { name: 'server', description: 'Post activity only', scopes: ['users:activity!user', 'access:servers!user'] },
  { name: 'token', description: 'Token with same permissions as its owner', scopes: ['inherit'] },
];

const ROLE_NAME = /^[a-z][a-z0-9\-_~.]{1,253}[a-z0-9]$/;

/**
 * Checks a config-defined role the way JupyterHub's `create_role` does: a valid name (3–255
 * characters of lowercase letters, digits and `-_~.`, starting with a letter and ending with a
 * letter or digit), only known scopes, and no change to the built-in `admin` role. Throws an Error
 * naming the role and the offending value.
 */
export function validateRole(role: RoleDefinition): void {
  if (!ROLE_NAME.test(role.name)) {
    throw new Error(
      `Invalid role name: '${role.name}'. Role names are 3-255 characters of lowercase ASCII letters, ` +
        "digits and '-.~_', start with a letter and end with a letter or digit",
    );
  }
  assertKnownScopes(role.scopes, `in role '${role.name}'`);
  const builtIn = BUILT_IN_ROLES.find((candidate) => candidate.name === role.name);
  if (builtIn?.name === 'admin') {
    const sameScopes =
      role.scopes.length === builtIn.scopes.length && role.scopes.every((scope, i) => scope === builtIn.scopes[i]);
    if (!sameScopes) throw new Error(`Cannot override admin role admin.scopes = ${JSON.stringify(role.scopes)}`);
    if (role.description !== undefined && role.description !== builtIn.description) {
      throw new Error(`Cannot override admin role admin.description = ${JSON.stringify(role.description)}`);
    }
  }
}

/** A config-defined role with its holders, as JupyterHub's `load_roles` entries. */
export interface RoleAssignment extends RoleDefinition {
  users: readonly string[];
  groups: readonly string[];
  services: readonly string[];
}

/** Who may hold roles, as the role lookups below need them. */
export type RoleHolder =
  | { kind: 'user'; name: string; admin: boolean }
  | { kind: 'service'; name: string; admin: boolean }
  | { kind: 'group'; name: string };

/**
 * The roles assigned to `holder` itself (what its model lists as `roles`): the default ones plus
 * the config-defined roles naming it. A user's roles through their groups are not included here.
 */
export function assignedRoles(holder: RoleHolder, custom: readonly RoleAssignment[]): string[] {
  const defaults = holder.kind === 'user' ? rolesFor(holder) : holder.kind === 'service' && holder.admin ? ['admin'] : [];
  const members = (role: RoleAssignment) =>
    holder.kind === 'user' ? role.users : holder.kind === 'service' ? role.services : role.groups;
  const named = custom.filter((role) => members(role).includes(holder.name)).map((role) => role.name);
  return [...new Set([...defaults, ...named])];
}

/** Every role whose scopes a user holds: their own roles and those of their groups. */
export function effectiveUserRoles(
  user: { name: string; admin: boolean },
  groups: readonly string[],
  custom: readonly RoleAssignment[],
): string[] {
  const viaGroups = custom.filter((role) => role.groups.some((group) => groups.includes(group))).map((role) => role.name);
  return [...new Set([...assignedRoles({ kind: 'user', ...user }, custom), ...viaGroups])];
}

/** The roles a user holds by default (`assign_default_roles`): everyone has `user`, admins also `admin`. */
export function rolesFor(user: { admin: boolean }): string[] {
  return user.admin ? ['user', 'admin'] : ['user'];
}

/**
 * The raw scopes granted by `roleNames`, without duplicates. Custom roles are validated first
 * (`validateRole`) and may redefine `user`, `server` and `token`, as JupyterHub config can.
 * Throws an Error on an unknown role name or an invalid custom role.
 */
export function roleScopes(roleNames: Iterable<string>, customRoles: readonly RoleDefinition[] = []): string[] {
  for (const role of customRoles) validateRole(role);
  const scopes = new Set<string>();
  for (const name of roleNames) {
    const role =
      customRoles.find((candidate) => candidate.name === name) ??
      BUILT_IN_ROLES.find((candidate) => candidate.name === name);
    if (role === undefined) throw new Error(`Role '${name}' does not exist`);
    for (const scope of role.scopes) scopes.add(scope);
  }
  return [...scopes];
}

/**
 * The raw scopes stored on the API token a server gets at spawn (role `server`). The filters stay bare,
 * as JupyterHub stores them, and bind to the token's owner on expansion: activity posts and access to
 * the owner's servers, plus the identify scopes every token gets on resolution.
 */
export function serverTokenScopes(): string[] {
  return roleScopes(['server']);
}

function assertServerName(user: string, serverName: string): void {
  if (user === '' || user.includes('/')) throw new Error(`Invalid user name for a server: '${user}'`);
  if (serverName.includes('/')) throw new Error(`Invalid server name: '${serverName}'`);
}

/**
 * The scopes that let a request reach `user`'s server `serverName` ('' is the default server), in the
 * order JupyterHub puts them in `JUPYTERHUB_OAUTH_ACCESS_SCOPES` (`Spawner.oauth_access_scopes`):
 * `["access:servers!server=alice/", "access:servers!user=alice"]`.
 */
export function accessScopesFor(user: string, serverName: string): string[] {
  assertServerName(user, serverName);
  return [`access:servers!server=${user}/${serverName}`, `access:servers!user=${user}`];
}

/**
 * The access scope of a server's OAuth client (`scopes.access_scopes`): what every token it issues may
 * use to reach that server and nothing else.
 */
export function oauthClientAccessScopes(user: string, serverName: string): string[] {
  assertServerName(user, serverName);
  return [`access:servers!server=${user}/${serverName}`];
}

/**
 * The `allowed_scopes` JupyterHub stores on a server's OAuth client at spawn:
 * sorted(set(`configured` (`Spawner.oauth_client_allowed_scopes`, empty by default) + access scopes)).
 */
export function serverOAuthClientAllowedScopes(user: string, serverName: string, configured: readonly string[] = []): string[] {
  assertKnownScopes(configured, 'in oauth_client_allowed_scopes');
  return [...new Set([...configured, ...accessScopesFor(user, serverName)])].sort();
}

/**
 * The raw scopes an OAuth token for `user`'s own server gets when the authorize request names none
 * (§2): `read:users:name!user`, `read:users:groups!user`, `access:servers!server=alice/`, in that order
 * (the `scope` of the token answer). This is JupyterHub's default (client allowed scopes ∪ identify ∪
 * access) cut to the raw scopes of a user with the default roles, which drops `access:servers!user=…`.
 */
export function defaultOAuthClientScopes(user: string, serverName: string): string[] {
  return [...identifyScopes(), ...oauthClientAccessScopes(user, serverName)];
}
