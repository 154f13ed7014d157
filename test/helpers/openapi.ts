/**
 * The API's OpenAPI description (server/hub/api/openapi.yaml) as a test oracle: which operations it
 * describes, whether an actual response matches what it says, and a recorder the other helpers
 * feed every API response to, so each integration test also checks the description holds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { installRoot } from '../../server/package-info.js';

export const OPENAPI_FILE = join(installRoot, 'server', 'hub', 'api', 'openapi.yaml');

/** OpenAPI's operation keys on a path item, in its own order. */
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** The parts of an OpenAPI document these helpers read; everything else passes through untyped. */
export type JsonObject = { [key: string]: unknown };

export interface DescribedOperation {
  method: HttpMethod;
  /** In OpenAPI's template form, under `/hub/api`: `/users/{name}`. */
  path: string;
}

export interface ApiResponseToCheck {
  method: string;
  /** The actual path under `/hub/api` (`/users/alice`); a query string is ignored. */
  path: string;
  status: number;
  /** The `Content-Type` header as sent, parameters included, or null if there was none. */
  contentType: string | null;
  /** Parsed JSON for JSON media types, else the text; `''` for an empty body. */
  body: unknown;
  /** False to check the status and content type only (event streams, HEAD). */
  checkBody?: boolean;
}

const DOCUMENT_ID = 'lectern-openapi.json';

interface LoadedDescription {
  document: JsonObject;
  ajv: Ajv2020;
  templates: PathTemplate[];
  validators: Map<string, ValidateFunction>;
}

interface PathTemplate {
  template: string;
  pattern: RegExp;
  /** Templates with more literal segments win, as OpenAPI requires (`/users/me` before `/users/{name}`). */
  literals: number;
}

let loaded: LoadedDescription | undefined;

/** The description as parsed from YAML (the same object `GET /hub/api/openapi.json` should serve). */
export function loadApiDescription(): JsonObject {
  return describe().document;
}

/** A fresh parse, for tests that must not share (or mutate) the cached document. */
export function readApiDescription(): JsonObject {
  return parse(readFileSync(OPENAPI_FILE, 'utf8')) as JsonObject;
}

/** An ajv instance for OpenAPI 3.1 schemas: JSON Schema 2020-12, OpenAPI's extra keywords tolerated. */
export function createSchemaValidator(): Ajv2020 {
  // strict: false because OpenAPI adds keywords to its schemas (`example`, `x-…`, `discriminator`).
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // ajv ships no formats; OpenAPI's timestamps are date-time, checked here rather than ignored.
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (value: string) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value)),
  });
  return ajv;
}

function describe(): LoadedDescription {
  if (loaded) return loaded;
  const document = readApiDescription();
  const ajv = createSchemaValidator();
  // The whole document is registered once, so a schema anywhere in it can be compiled by JSON
  // pointer and its `#/components/schemas/…` references resolve against the document.
  ajv.addSchema(document, DOCUMENT_ID);
  const templates = Object.keys(asObject(document.paths)).map((template) => {
    const segments = template.split('/').slice(1);
    const pattern = new RegExp(
      `^${segments.map((segment) => '/' + (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : escapeRegExp(segment))).join('')}$`,
    );
    return { template, pattern, literals: segments.filter((segment) => !segment.startsWith('{')).length };
  });
  templates.sort((a, b) => b.literals - a.literals);
  loaded = { document, ajv, templates, validators: new Map() };
  return loaded;
}

/** Every operation the description has, OAuth2 endpoints included. */
export function describedOperations(): DescribedOperation[] {
  const operations: DescribedOperation[] = [];
  for (const [path, item] of Object.entries(asObject(describe().document.paths))) {
    for (const method of HTTP_METHODS) {
      if (asObject(item)[method] !== undefined) operations.push({ method, path });
    }
  }
  return operations;
}

/** The path template an actual API path falls under, or undefined. */
export function matchPathTemplate(actualPath: string): string | undefined {
  const path = normalizePath(actualPath);
  return describe().templates.find(({ pattern }) => pattern.test(path))?.template;
}

