/**
 * Settings the teacher changes while the hub runs (the class join code, the changes made on the
 * settings page, the message to the class), kept as JSON by name.
 */
import type { Database } from './database.js';

/** The settings page's changes: dotted config keys to values, applied over the config file at every start. */
const CONFIG_OVERRIDES = 'configOverrides';
const ANNOUNCEMENT = 'announcement';

/** The teacher's message to the class, shown on students' hub pages and the projector. */
export interface Announcement {
  message: string;
  /** Where "Open" leads: a page of this hub (`/hub/…`) or a web address; null for none. */
  link: string | null;
  /** When it was posted (ISO 8601). */
  posted: string;
}

export class SettingsRepository {
  constructor(private readonly db: Database) {}

  get<T>(name: string): T | undefined {
    const row = this.db.get<{ value: string }>('SELECT value FROM settings WHERE name = ?', [name]);
    return row && (JSON.parse(row.value) as T);
  }

  set(name: string, value: unknown): void {
    this.db.run('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value', [
      name,
      JSON.stringify(value),
    ]);
  }

  delete(name: string): void {
    this.db.run('DELETE FROM settings WHERE name = ?', [name]);
  }

  configOverrides(): Record<string, unknown> {
    return this.get<Record<string, unknown>>(CONFIG_OVERRIDES) ?? {};
  }

  setConfigOverrides(overrides: Record<string, unknown>): void {
    this.set(CONFIG_OVERRIDES, overrides);
  }

  announcement(): Announcement | null {
    return this.get<Announcement>(ANNOUNCEMENT) ?? null;
  }

  setAnnouncement(announcement: Announcement | null): void {
    if (announcement) this.set(ANNOUNCEMENT, announcement);
    else this.delete(ANNOUNCEMENT);
  }
}
