/**
 * The running hub's settings: the configuration it runs with, the one it will start with next time
 * (the config file with every change made on the settings page), and those changes, kept in the data
 * dir so they survive restarts and win over the config file.
 *
 * A change is all or nothing, on disk before it is reported applied, and then takes effect: a live
 * setting is written into the running configuration (the object behind `ctx.config`, so every reader
 * sees it at its next use) and the parts that hold a copy are told (`onChange`); a setting read once
 * at start waits for a restart, and is listed as pending until then.
 */
import {
  applyOverrides,
  editableSetting,
  previewImport,
  setValueAt,
  settingModels,
  valueAt,
  withChanges,
  type ImportPreview,
  type SettingModel,
  type SettingProblem,
} from '../config/settings.js';
import type { LecternConfig } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Database } from '../store/database.js';
import type { SettingsRepository } from '../store/settings.js';

/** A change refused as a whole, with what is wrong per key. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(readonly problems: SettingProblem[]) {
    super(
      `Nothing was changed: ${problems.map((problem) => (problem.key === '' ? problem.message : `${problem.key} ${problem.message}`)).join('; ')}.`,
    );
  }
}

export interface ChangeResult {
  /** Keys in effect now. */
  applied: string[];
  /** Keys saved that take effect when the hub restarts. */
  needsRestart: string[];
}

type Listener = () => void | Promise<void>;

export class LiveSettings {
  private readonly listeners: { keys: readonly string[]; listener: Listener }[] = [];

  private constructor(
    /** What the hub runs with. Live changes are written into this very object. */
    readonly running: LecternConfig,
    /** What the hub will start with next time. Replaced on each change, never changed in place. */
    private next: LecternConfig,
    /** The changes made on the settings page, by dotted key, as stored. */
    private overrides: Record<string, unknown>,
    private readonly store: SettingsRepository,
    private readonly db: Database,
  ) {}

  /**
   * Applies the stored changes over `config` (the config file and command line). A stored change that
   * no longer validates is dropped, with a warning saying the config file's value applies instead.
   */
  static async open(config: LecternConfig, deps: { store: SettingsRepository; db: Database; log: Logger }): Promise<LiveSettings> {
    const { store } = deps;
    const { config: effective, kept, dropped } = applyOverrides(config, store.configOverrides());
    for (const { key, message } of dropped) {
      deps.log.warn(`the setting ${key} changed on the settings page is dropped, as it ${message}: the config file's value applies`);
    }
    if (dropped.length > 0) {
      store.setConfigOverrides(kept);
      await deps.db.commit();
    }
    // The hub's own copy to change in place, never the caller's object.
    return new LiveSettings(structuredClone(effective), effective, kept, store, deps.db);
  }

  /** The effective configuration: the config file with every change from the settings page. */
  effective(): LecternConfig {
    return this.next;
  }

  list(): { settings: SettingModel[]; pendingRestart: string[] } {
    return { settings: settingModels(this.next), pendingRestart: this.pendingRestart() };
  }

  /** Settings saved with a value the hub does not run with yet. */
  pendingRestart(): string[] {
    return settingModels(this.next)
      .filter((setting) => setting.restartRequired && !sameValue(setting.value, valueAt(this.running, setting.key)))
      .map((setting) => setting.key);
  }

  /** Calls `listener` after a change to any of `keys` took effect. */
  onChange(keys: readonly string[], listener: Listener): void {
    this.listeners.push({ keys, listener });
  }

  /**
   * Validates `changes` (dotted key → value) against the whole configuration, saves them, and applies
   * the live ones. Throws `SettingsError`, changing nothing, if any value is wrong.
   */
  async change(changes: Readonly<Record<string, unknown>>): Promise<ChangeResult> {
    const result = withChanges(this.next, changes);
    if (!result.ok) throw new SettingsError(result.problems);
    const keys = Object.keys(changes);
    // The schema's normalised values are what is stored and applied (a base URL gains its "/").
    this.next = result.config;
    this.overrides = { ...this.overrides, ...Object.fromEntries(keys.map((key) => [key, valueAt(result.config, key)])) };
    this.store.setConfigOverrides(this.overrides);
    await this.db.commit();

    const applied: string[] = [];
    const needsRestart: string[] = [];
    for (const key of keys) {
      const value = valueAt(this.next, key);
      if (!editableSetting(key)?.restartRequired) {
        setValueAt(this.running, key, value);
        applied.push(key);
      } else if (sameValue(value, valueAt(this.running, key))) {
        applied.push(key); // back to the value the hub runs with
      } else {
        needsRestart.push(key);
      }
    }
    for (const { keys: watched, listener } of this.listeners) {
      if (watched.some((key) => applied.includes(key))) await listener();
    }
    return { applied, needsRestart };
  }

  /** What importing a Lectern config file would change. */
  previewImport(text: string): ImportPreview {
    return previewImport(this.next, text);
  }

  /** Imports a Lectern config file's editable settings, as `change()` does; throws `SettingsError` if the file is wrong. */
  import(text: string): Promise<ChangeResult> {
    const preview = this.previewImport(text);
    if (preview.problems.length > 0) throw new SettingsError(preview.problems);
    return this.change(Object.fromEntries(preview.changes.map((change) => [change.key, change.to])));
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