/**
 * Checks one response against the description: the path, method and status must be described, the
 * content type must be one the response lists, and the body must match its schema (or be empty if
 * the response has no content). Returns a readable problem, or null if it matches.
 */
export function validateApiResponse(response: ApiResponseToCheck): string | null {
  const { document } = describe();
  const method = response.method.toLowerCase();
  const template = matchPathTemplate(response.path);
  if (!template) return `the path ${normalizePath(response.path)} is not described`;
  const pathItem = asObject(asObject(document.paths)[template]);
  const operation = pathItem[method];
  if (operation === undefined) return `${method.toUpperCase()} is not described for ${template}`;
  const responses = asObject(asObject(operation).responses);
  const statusKey = [String(response.status), `${String(response.status)[0]}XX`, 'default'].find((key) => key in responses);
  if (!statusKey) {
    return `status ${response.status} is not described for ${method.toUpperCase()} ${template} (described: ${Object.keys(responses).join(', ')})`;
  }
  const pointer = ['paths', template, method, 'responses', statusKey];
  const described = resolveObject(document, responses[statusKey], pointer);
  const where = `${method.toUpperCase()} ${template} ${statusKey}`;
  // HTTP lets clients ignore a redirect's body, and express writes a short note there; only the
  // status is part of the contract.
  if (response.status >= 300 && response.status < 400) return null;

  const mediaType = response.contentType?.split(';')[0]?.trim().toLowerCase() ?? null;
  const content = described.value.content === undefined ? undefined : asObject(described.value.content);
  if (content === undefined || Object.keys(content).length === 0) {
    if (response.checkBody === false || isEmpty(response.body)) return null;
    return `${where} has no body, but got ${preview(response.body)}`;
  }
  if (mediaType === null) return `${where} should have a Content-Type (${Object.keys(content).join(', ')}), got none`;
  if (!(mediaType in content)) {
    return `${where} is described as ${Object.keys(content).join(', ')}, but the Content-Type is ${mediaType}`;
  }
  if (response.checkBody === false) return null;
  const media = asObject(content[mediaType]);
  if (media.schema === undefined) return null;

  const validate = validatorFor([...described.pointer, 'content', mediaType, 'schema']);
  if (!validate(response.body)) {
    return `${where} ${mediaType} body does not match: ${formatErrors(validate.errors)}; body: ${preview(response.body)}`;
  }
  // The error schema cannot say that `status` repeats the HTTP status; this does.
  const bodyStatus = (response.body as { status?: unknown } | null)?.status;
  if (response.status >= 400 && isObject(response.body) && typeof bodyStatus === 'number' && bodyStatus !== response.status) {
    return `${where} error body says status ${bodyStatus}`;
  }
  return null;
}

