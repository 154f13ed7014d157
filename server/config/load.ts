/**
 * Loading the configuration: file, environment and command line merged, validated by `configSchema`,
 * and any problem turned into one readable `ConfigError` that names where the bad value came from.
 *
 * Precedence, lowest first: schema defaults, the config file, environment variables, CLI overrides.
 * What the user provided is returned apart from the resolved config, as code-server keeps `args` apart
 * from the defaulted options, so callers can tell "set to 8000" from "left at the default 8000".
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { configSchema, type LecternConfig } from './schema.js';
import { allowedKeys, configJsonSchema, describeAllowed, schemaNodeAt, type SchemaNode } from './reference.js';

/** A configuration problem. `message` is one sentence fit to show a teacher as is. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Settings from the command line, shaped like the config file (`{ network: { port: 8080 } }`), every
 * key optional. Strings where the schema wants a number or boolean ("8080", "true") are converted,
 * because argument parsers hand over strings; anything else is reported against the option.
 */
export type ConfigOverrides = { readonly [key: string]: unknown };

export interface LoadConfigOptions {
  /** Config file (YAML or JSON). Default: `$LECTERN_CONFIG`, else no file. */
  file?: string;
  overrides?: ConfigOverrides;
  env?: NodeJS.ProcessEnv;
  /**
   * The CLI's option names by dotted key path (`{ 'network.port': '--port' }`), for error messages.
   * Keys not listed are named after their last segment: `spawner.startTimeout` → `--start-timeout`.
   */
  optionNames?: Readonly<Record<string, string>>;
}

export interface LoadedConfig {
  config: LecternConfig;
  /** File, environment and CLI values merged, before defaults: only what the user actually set. */
  userProvided: Record<string, unknown>;
  /** Absolute path of the config file read, if any. */
  file?: string;
}

type KeyPath = readonly PropertyKey[];
type PlainObject = Record<string, unknown>;

/** Keys holding file or folder paths: relative values are resolved against where they were written. */
const PATH_KEYS: readonly KeyPath[] = [
  ['dataDir'],
  ['network', 'tls', 'cert'],
  ['network', 'tls', 'key'],
  ['spawner', 'notebookRoot'],
  ['spawner', 'courseData'],
];

/** Keys whose values never appear in logs or error messages: API tokens, and the class join code. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['apiToken', 'joinCode']);

/** More than this many problems at once is noise; the rest are counted. */
const MAX_PROBLEMS = 3;

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const fromEnv = options.file === undefined && !!env.LECTERN_CONFIG;
  const file = options.file ?? (env.LECTERN_CONFIG || undefined);
  const filePath = file === undefined ? undefined : path.resolve(file);

  const fileLayer = filePath === undefined ? {} : await readConfigFile(filePath, fromEnv);
  if (filePath !== undefined) resolvePaths(fileLayer, path.dirname(filePath));

  const { layer: envLayer, variables } = environmentLayer(env);
  resolvePaths(envLayer, process.cwd());

  const cliLayer = coerceStrings(options.overrides ?? {}, []) as PlainObject;
  resolvePaths(cliLayer, process.cwd());

  const userProvided = deepMerge(deepMerge(fileLayer, envLayer), cliLayer);
  const result = configSchema.safeParse(userProvided);
  if (!result.success) {
    const sources: Sources = { filePath, fileLayer, envLayer, variables, cliLayer, optionNames: options.optionNames ?? {} };
    throw new ConfigError(describeIssues(result.error.issues, userProvided, sources));
  }
  return { config: result.data, userProvided, ...(filePath === undefined ? {} : { file: filePath }) };
}

/**
 * A copy of a configuration (resolved or user-provided) that is safe to log or show: every
 * `apiToken` and the join code are replaced by `"[secret]"`.
 */
export function redactConfig<T>(config: T): T {
  const redact = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(redact);
    if (!isPlainObject(value)) return value;
    const copy: PlainObject = {};
    for (const [key, inner] of Object.entries(value)) {
      setOwn(copy, key, SECRET_KEYS.has(key) && typeof inner === 'string' ? '[secret]' : redact(inner));
    }
    return copy;
  };
  return redact(config) as T;
}

