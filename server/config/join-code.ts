/**
 * What counts when a join or card code is compared: `k7p 2qx`, `K7P-2QX` and `K7P2QX` are the same
 * code, as a student on a phone may type any of them. Here, below auth/, because the config file's
 * `auth.joinCode` is read in this form too.
 */
export function normalizeJoinCode(typed: string): string {
  return typed.normalize('NFKC').toUpperCase().replace(/[\s-]+/g, '');
}
