/**
 * The settings a teacher changes from the GUI: which keys, how each takes effect, and how a change
 * is checked. A change is checked by the same schema as the config file (merged into the current
 * configuration and parsed whole), so the GUI can never set what a config file could not.
 *
 * GUI changes are stored in the data dir as overrides (`{ "culler.idleTimeout": 1800 }`) and applied
 * over the config file at every start (`applyOverrides`). Labels are here; descriptions, types and
 * bounds come from the schema's `.describe()` and JSON Schema.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { allowedKeys, describeAllowed, schemaNodeAt, type SchemaNode } from './reference.js';
import { configSchema, type LecternConfig } from './schema.js';

export interface EditableSetting {
  /** Dotted path in the config (`culler.idleTimeout`). */
  key: string;
  /** A few words for the settings page. */
  label: string;
  /** What the setting does, in a teacher's words (the config file's own help is for its readers). */
  help: string;
  /** True when the value is read once at start: a change is saved and waits for a restart. */
  restartRequired: boolean;
  /** An enum's choices in a teacher's words, by value. */
  choices?: Readonly<Record<string, string>>;
  /** A number shown in `unit`, each one `factor` of the stored value (seconds shown as minutes). */
  display?: { unit: string; factor: number };
}

/**
 * The keys the GUI may change, in the order the settings page shows them. Live settings are read
 * where they are used (`ctx.config`, which the hub updates in place), or the hub reconfigures the
 * part that holds them (`LiveSettings.onChange` in server/index.ts).
 */
export const EDITABLE_SETTINGS: readonly EditableSetting[] = [
  // Chooses the authenticator and whether a join code exists, both built once at start.
  {
    key: 'auth.loginMode',
    label: 'How students get in',
    help: 'Students get accounts you make (from a class list, with login cards), sign up themselves with the class code, or you list their names and the first password each types becomes theirs.',
    restartRequired: true,
    choices: {
      accounts: 'With accounts you make',
      'join-code': 'They sign up with the class code',
      'first-use': 'You list the names; their first password becomes theirs',
    },
  },
  // Read by the join page at each sign-up.
  {
    key: 'auth.joinApproval',
    label: 'Approve new sign-ups',
    help: 'Students who sign up with the class code wait until you let them in on the Users screen.',
    restartRequired: false,
  },
  // Read at each password change, account creation and first-use login.
  {
    key: 'auth.minPasswordLength',
    label: 'Shortest password',
    help: 'Shorter passwords are refused when someone chooses one.',
    restartRequired: false,
    display: { unit: 'characters', factor: 1 },
  },
  // The hub restarts its culler with the new values.
  {
    key: 'culler.enabled',
    label: 'Stop idle servers',
    help: 'A student’s server nobody has used for a while is stopped, to free this computer for the others. Code still running is never stopped, and saved work stays.',
    restartRequired: false,
  },
  {
    key: 'culler.idleTimeout',
    label: 'Stop a server unused for',
    help: 'How long a server may go unused before it is stopped.',
    restartRequired: false,
    display: { unit: 'minutes', factor: 60 },
  },
  // The start queue takes its new limit at once (waiting starts may go ahead).
  {
    key: 'spawner.concurrentSpawnLimit',
    label: 'Servers starting at once',
    help: 'Starting is the heavy part of a server’s life. The others wait their turn and see their place in line; a laptop starts a few at a time well.',
    restartRequired: false,
  },
  // Both read at each start.
  {
    key: 'spawner.activeServerLimit',
    label: 'Most servers running at once',
    help: '0 means no limit. Past it, a student is told the class is full.',
    restartRequired: false,
  },
  {
    key: 'spawner.minFreeMemoryMb',
    label: 'Free memory a server needs to start',
    help: '0 turns the check off. A server does not start when this computer has less memory free, so a full class does not slow it to a crawl.',
    restartRequired: false,
    display: { unit: 'MB', factor: 1 },
  },
  // Read at each usage sample (every few seconds).
  {
    key: 'spawner.memoryLimitMb',
    label: 'Most memory per student',
    help: '0 means no limit. Past it, the student’s largest notebook is stopped and they are told why, so one runaway notebook cannot take this computer down.',
    restartRequired: false,
    display: { unit: 'MB', factor: 1 },
  },
  // Read at each server's start.
  {
    key: 'spawner.courseData',
    label: 'Course data folder',
    help: 'A folder of datasets and materials for the whole class: every student sees it, read-only, as “course-data” in their own folder, from their server’s next start. Leave it empty for none.',
    restartRequired: false,
  },
  // Whether a sandbox works here is found once, when the hub starts.
  {
    key: 'spawner.isolation',
    label: 'Keep students apart',
    help: 'In a sandbox, a student’s notebooks see only their own folder: not their classmates’ work, not yours.',
    restartRequired: true,
    choices: {
      auto: 'Yes, where this computer can (recommended)',
      sandbox: 'Always: no server starts without a sandbox',
      off: 'No: students could read each other’s files',
    },
  },
  // How servers launch is found once, when the hub starts.
  {
    key: 'spawner.python',
    label: 'Python for students’ servers',
    help: 'Leave it empty and Lectern uses the best Python it finds (listed under “Python for students’ servers”), or type the folder of a Python environment.',
    restartRequired: true,
  },
  {
    key: 'spawner.launchMode',
    label: 'Jupyter students get',
    help: 'Which Jupyter each student’s server runs.',
    restartRequired: true,
    choices: {
      auto: 'The best that Python has (recommended)',
      singleuser: 'JupyterHub’s single-user server',
      lab: 'JupyterLab',
      notebook: 'Jupyter Notebook',
      server: 'Jupyter Server',
    },
  },
  // The public listener is bound once.
  {
    key: 'network.port',
    label: 'Port',
    help: 'The number after the address students type. 0 picks a free one each time Lectern starts (the address then changes).',
    restartRequired: true,
  },
  {
    key: 'network.ip',
    label: 'Who can reach Lectern',
    help: '0.0.0.0: every device on this computer’s networks (for a class). 127.0.0.1: this computer only.',
    restartRequired: true,
  },
];

