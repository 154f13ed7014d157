/**
 * Human-readable descriptions of the configuration, derived from `configSchema` through its JSON
 * Schema: the Markdown reference (`docs/config-reference.md`) and the "what is allowed" phrases that
 * `load.ts` puts in its error messages, so the documentation and the errors say the same thing.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

/** One node of the configuration's JSON Schema, plus the metadata keys `schema.ts` adds. */
export type SchemaNode = z.core.JSONSchema.JSONSchema & {
  allowed?: string;
  defaultText?: string;
  env?: string;
};

let cachedJsonSchema: SchemaNode | undefined;

/** The configuration as JSON Schema, as a config file sees it (before defaults and normalisation). */
export function configJsonSchema(): SchemaNode {
  // `unrepresentable: 'any'` because refinements and normalisers have no JSON Schema form; their
  // rules reach readers through `allowed` metadata instead.
  cachedJsonSchema ??= z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as SchemaNode;
  return cachedJsonSchema;
}

function asNode(value: unknown): SchemaNode | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as SchemaNode) : undefined;
}

/** The schema node describing the value at `path` (array indexes and record keys included). */
export function schemaNodeAt(path: readonly PropertyKey[], root: SchemaNode = configJsonSchema()): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const segment of path) {
    if (!node) return undefined;
    node = nonNullBranch(node);
    if (typeof segment === 'number') {
      node = asNode(node.items);
    } else {
      node = asNode(node.properties?.[String(segment)]) ?? asNode(node.additionalProperties);
    }
  }
  return node;
}

/** For `X | null`, the `X` branch: it is the one that has properties and items to descend into. */
function nonNullBranch(node: SchemaNode): SchemaNode {
  const branch = node.anyOf?.find((option) => option.type !== 'null');
  return branch ? (branch as SchemaNode) : node;
}

/** The keys a mapping node accepts, in schema order. */
export function allowedKeys(node: SchemaNode | undefined): string[] {
  return node ? Object.keys(nonNullBranch(node).properties ?? {}) : [];
}

/** What a value may be, as a phrase that completes "must be …" ("an integer from 0 to 65535"). */
export function describeAllowed(node: SchemaNode | undefined): string {
  if (!node) return 'a valid value';
  if (typeof node.allowed === 'string') return node.allowed;
  if (node.enum) return `one of ${node.enum.map((value) => JSON.stringify(value)).join(', ')}`;
  if (node.anyOf) return node.anyOf.map((option) => describeAllowed(option as SchemaNode)).join(', or ');
  if (Array.isArray(node.type)) {
    return node.type.map((type) => describeAllowed({ ...node, type })).join(', or ');
  }
  switch (node.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return 'true or false';
    case 'integer':
    case 'number':
      return describeNumber(node, node.type === 'integer' ? 'integer' : 'number');
    case 'string':
      return `a ${describeString(node)}`;
    case 'array':
      return `a ${node.minItems === 1 ? 'non-empty ' : ''}list of ${describePlural(asNode(node.items))}`;
    case 'object': {
      const keys = allowedKeys(node);
      if (keys.length > 0) return `a mapping with the keys ${keys.join(', ')}`;
      return `a mapping of names to ${describePlural(asNode(node.additionalProperties))}`;
    }
    default:
      return 'a valid value';
  }
}

function describeNumber(node: SchemaNode, noun: 'integer' | 'number'): string {
  const article = noun === 'integer' ? 'an' : 'a';
  // zod bounds every integer by the safe-integer range; those are no limit a reader needs to hear of.
  const minimum = node.minimum !== undefined && node.minimum > Number.MIN_SAFE_INTEGER ? node.minimum : undefined;
  const maximum = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
  if (node.exclusiveMinimum === 0 && maximum === undefined) return `a positive ${noun}`;
  if (minimum !== undefined && maximum !== undefined) return `${article} ${noun} from ${minimum} to ${maximum}`;
  if (minimum !== undefined) return `${article} ${noun} of at least ${minimum}`;
  if (maximum !== undefined) return `${article} ${noun} of at most ${maximum}`;
  return `${article} ${noun}`;
}