async function readConfigFile(filePath: string, fromEnv: boolean): Promise<PlainObject> {
  const named = `Config file ${filePath}${fromEnv ? ' (from LECTERN_CONFIG)' : ''}`;
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ConfigError(`${named} not found.`);
    if (code === 'EISDIR') throw new ConfigError(`${named} is a folder, not a file.`);
    if (code === 'EACCES' || code === 'EPERM') throw new ConfigError(`${named} cannot be read: permission denied.`);
    throw new ConfigError(`${named} cannot be read (${code ?? String(error)}).`);
  }
  // JSON is read with the YAML parser too (YAML 1.2 is a superset), so both get the same line numbers.
  const syntax = path.extname(filePath).toLowerCase() === '.json' ? 'JSON' : 'YAML';
  const document = YAML.parseDocument(text.replace(/^\uFEFF/, ''));
  const [first] = document.errors;
  if (first) {
    const position = first.linePos?.[0];
    const where = position ? ` at line ${position.line}, column ${position.col}` : '';
    // The parser's message continues with "at line …:" and a source excerpt over several lines.
    const reason = (first.message.split('\n')[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
    throw new ConfigError(`Config file ${filePath}: ${syntax} syntax error${where}: ${reason}.`);
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    // Unresolvable aliases and alias bombs only surface when values are built.
    throw new ConfigError(`Config file ${filePath}: ${syntax} error: ${error instanceof Error ? error.message : String(error)}.`);
  }
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) {
    throw new ConfigError(`Config file ${filePath}: the top level must be a mapping of settings (got ${describeValue(data, [])}).`);
  }
  return data;
}

/** The settings environment variables provide, and which variable set which key. */
function environmentLayer(env: NodeJS.ProcessEnv): { layer: PlainObject; variables: Map<string, string> } {
  const layer: PlainObject = {};
  const variables = new Map<string, string>();
  for (const { variable, keyPath } of environmentBindings(configJsonSchema(), [])) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    setAt(layer, keyPath, coerceString(raw, schemaNodeAt(keyPath)));
    variables.set(formatPath(keyPath), variable);
  }
  return { layer, variables };
}

function environmentBindings(node: SchemaNode, keyPath: string[]): { variable: string; keyPath: string[] }[] {
  const found = typeof node.env === 'string' ? [{ variable: node.env, keyPath }] : [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (typeof child === 'object') found.push(...environmentBindings(child as SchemaNode, [...keyPath, key]));
  }
  return found;
}

/** A deep copy of `value` with numeric and boolean strings converted where the schema wants those types. */
function coerceStrings(value: unknown, keyPath: PropertyKey[]): unknown {
  if (typeof value === 'string') return coerceString(value, schemaNodeAt(keyPath));
  if (Array.isArray(value)) return value.map((item, index) => coerceStrings(item, [...keyPath, index]));
  if (!isPlainObject(value)) return value;
  const copy: PlainObject = {};
  for (const [key, inner] of Object.entries(value)) setOwn(copy, key, coerceStrings(inner, [...keyPath, key]));
  return copy;
}