const BY_KEY: ReadonlyMap<string, EditableSetting> = new Map(EDITABLE_SETTINGS.map((setting) => [setting.key, setting]));

export function editableSetting(key: string): EditableSetting | undefined {
  return BY_KEY.get(key);
}

export type SettingType = 'boolean' | 'integer' | 'number' | 'string' | 'enum';

/** One setting as the settings page shows it. */
export interface SettingModel {
  key: string;
  label: string;
  description: string;
  value: unknown;
  type: SettingType;
  /** The choices of an `enum`. */
  options?: string[];
  min?: number;
  max?: number;
  /** Whether `null` is a value (for `spawner.python`: let Lectern choose). */
  nullable?: boolean;
  restartRequired: boolean;
  /** An enum's choices in a teacher's words, by value. */
  choices?: Record<string, string>;
  /** A number shown in `unit`, each one `factor` of the value (seconds shown as minutes). */
  display?: { unit: string; factor: number };
}

/** What is wrong with one key's new value (`key` is `''` for the file as a whole). */
export interface SettingProblem {
  key: string;
  message: string;
}

/** The settings page's rows, with the values `config` holds. */
export function settingModels(config: LecternConfig): SettingModel[] {
  return EDITABLE_SETTINGS.map(({ key, label, help, restartRequired, choices, display }) => {
    const node = schemaNodeAt(key.split('.')) ?? {};
    const branches = (node.anyOf ?? [node]) as SchemaNode[];
    const main = branches.find((branch) => branch.type !== 'null') ?? node;
    const model: SettingModel = {
      key,
      label,
      description: help,
      value: valueAt(config, key),
      type: main.enum ? 'enum' : (main.type as SettingType),
      restartRequired,
    };
    if (main.enum) model.options = main.enum.map(String);
    if (choices) model.choices = { ...choices };
    if (display) model.display = { ...display };
    // zod bounds every integer by the safe-integer range: not a limit to show.
    if (typeof main.minimum === 'number' && main.minimum > Number.MIN_SAFE_INTEGER) model.min = main.minimum;
    if (typeof main.maximum === 'number' && main.maximum < Number.MAX_SAFE_INTEGER) model.max = main.maximum;
    if (branches.some((branch) => branch.type === 'null')) model.nullable = true;
    return model;
  });
}

export function valueAt(config: LecternConfig, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], config);
}

/** Sets `key` in `config` itself: how the running hub takes a live setting. */
export function setValueAt(config: LecternConfig, key: string, value: unknown): void {
  const parts = key.split('.');
  const parent = parts.slice(0, -1).reduce<Record<string, unknown>>((node, part) => node[part] as Record<string, unknown>, config);
  parent[parts.at(-1) as string] = value;
}

/**
 * `config` with `changes` applied, validated as a whole; or what is wrong, per key. Only editable
 * keys may change. All or nothing: one bad value rejects every change.
 */
export function withChanges(
  config: LecternConfig,
  changes: Readonly<Record<string, unknown>>,
): { ok: true; config: LecternConfig } | { ok: false; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const merged = structuredClone(config);
  for (const [key, value] of Object.entries(changes)) {
    if (!BY_KEY.has(key)) {
      problems.push({ key, message: 'is not a setting the settings page can change: set it in the config file' });
    } else if (key === 'spawner.courseData' && typeof value === 'string' && !isFolder(value)) {
      // Checked now, not when every student's server fails to start over it.
      problems.push({ key, message: 'must be the full path of a folder on this computer' });
    } else {
      setValueAt(merged, key, value);
    }
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap(issueProblems));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: parsed.data as LecternConfig };
}

