/**
 * Usernames: one spelling per person. `Ann`, `ann ` and the full-width `ａｎｎ` are all `ann`, so a
 * student cannot create a look-alike account, and names stay safe in URLs, cookies and folder names.
 */
const MAX_NAME_LENGTH = 64;
// Letters and digits of any script, with . _ - inside; must start with a letter or digit.
const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u;

export function normalizeUsername(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}

/** Why `name` (already normalised) cannot be a username, or null. */
export function usernameProblem(name: string): string | null {
  if (name.length === 0) return 'A username cannot be empty.';
  if (name.length > MAX_NAME_LENGTH) return `A username can be at most ${MAX_NAME_LENGTH} characters long.`;
  if (!NAME_PATTERN.test(name)) {
    return 'A username may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit.';
  }
  return null;
}
