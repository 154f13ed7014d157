/** Groups (a teacher's classes) and their members. */
import type { Database } from './database.js';

export interface GroupRecord {
  id: number;
  name: string;
  properties: Record<string, unknown>;
}

interface GroupRow {
  id: number;
  name: string;
  properties: string;
}

const toGroup = (row: GroupRow): GroupRecord => ({
  id: row.id,
  name: row.name,
  properties: JSON.parse(row.properties) as Record<string, unknown>,
});

export class GroupRepository {
  /**
   * Group names by user id, loaded in one query and dropped by every membership change made here.
   * Models and scope checks ask for a user's groups on almost every request (a list of 100 users
   * asks 100 times). Deleting a user cascades their memberships away without passing here; their
   * stale entry is harmless, as ids are never reused.
   */
  private memberships: Map<number, string[]> | undefined;

  constructor(private readonly db: Database) {}

  find(name: string): GroupRecord | undefined {
    const row = this.db.get<GroupRow>('SELECT * FROM groups WHERE name = ?', [name]);
    return row && toGroup(row);
  }

  /** Groups in creation order, as JupyterHub lists them. */
  list(offset = 0, limit = -1): GroupRecord[] {
    return this.db.all<GroupRow>('SELECT * FROM groups ORDER BY id LIMIT ? OFFSET ?', [limit, offset]).map(toGroup);
  }

  count(): number {
    return this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM groups')?.n ?? 0;
  }

  create(name: string): GroupRecord {
    this.memberships = undefined;
    const { lastInsertRowid } = this.db.run('INSERT INTO groups (name) VALUES (?)', [name]);
    return { id: lastInsertRowid, name, properties: {} };
  }

  delete(id: number): void {
    this.memberships = undefined;
    this.db.run('DELETE FROM groups WHERE id = ?', [id]);
  }

  setProperties(id: number, properties: Record<string, unknown>): void {
    this.db.run('UPDATE groups SET properties = ? WHERE id = ?', [JSON.stringify(properties), id]);
  }

  /** Member names, in the order they joined. */
  members(groupId: number): string[] {
    return this.db
      .all<{ name: string }>(
        'SELECT u.name FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY m.rowid',
        [groupId],
      )
      .map((row) => row.name);
  }

  /** Names of the groups a user belongs to, in creation order. */
  groupsOf(userId: number): string[] {
    if (!this.memberships) {
      this.memberships = new Map();
      const rows = this.db.all<{ user_id: number; name: string }>(
        'SELECT m.user_id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id ORDER BY g.id',
      );
      for (const row of rows) {
        const groups = this.memberships.get(row.user_id);
        if (groups) groups.push(row.name);
        else this.memberships.set(row.user_id, [row.name]);
      }
    }
    return [...(this.memberships.get(userId) ?? [])];
  }

  addMember(groupId: number, userId: number): void {
    this.memberships = undefined;
    this.db.run('INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)', [groupId, userId]);
  }

  removeMember(groupId: number, userId: number): void {
    this.memberships = undefined;
    this.db.run('DELETE FROM group_members WHERE group_id = ? AND user_id = ?', [groupId, userId]);
  }

  /** Replaces a user's memberships with exactly `groupIds`. */
  setGroupsOf(userId: number, groupIds: readonly number[]): void {
    this.memberships = undefined;
    this.db.run('DELETE FROM group_members WHERE user_id = ?', [userId]);
    for (const groupId of groupIds) this.addMember(groupId, userId);
  }
}
