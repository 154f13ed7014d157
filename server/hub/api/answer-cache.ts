/**
 * Answers of the API's hot reads (`GET /users`, `GET /users/{name}`), kept while nothing they are
 * made of changes, so that a dashboard or a script polling the class list is not answered by
 * building a hundred user models each time. An answer is made from the store and the servers' views,
 * and from the caller's scopes and the request, which make its key: the `revision` given moves on
 * with any change to the first two, and then every kept answer goes. The cache never decides who
 * may ask: the scope checks run before it, on every request.
 */

/** 4 Mi characters of JSON (4 to 8 MiB): a list of 200 users is about 45 k, one user about 0.3 k. */
const MAX_CHARS = 4 * 2 ** 20;

export class AnswerCache {
  private readonly answers = new Map<string, string>();
  private chars = 0;
  private keptAt: number | undefined;

  /** `revision` must change whenever anything an answer is made of may have. */
  constructor(private readonly revision: () => number) {}

  /** The answer kept for `key` at the current revision, or `make()`'s, kept. What `make` throws is not kept. */
  answer(key: string, make: () => string): string {
    const now = this.revision();
    if (now !== this.keptAt) this.forget(now);
    const kept = this.answers.get(key);
    if (kept !== undefined) return kept;
    const made = make();
    // Kept only if nothing changed while it was made, and within bounds (past them, start afresh).
    if (this.revision() === now) {
      if (this.chars + made.length > MAX_CHARS) this.forget(now);
      this.answers.set(key, made);
      this.chars += made.length;
    }
    return made;
  }

  private forget(revision: number): void {
    this.answers.clear();
    this.chars = 0;
    this.keptAt = revision;
  }
}

const scopeKeys = new WeakMap<ReadonlySet<string>, string>();

/**
 * A caller's scopes as part of a key: callers with the same scopes see the same answers. A service's
 * scopes and a user's own are shared sets, so their key is made once.
 */
export function scopesKey(scopes: ReadonlySet<string>): string {
  let key = scopeKeys.get(scopes);
  if (key === undefined) {
    key = [...scopes].join(' ');
    scopeKeys.set(scopes, key);
  }
  return key;
}
