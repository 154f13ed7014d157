/**
 * Settings the teacher changes while the hub runs (the class join code, the changes made on the
 * settings page), kept as JSON by name.
 */
import type { Database } from './database.js';

/** The settings page's changes: dotted config keys to values, applied over the config file at every start. */
const CONFIG_OVERRIDES = 'configOverrides';

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
}
