/**
 * Handouts (files the teacher hands out), each student's copy of one, and the snapshots of that
 * copy taken back (handed in by the student, or collected by the teacher).
 */
import type { Database } from './database.js';

export type LateHandIns = 'mark' | 'refuse';

export interface HandoutRecord {
  id: number;
  /** Also the name of the folder each student gets it in. */
  name: string;
  /** The class (group) it is for; null: everyone. */
  className: string | null;
  /** The version handed out (1, 2…); 0 until it is handed out. */
  version: number;
  availableAt: string | null;
  dueAt: string | null;
  late: LateHandIns;
  created: string;
  /** When the collection at the due time was taken; null until then. */
  collectedAt: string | null;
}

/** What one student was given: where it is in their folder, and each file's sha256 as delivered. */
export interface HandoutCopy {
  folder: string;
  version: number;
  files: Record<string, string>;
  deliveredAt: string | null;
  /** Why the last delivery did not happen; null when it did. */
  problem: string | null;
  /** Whether a delivery found a file the student had changed or deleted. */
  studentChanged: boolean;
  /** When the student first opened a file of it through their server; null until then. */
  openedAt: string | null;
}

export type HandinKind = 'handed-in' | 'collected';

export interface HandinRecord {
  id: number;
  handoutId: number;
  userId: number;
  kind: HandinKind;
  at: string;
  late: boolean;
  /** Its folder, relative to the data dir's `collections/`. */
  folder: string;
  files: number;
  bytes: number;
}

interface HandoutRow {
  id: number;
  name: string;
  class: string | null;
  version: number;
  available_at: string | null;
  due_at: string | null;
  late: LateHandIns;
  created: string;
  collected_at: string | null;
}

interface CopyRow {
  folder: string;
  version: number;
  files: string;
  delivered_at: string | null;
  problem: string | null;
  student_changed: number;
  opened_at: string | null;
}

interface HandinRow {
  id: number;
  handout_id: number;
  user_id: number;
  kind: HandinKind;
  at: string;
  late: number;
  folder: string;
  files: number;
  bytes: number;
}

const toHandout = (row: HandoutRow): HandoutRecord => ({
  id: row.id,
  name: row.name,
  className: row.class,
  version: row.version,
  availableAt: row.available_at,
  dueAt: row.due_at,
  late: row.late,
  created: row.created,
  collectedAt: row.collected_at,
});

const toCopy = (row: CopyRow): HandoutCopy => ({
  folder: row.folder,
  version: row.version,
  files: JSON.parse(row.files) as Record<string, string>,
  deliveredAt: row.delivered_at,
  problem: row.problem,
  studentChanged: row.student_changed === 1,
  openedAt: row.opened_at,
});

const toHandin = (row: HandinRow): HandinRecord => ({
  id: row.id,
  handoutId: row.handout_id,
  userId: row.user_id,
  kind: row.kind,
  at: row.at,
  late: row.late === 1,
  folder: row.folder,
  files: row.files,
  bytes: row.bytes,
});

export type HandoutSettings = Pick<HandoutRecord, 'className' | 'availableAt' | 'dueAt' | 'late'>;

export class HandoutRepository {
  constructor(private readonly db: Database) {}

  list(): HandoutRecord[] {
    return this.db.all<HandoutRow>('SELECT * FROM handouts ORDER BY id').map(toHandout);
  }

  find(id: number): HandoutRecord | undefined {
    const row = this.db.get<HandoutRow>('SELECT * FROM handouts WHERE id = ?', [id]);
    return row && toHandout(row);
  }

  findByName(name: string): HandoutRecord | undefined {
    const row = this.db.get<HandoutRow>('SELECT * FROM handouts WHERE name = ?', [name]);
    return row && toHandout(row);
  }

  create(name: string, settings: HandoutSettings): HandoutRecord {
    const created = new Date().toISOString();
    const { lastInsertRowid } = this.db.run(
      'INSERT INTO handouts (name, class, available_at, due_at, late, created) VALUES (?, ?, ?, ?, ?, ?)',
      [name, settings.className, settings.availableAt, settings.dueAt, settings.late, created],
    );
    return this.find(lastInsertRowid) as HandoutRecord;
  }

