/**
 * Importing a roster: all of it or none of it. A class half-imported is worse than none (the
 * teacher cannot tell which cards to print, and importing again trips over the accounts already
 * made), so every row is checked first, and the accounts, groups and memberships are written in
 * one transaction. The same code serves the REST API and `lectern users import` without a hub.
 */
import type { Database } from '../store/database.js';
import type { GroupRepository } from '../store/groups.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import { generatePassword, type PasswordHasher } from './passwords.js';
import { parseRoster, previewRoster, RosterError, type ParsedRoster, type RosterEntry, type RosterPreview, type RosterReading } from './roster.js';

export interface RosterImportDeps {
  db: Database;
  users: UserRepository;
  groups: GroupRepository;
  hasher: PasswordHasher;
  minPasswordLength: number;
}

export interface ImportedAccount {
  user: UserRecord;
  group: string | null;
  /** The password in clear, for the one answer that shows it and for the login cards. */
  password: string;
  generated: boolean;
}

/** The roster changed meaning while its passwords were hashed: another request took some names. */
export class RosterRejectedError extends Error {
  override readonly name = 'RosterRejectedError';
  constructor(readonly preview: RosterPreview) {
    super(rejectionMessage(preview));
  }
}

/** "3 rows need fixing…": what to tell the teacher about a roster with bad rows. */
function rejectionMessage(preview: RosterPreview): string {
  const rows = preview.invalid === 1 ? '1 row needs' : `${preview.invalid} rows need`;
  return `Nothing was imported: ${rows} fixing first (see each row's problems).`;
}

/** A roster read and checked; the constructor throws RosterError for text that cannot be read. */
export class RosterImport {
  readonly preview: RosterPreview;
  private readonly roster: ParsedRoster;

  constructor(
    private readonly deps: RosterImportDeps,
    text: string,
    reading: RosterReading = {},
  ) {
    this.roster = parseRoster(text, reading);
    this.preview = this.check();
  }

  /** Why `run()` would refuse this roster before doing anything, or null when it can go ahead. */
  refusal(): RosterError | RosterRejectedError | null {
    if (this.preview.rows.length === 0) return new RosterError('The roster has no names. Paste one name per line, or choose a CSV file.');
    if (this.preview.invalid === 0 && this.preview.valid === 0) return new RosterError('Everyone on the list already has an account: there is nobody to import.');
    return this.preview.invalid > 0 ? new RosterRejectedError(this.preview) : null;
  }

  /**
   * Hashes the passwords (generating the missing ones) off the event loop, reporting each one
   * done, then creates everything in one transaction and waits until it is on disk.
   */
  async run(onProgress: (done: number, total: number) => void = () => {}): Promise<ImportedAccount[]> {
    const refusal = this.refusal();
    if (refusal) throw refusal;
    const toImport = this.roster.entries.filter((_, index) => !this.preview.rows[index]?.existing);
    let done = 0;
    const prepared = new Map(
      await Promise.all(
        toImport.map(async (entry) => {
          const given = entry.cells.password ?? null;
          const password = given ?? generatePassword(this.deps.minPasswordLength);
          const passwordHash = await this.deps.hasher.hash(password);
          onProgress(++done, toImport.length);
          return [entry, { password, passwordHash, generated: given === null }] as const;
        }),
      ),
    );
    // Hashing takes seconds: another import or a sign-up may have taken a name meanwhile (a
    // made-up name then moves on to the next number), or deleted an account the list left out.
    const again = this.check();
    if (again.invalid > 0) throw new RosterRejectedError(again);
    if (again.rows.some((row, index) => !row.existing && !prepared.has(this.roster.entries[index] as RosterEntry))) {
      throw new RosterError('Accounts were deleted while the list was imported. Nothing was imported: check the list again.');
    }
    const { db, users, groups } = this.deps;
    const accounts = db.transaction(() =>
      again.rows.flatMap((row, index) => {
        const hashed = prepared.get(this.roster.entries[index] as RosterEntry);
        if (row.existing || !hashed) return [];
        const { password, passwordHash, generated } = hashed;
        const user = users.create({ name: row.name, admin: false, passwordHash, displayName: row.displayName });
        if (row.group !== null) {
          const group = groups.find(row.group) ?? groups.create(row.group);
          groups.addMember(group.id, user.id);
        }
        return [{ user, group: row.group, password, generated }];
      }),
    );
    await db.commit();
    return accounts;
  }

  private check(): RosterPreview {
    return previewRoster(this.roster, {
      existingAccount: (name) => this.deps.users.find(name),
      minPasswordLength: this.deps.minPasswordLength,
    });
  }
}