/** Compiles (once) the schema at `pointer` in the document; its references resolve against the document. */
function validatorFor(pointer: string[]): ValidateFunction {
  const { ajv, validators } = describe();
  const ref = `${DOCUMENT_ID}#/${pointer.map((segment) => encodeURIComponent(escapePointer(segment))).join('/')}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    validators.set(ref, validate);
  }
  return validate;
}

/**
 * Collects API responses as the tests make them and checks each against the description. The
 * bodies are read from clones, so the tests' own reading is untouched. Requests to paths the
 * description does not have are fine if they get the JSON 404 (that is the description's claim:
 * those paths do not exist); anything else that does not match is a problem.
 */
export class ResponseRecorder {
  private readonly apiPath: string;
  private readonly origin: string;
  private readonly pending = new Set<Promise<void>>();
  private readonly found: string[] = [];
  private readonly seen = new Set<string>();

  /** @param apiUrl the API's root, for example `http://127.0.0.1:8000/hub/api`. */
  constructor(apiUrl: string) {
    const url = new URL(apiUrl);
    this.origin = url.origin;
    this.apiPath = url.pathname.replace(/\/+$/, '');
  }

  record(method: string, url: string | URL, response: Response): void {
    const target = new URL(url, this.origin);
    if (target.origin !== this.origin) return;
    if (target.pathname !== this.apiPath && !target.pathname.startsWith(`${this.apiPath}/`)) return;
    const verb = method.toUpperCase();
    const head = verb === 'HEAD';
    // CORS preflights are not part of the description (JupyterHub answers them on every path).
    if (verb === 'OPTIONS') return;
    const path = target.pathname.slice(this.apiPath.length) || '/';
    const template = matchPathTemplate(path);
    if (template) this.seen.add(`${head ? 'GET' : verb} ${template}`);
    const contentType = response.headers.get('content-type');
    const streaming = contentType?.split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
    const check = async () => {
      const body = streaming || head ? undefined : await readBody(response.clone(), contentType);
      const problem =
        body instanceof BodyError
          ? body.message
          : validateApiResponse({
              method: head ? 'GET' : verb,
              path,
              status: response.status,
              contentType,
              body,
              checkBody: !(streaming || head),
            });
      if (problem && !this.isUndescribedNotFound(verb, path, response.status, body)) {
        this.found.push(`${verb} ${path} → ${response.status}: ${problem}`);
      }
    };
    const job = check().catch((error: unknown) => {
      // The test may have torn the connection down on purpose; a body we could not read is not a
      // mismatch with the description.
      if (!(error instanceof Error && /abort|terminated|closed/i.test(error.message))) {
        this.found.push(`${verb} ${path} → ${response.status}: could not check the response: ${String(error)}`);
      }
    });
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  /** Resolves once every recorded response has been checked. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** The described operations (`GET /users/{name}`) that have answered at least once. */
  operationsSeen(): Set<string> {
    return new Set(this.seen);
  }

  /** The mismatches found so far (call `settled()` first to include every response). */
  problems(): string[] {
    return [...this.found];
  }

  private isUndescribedNotFound(method: string, path: string, status: number, body: unknown): boolean {
    const template = matchPathTemplate(path);
    const described =
      template !== undefined && asObject(asObject(loadApiDescription().paths)[template])[method.toLowerCase()] !== undefined;
    if (described) return false;
    const errorBody = isObject(body) && body.status === status && typeof body.message === 'string';
    return (status === 404 || status === 405) && errorBody;
  }
}

class BodyError {
  constructor(readonly message: string) {}
}

async function readBody(response: Response, contentType: string | null): Promise<unknown> {
  const text = await response.text();
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (text === '' || !(mediaType === 'application/json' || mediaType.endsWith('+json'))) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return new BodyError(`the body is not the JSON its Content-Type (${mediaType}) says: ${text.slice(0, 120)}`);
  }
}

/** Follows a `$ref` to another object in the document (responses, parameters), returning where it led. */
function resolveObject(document: JsonObject, value: unknown, pointer: string[]): { value: JsonObject; pointer: string[] } {
  let current = asObject(value);
  let at = pointer;
  for (let hops = 0; typeof current.$ref === 'string'; hops++) {
    if (hops > 10) throw new Error(`reference loop at ${at.join('/')}`);
    const ref = current.$ref;
    if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
    at = ref.slice(2).split('/').map(unescapePointer);
    current = asObject(at.reduce<unknown>((node, key) => asObject(node)[key], document));
  }
  return { value: current, pointer: at };
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((error) => `${error.instancePath || '(body)'} ${error.message ?? error.keyword}${paramsText(error)}`)
    .join('; ');
}

function paramsText(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return ` (${String(params.additionalProperty)})`;
  if (error.keyword === 'enum' || error.keyword === 'const') return ` (${JSON.stringify(params.allowedValues ?? params.allowedValue)})`;
  return '';
}

function normalizePath(path: string): string {
  const bare = path.split(/[?#]/)[0] ?? '';
  const withSlash = bare.startsWith('/') ? bare : `/${bare}`;
  // express matches `/users/alice/` as `/users/alice`; only the root keeps its slash.
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') || '/' : withSlash;
}

function isEmpty(body: unknown): boolean {
  return body === undefined || body === null || body === '';
}

function preview(body: unknown): string {
  const text = typeof body === 'string' ? JSON.stringify(body) : JSON.stringify(body) ?? String(body);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