function coerceString(value: string, node: SchemaNode | undefined): unknown {
  const types = schemaTypes(node);
  if ((types.has('integer') || types.has('number')) && /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(value)) {
    return Number(value);
  }
  if (types.has('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function schemaTypes(node: SchemaNode | undefined): Set<string> {
  if (!node) return new Set();
  const own = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
  const branches = (node.anyOf ?? []).flatMap((branch) => [...schemaTypes(branch as SchemaNode)]);
  return new Set<string>([...own, ...branches]);
}

function resolvePaths(layer: PlainObject, base: string): void {
  for (const keyPath of PATH_KEYS) {
    const { found, value } = valueAt(layer, keyPath);
    if (found && typeof value === 'string' && value !== '') setAt(layer, keyPath, path.resolve(base, value));
  }
}

// ---- Turning zod issues into one sentence --------------------------------------------------------

interface Sources {
  filePath: string | undefined;
  fileLayer: PlainObject;
  envLayer: PlainObject;
  variables: Map<string, string>;
  cliLayer: PlainObject;
  optionNames: Readonly<Record<string, string>>;
}

type SourceKind = 'cli' | 'env' | 'file' | 'default';
const SOURCE_ORDER: readonly SourceKind[] = ['cli', 'env', 'file', 'default'];

interface Problem {
  source: SourceKind;
  unknownKey: boolean;
  /** Shared by consecutive problems from one file, so it is written once. */
  prefix: string;
  text: string;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], input: PlainObject, sources: Sources): string {
  const problems = issues.flatMap((issue) => describeIssue(issue, input, sources));
  // The value the user just typed is the likeliest culprit, and a misspelt key explains the rest.
  problems.sort(
    (a, b) => SOURCE_ORDER.indexOf(a.source) - SOURCE_ORDER.indexOf(b.source) || Number(b.unknownKey) - Number(a.unknownKey),
  );
  let previousPrefix: string | undefined;
  const parts = problems.slice(0, MAX_PROBLEMS).map((problem) => {
    const part = problem.prefix === previousPrefix ? problem.text : problem.prefix + problem.text;
    previousPrefix = problem.prefix;
    return part;
  });
  const more = problems.length - MAX_PROBLEMS;
  if (more > 0) parts.push(`and ${more} more problem${more === 1 ? '' : 's'}`);
  return `${parts.join('; ')}.`;
}

function describeIssue(issue: z.core.$ZodIssue, input: PlainObject, sources: Sources): Problem[] {
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schemaNodeAt(issue.path)).join(', ');
    return issue.keys.map((key) => {
      const keyPath = [...issue.path, key];
      const text = `unknown key "${formatPath(keyPath)}" (allowed: ${allowed})`;
      return problem(keyPath, sources, true, (subject, kind) => (kind === 'file' || kind === 'default' ? text : `${subject}: ${text}`));
    });
  }
  if (issue.code === 'invalid_key') {
    const recordPath = issue.path.slice(0, -1);
    const node = schemaNodeAt(recordPath);
    const names = typeof node?.propertyNames === 'object' ? (node.propertyNames as SchemaNode) : undefined;
    const key = JSON.stringify(String(issue.path.at(-1)));
    return [problem(issue.path, sources, false, () => `"${formatPath(recordPath)}" has an invalid key ${key} (must be ${describeAllowed(names)})`)];
  }
  const { found, value } = valueAt(input, issue.path);
  const allowed = describeAllowed(schemaNodeAt(issue.path));
  const predicate =
    issue.code === 'custom'
      ? issue.message
      : found
        ? `must be ${allowed} (got ${describeValue(value, issue.path)})`
        : `is missing (must be ${allowed})`;
  return [problem(issue.path, sources, false, (subject) => `${subject} ${predicate}`)];
}

/**
 * A problem about the value at `keyPath`, blamed on the layer that supplied the most of that path:
 * a key missing from a mapping given on the command line is the command line's problem.
 */
function problem(
  keyPath: KeyPath,
  sources: Sources,
  unknownKey: boolean,
  sentence: (subject: string, kind: SourceKind) => string,
): Problem {
  const dotted = formatPath(keyPath);
  const cliDepth = foundDepth(sources.cliLayer, keyPath);
  const envDepth = foundDepth(sources.envLayer, keyPath);
  const fileDepth = foundDepth(sources.fileLayer, keyPath);
  if (cliDepth > 0 && cliDepth >= envDepth && cliDepth >= fileDepth) {
    const subject = `Option ${optionName(keyPath.slice(0, cliDepth), keyPath, sources.optionNames)}`;
    return { source: 'cli', unknownKey, prefix: '', text: sentence(subject, 'cli') };
  }
  const variable = sources.variables.get(formatPath(keyPath.slice(0, envDepth)));
  if (variable !== undefined && envDepth >= fileDepth) {
    return { source: 'env', unknownKey, prefix: '', text: sentence(`Environment variable ${variable}`, 'env') };
  }
  if (sources.filePath !== undefined) {
    return { source: 'file', unknownKey, prefix: `Config file ${sources.filePath}: `, text: sentence(`"${dotted}"`, 'file') };
  }
  return { source: 'default', unknownKey, prefix: 'Configuration: ', text: sentence(`"${dotted}"`, 'default') };
}