function describeString(node: SchemaNode): string {
  const { minLength, maxLength, pattern } = node;
  let text = minLength === 1 ? 'non-empty string' : 'string';
  if (minLength !== undefined && minLength > 1) text += ` of at least ${minLength} characters`;
  if (maxLength !== undefined) text += `${minLength !== undefined && minLength > 1 ? ' and' : ' of'} at most ${maxLength} characters`;
  if (pattern !== undefined) text += ` matching ${pattern}`;
  return text;
}

function describePlural(node: SchemaNode | undefined): string {
  if (!node) return 'values';
  if (typeof node.allowed === 'string') return `values that are each ${node.allowed}`;
  switch (node.type) {
    case 'string':
      return node.minLength === 1 ? 'non-empty strings' : 'strings';
    case 'integer':
      return 'integers';
    case 'number':
      return 'numbers';
    case 'boolean':
      return 'true/false values';
    case 'object':
      return `mappings with the keys ${allowedKeys(node).join(', ')}`;
    default:
      return `values that are each ${describeAllowed(node)}`;
  }
}

/** A default value as documentation shows it. */
function describeDefault(node: SchemaNode): string {
  if (typeof node.defaultText === 'string') return node.defaultText;
  if (node.default === undefined) return 'unset';
  return `\`${JSON.stringify(node.default)}\``;
}

const INTRODUCTION = `# Lectern configuration reference

<!-- Generated from server/config/schema.ts by configReference() in server/config/reference.ts. Do not edit by hand. -->

Lectern reads one YAML (\`.yaml\`, \`.yml\`) or JSON (\`.json\`) file, given on the command line or in the
\`LECTERN_CONFIG\` environment variable. Every key is optional and has a default; an unknown key is an
error, so a misspelt setting never goes unnoticed. Relative paths in the file are relative to the file's
folder; on the command line or in the environment, to the current folder.

Precedence, lowest first: defaults, the config file, environment variables, command-line options, and
the settings changed in the GUI's settings page, which are kept in the data dir and applied at every
start (\`lectern export --format lectern\` shows the effective configuration).

Example:

\`\`\`yaml
network:
  port: 8000
  baseUrl: /class/
adminUsers: [teacher]
services:
  - name: gradebook
    apiToken: 3f1c0e...           # at least 16 characters; keep this file private
    admin: true
spawner:
  python: /opt/conda/envs/class   # else the best environment Lectern finds
  launchMode: lab
  startTimeout: 120
  stopTimeouts:
    interrupt: 15
\`\`\`
`;

/**
 * Markdown documentation of every configuration key: path, allowed values, default and help text.
 * `docs/config-reference.md` is this function's output; a unit test keeps the two identical.
 */
export function configReference(): string {
  const sections: string[] = [INTRODUCTION];
  // `requiredIn` names the parent that must contain this key; required keys have no default.
  const visit = (node: SchemaNode, path: string, depth: number, requiredIn?: string): void => {
    const heading = '#'.repeat(Math.min(depth + 1, 6));
    const lines = [`${heading} \`${path}\``, ''];
    if (node.description) lines.push(node.description, '');
    const itemNode = node.type === 'array' ? asNode(node.items) : undefined;
    const children = allowedKeys(node);
    const itemChildren = allowedKeys(itemNode);
    if (children.length > 0) {
      lines.push(`- Keys: ${children.map((key) => `\`${key}\``).join(', ')}`);
      if (node.default === undefined) lines.push('- Default: unset');
    } else {
      lines.push(`- Allowed: ${describeAllowed(node)}`, requiredIn ? `- Required in ${requiredIn}` : `- Default: ${describeDefault(node)}`);
    }
    if (typeof node.env === 'string') lines.push(`- Environment variable: \`${node.env}\``);
    sections.push(lines.join('\n') + '\n');
    for (const key of children) {
      const child = asNode(node.properties?.[key]);
      if (child) visit(child, `${path}.${key}`, depth + 1, node.required?.includes(key) ? `\`${path}\`` : undefined);
    }
    for (const key of itemChildren) {
      const child = asNode(itemNode?.properties?.[key]);
      if (child) visit(child, `${path}[].${key}`, depth + 1, itemNode?.required?.includes(key) ? `each \`${path}\` entry` : undefined);
    }
  };
  const root = configJsonSchema();
  for (const key of allowedKeys(root)) {
    const child = asNode(root.properties?.[key]);
    if (child) visit(child, key, 1);
  }
  return sections.join('\n');
}