  /** A new due time makes it due for collection again. */
  update(id: number, settings: HandoutSettings): void {
    this.db.run(
      `UPDATE handouts SET class = ?, available_at = ?, late = ?,
         collected_at = CASE WHEN due_at IS ? THEN collected_at ELSE NULL END, due_at = ? WHERE id = ?`,
      [settings.className, settings.availableAt, settings.late, settings.dueAt, settings.dueAt, id],
    );
  }

  setVersion(id: number, version: number): void {
    this.db.run('UPDATE handouts SET version = ? WHERE id = ?', [version, id]);
  }

  setCollected(id: number, at: string): void {
    this.db.run('UPDATE handouts SET collected_at = ? WHERE id = ?', [at, id]);
  }

  delete(id: number): void {
    this.db.run('DELETE FROM handouts WHERE id = ?', [id]);
  }

  copy(handoutId: number, userId: number): HandoutCopy | undefined {
    const row = this.db.get<CopyRow>('SELECT * FROM handout_copies WHERE handout_id = ? AND user_id = ?', [handoutId, userId]);
    return row && toCopy(row);
  }

  /** Every student's copy of a handout, by user id. */
  copies(handoutId: number): Map<number, HandoutCopy> {
    const rows = this.db.all<CopyRow & { user_id: number }>('SELECT * FROM handout_copies WHERE handout_id = ?', [handoutId]);
    return new Map(rows.map((row) => [row.user_id, toCopy(row)]));
  }

  /** Saves a delivery's outcome; when the student first opened it is kept as it was. */
  saveCopy(handoutId: number, userId: number, copy: Omit<HandoutCopy, 'openedAt'>): void {
    this.db.run(
      `INSERT INTO handout_copies (handout_id, user_id, folder, version, files, delivered_at, problem, student_changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (handout_id, user_id) DO UPDATE SET folder = excluded.folder, version = excluded.version,
         files = excluded.files, delivered_at = excluded.delivered_at, problem = excluded.problem, student_changed = excluded.student_changed`,
      [handoutId, userId, copy.folder, copy.version, JSON.stringify(copy.files), copy.deliveredAt, copy.problem, copy.studentChanged ? 1 : 0],
    );
  }

  /** Records the first time the student opened a file of their copy; later opens change nothing. */
  markOpened(handoutId: number, userId: number, at: string): void {
    this.db.run('UPDATE handout_copies SET opened_at = ? WHERE handout_id = ? AND user_id = ? AND opened_at IS NULL', [at, handoutId, userId]);
  }

  /** The folders of a student's delivered copies they have not opened yet: folder -> handout id. */
  unopenedFolders(userId: number): Map<string, number> {
    const rows = this.db.all<{ handout_id: number; folder: string }>(
      'SELECT handout_id, folder FROM handout_copies WHERE user_id = ? AND version > 0 AND opened_at IS NULL',
      [userId],
    );
    return new Map(rows.map((row) => [row.folder, row.handout_id]));
  }

  addHandin(handin: Omit<HandinRecord, 'id'>): HandinRecord {
    const { lastInsertRowid } = this.db.run(
      'INSERT INTO handins (handout_id, user_id, kind, at, late, folder, files, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [handin.handoutId, handin.userId, handin.kind, handin.at, handin.late ? 1 : 0, handin.folder, handin.files, handin.bytes],
    );
    return { ...handin, id: lastInsertRowid };
  }

  /** A handout's snapshots, oldest first; only one student's when `userId` is given. */
  handins(handoutId: number, userId?: number): HandinRecord[] {
    const rows =
      userId === undefined
        ? this.db.all<HandinRow>('SELECT * FROM handins WHERE handout_id = ? ORDER BY at, id', [handoutId])
        : this.db.all<HandinRow>('SELECT * FROM handins WHERE handout_id = ? AND user_id = ? ORDER BY at, id', [handoutId, userId]);
    return rows.map(toHandin);
  }

  handin(id: number): HandinRecord | undefined {
    const row = this.db.get<HandinRow>('SELECT * FROM handins WHERE id = ?', [id]);
    return row && toHandin(row);
  }

  /** Every snapshot folder on record (relative to `collections/`). */
  handinFolders(): Set<string> {
    return new Set(this.db.all<{ folder: string }>('SELECT folder FROM handins').map((row) => row.folder));
  }
}