/** How many leading segments of `keyPath` exist in `layer`. */
function foundDepth(layer: PlainObject, keyPath: KeyPath): number {
  let depth = 0;
  while (depth < keyPath.length && valueAt(layer, keyPath.slice(0, depth + 1)).found) depth++;
  return depth;
}

/** The CLI option that set `setPath`; when the problem lies deeper inside its value, where. */
function optionName(setPath: KeyPath, keyPath: KeyPath, names: Readonly<Record<string, string>>): string {
  const inside = setPath.length < keyPath.length ? ` ("${formatPath(keyPath)}")` : '';
  for (let length = setPath.length; length > 0; length--) {
    const name = names[formatPath(setPath.slice(0, length))];
    if (name !== undefined) return `${name}${inside}`;
  }
  const leaf = [...setPath].reverse().find((segment) => typeof segment === 'string') ?? 'config';
  return `--${leaf.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}${inside}`;
}

/** `services[0].apiToken`, `spawner.environment["MY-VAR"]`. */
export function formatPath(keyPath: KeyPath): string {
  let out = '';
  for (const segment of keyPath) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(segment))) out += out === '' ? String(segment) : `.${String(segment)}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** A short rendering of a bad value for an error message; secrets are described, never shown. */
function describeValue(value: unknown, keyPath: KeyPath): string {
  if (SECRET_KEYS.has(String(keyPath.at(-1))) && typeof value === 'string') return `a secret of ${value.length} characters`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'a mapping';
  if (value === undefined) return 'nothing';
  return String(value);
}

// ---- Plain-object helpers ------------------------------------------------------------------------

function isPlainObject(value: unknown): value is PlainObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Assigns without invoking setters, so a `__proto__` key stays data (and is reported as unknown). */
function setOwn(target: PlainObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Plain objects merge key by key; anything else in `top` (lists included) replaces what is below.
 * `undefined` in `top` means "not given" (an unset CLI flag), so it never erases a value below.
 */
function deepMerge(bottom: PlainObject, top: PlainObject): PlainObject {
  const out: PlainObject = {};
  for (const [key, value] of Object.entries(bottom)) setOwn(out, key, value);
  for (const [key, value] of Object.entries(top)) {
    if (value === undefined) continue;
    const below = Object.hasOwn(out, key) ? out[key] : undefined;
    if (isPlainObject(value)) setOwn(out, key, deepMerge(isPlainObject(below) ? below : {}, value));
    else setOwn(out, key, value);
  }
  return out;
}

function valueAt(root: unknown, keyPath: KeyPath): { found: boolean; value: unknown } {
  let value = root;
  for (const segment of keyPath) {
    if (typeof value !== 'object' || value === null) return { found: false, value: undefined };
    const key = typeof segment === 'symbol' ? segment : String(segment);
    if (!Object.hasOwn(value, key)) return { found: false, value: undefined };
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return { found: value !== undefined, value };
}

function setAt(root: PlainObject, keyPath: readonly string[] | KeyPath, value: unknown): void {
  let target = root;
  keyPath.forEach((segment, index) => {
    const key = String(segment);
    if (index === keyPath.length - 1) {
      setOwn(target, key, value);
      return;
    }
    const next = Object.hasOwn(target, key) ? target[key] : undefined;
    if (isPlainObject(next)) {
      target = next;
    } else {
      const created: PlainObject = {};
      setOwn(target, key, created);
      target = created;
    }
  });
}
