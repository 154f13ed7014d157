/**
 * Usernames: one spelling per person. `Ann`, `ann ` and the full-width `ａｎｎ` are all `ann`, so a
 * student cannot create a look-alike account, and names stay safe in URLs, cookies and folder names.
 */
const MAX_NAME_LENGTH = 64;
// Letters and digits of any script, with . _ - inside; must start with a letter or digit.
const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u;

/**
 * Names no new account may take: a student called `admin` or `root` looks like someone in charge,
 * and `/user/api/` or `/user/login/` look like the hub's own pages. `teacher` is not here: it is
 * the first admin's default name. Windows device names (`con`, `nul`…) are allowed: their folders
 * are named safely (servers/student-folders.ts). Accounts that already have such a name keep logging
 * in; only creating (or renaming to) one is refused.
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  // people in charge, and system accounts
  'admin',
  'administrator',
  'root',
  'superuser',
  'sudo',
  'system',
  'daemon',
  'nobody',
  'guest',
  'anonymous',
  'everyone',
  // the hub's paths
  'hub',
  'api',
  'user',
  'users',
  'services',
  'login',
  'logout',
  'static',
  // the software itself
  'jupyter',
  'jupyterhub',
  'lectern',
]);

export function normalizeUsername(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}

/**
 * Why `name` is not well formed as a `what` (a username, a group name), or null. Group names share
 * the rules: they appear in the same URLs and scopes (`/hub/api/groups/<name>`, `!group=<name>`).
 */
export function nameShapeProblem(name: string, what: 'username' | 'group name'): string | null {
  const article = what === 'username' ? 'A username' : 'A group name';
  if (name.length === 0) return `${article} cannot be empty.`;
  if (name.length > MAX_NAME_LENGTH) return `${article} can be at most ${MAX_NAME_LENGTH} characters long.`;
  if (!NAME_PATTERN.test(name)) {
    return `${article} may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit.`;
  }
  return null;
}

/** Why `name` (already normalised) cannot be a new username, or null. */
export function usernameProblem(name: string): string | null {
  const problem = nameShapeProblem(name, 'username');
  if (problem) return problem;
  if (RESERVED_NAMES.has(name)) {
    return `The username "${name}" is reserved: it could be mistaken for the hub itself or for someone in charge of it. Choose another.`;
  }
  return null;
}