function isFolder(folder: string): boolean {
  return path.isAbsolute(folder) && (statSync(folder, { throwIfNoEntry: false })?.isDirectory() ?? false);
}

/** One zod issue as problems with keys, in the words the config loader uses ("must be …"). */
function issueProblems(issue: z.core.$ZodIssue): SettingProblem[] {
  const key = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schemaNodeAt(issue.path)).join(', ');
    return issue.keys.map((unknown) => ({ key: [...issue.path, unknown].join('.'), message: `is not a Lectern setting (allowed here: ${allowed})` }));
  }
  if (issue.code === 'custom') return [{ key, message: issue.message }];
  return [{ key, message: `must be ${describeAllowed(schemaNodeAt(issue.path))}` }];
}

/**
 * The configuration a hub runs with: `config` (from the config file and command line) with the
 * stored GUI overrides applied, one at a time so one that no longer validates (the schema changed, or
 * a key stopped being editable) is dropped without taking the others with it.
 */
export function applyOverrides(
  config: LecternConfig,
  overrides: Readonly<Record<string, unknown>>,
): { config: LecternConfig; kept: Record<string, unknown>; dropped: SettingProblem[] } {
  let current = config;
  const kept: Record<string, unknown> = {};
  const dropped: SettingProblem[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const result = withChanges(current, { [key]: value });
    if (result.ok) {
      current = result.config;
      kept[key] = value;
    } else {
      dropped.push({ key, message: result.problems.map((problem) => problem.message).join('; ') });
    }
  }
  return { config: current, kept, dropped };
}

// ---- Import --------------------------------------------------------------------------------------

export interface SettingChange {
  key: string;
  from: unknown;
  to: unknown;
  restartRequired: boolean;
}

export interface ImportPreview {
  /** The editable settings the file would change. */
  changes: SettingChange[];
  /** Why the file cannot be imported; empty when it can. */
  problems: SettingProblem[];
  /**
   * Keys the file sets that the settings page does not: importing leaves them alone, and they apply
   * only where the file is the config file Lectern starts with.
   */
  configFileOnly: SettingProblem[];
}

const CONFIG_FILE_ONLY = 'applies at next start from the config file, when Lectern starts with this file: importing does not change it';

/**
 * What importing a Lectern config file (YAML or JSON text) over `config` would do. The file is
 * validated whole, as Lectern would validate it at start; its editable settings that differ from
 * `config` become changes, and every other key it sets is listed, never silently ignored.
 */
export function previewImport(config: LecternConfig, text: string): ImportPreview {
  const preview: ImportPreview = { changes: [], problems: [], configFileOnly: [] };
  const document = YAML.parseDocument(text.replace(/^\uFEFF/, ''));
  const [syntax] = document.errors;
  if (syntax) {
    const position = syntax.linePos?.[0];
    const where = position ? ` at line ${position.line}, column ${position.col}` : '';
    preview.problems.push({ key: '', message: `is not valid YAML${where}: ${syntax.message.split('\n')[0] ?? syntax.message}` });
    return preview;
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    preview.problems.push({ key: '', message: `cannot be read: ${(error as Error).message}` });
    return preview;
  }
  data ??= {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    preview.problems.push({ key: '', message: 'must be a mapping of settings, as a Lectern config file is' });
    return preview;
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    preview.problems.push(...parsed.error.issues.flatMap(issueProblems));
    return preview;
  }
  for (const key of setKeys(data as Record<string, unknown>, [])) {
    const setting = BY_KEY.get(key);
    if (!setting) {
      preview.configFileOnly.push({ key, message: CONFIG_FILE_ONLY });
      continue;
    }
    const from = valueAt(config, key);
    const to = valueAt(parsed.data, key);
    if (JSON.stringify(from) !== JSON.stringify(to)) preview.changes.push({ key, from, to, restartRequired: setting.restartRequired });
  }
  return preview;
}

/**
 * The dotted keys a file sets: down to editable settings, and into mappings the schema describes
 * key by key; a list or free-form mapping (`spawner.environment`) is one key.
 */
function setKeys(data: Record<string, unknown>, path: string[]): string[] {
  return Object.entries(data).flatMap(([name, value]) => {
    const keyPath = [...path, name];
    const key = keyPath.join('.');
    if (BY_KEY.has(key)) return [key];
    const node = schemaNodeAt(keyPath);
    const described = node?.properties !== undefined && Object.keys(node.properties).length > 0;
    if (described && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return setKeys(value as Record<string, unknown>, keyPath);
    }
    return [key];
  });
}
