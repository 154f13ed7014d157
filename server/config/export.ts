/**
 * Export: the class's effective configuration, with its accounts and groups, as the file its next
 * home reads. A class that outgrows one laptop moves to JupyterHub rather than to a home-made
 * cluster (docs: DESIGN.md), so besides Lectern's own config file there are two JupyterHub forms:
 *
 * - `lectern`: a Lectern config file (YAML): the settings that differ from the defaults.
 * - `jupyterhub`: a `jupyterhub_config.py` for JupyterHub 3.0 or later, or The Littlest JupyterHub.
 * - `z2jh`: a `values.yaml` for Zero to JupyterHub, the jupyterhub Helm chart on Kubernetes.
 *
 * Pure functions over data the caller gathers (the API handler, the CLI). Every file starts with a
 * header saying what moved and what cannot: passwords (JupyterHub cannot check Lectern's bcrypt
 * hashes), students' files and running servers. Secrets (service tokens, the TLS key, the join code)
 * never appear: comments say where to fill them in.
 */
import { join } from 'node:path';
import YAML, { type Document } from 'yaml';
import { usersFolder } from './users-folder.js';
import { pythonLiteral, PythonCode, PythonSet, type PythonValue } from './python-literal.js';
import { configSchema, type LecternConfig } from './schema.js';

export const EXPORT_FORMATS = ['lectern', 'jupyterhub', 'z2jh'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportInput {
  /** The effective configuration: the config file with the settings changed in the GUI applied. */
  config: LecternConfig;
  /** Every account, in creation order. */
  users: readonly { name: string; admin: boolean; approved: boolean }[];
  groups: readonly { name: string; members: readonly string[] }[];
  /** The handouts' names. */
  handouts: readonly string[];
  version: string;
  generatedAt: Date;
}

export interface ExportedFile {
  /** The name to save it under (`Content-Disposition`). */
  fileName: string;
  mediaType: string;
  text: string;
}

export function isExportFormat(value: unknown): value is ExportFormat {
  return typeof value === 'string' && (EXPORT_FORMATS as readonly string[]).includes(value);
}

export function exportFile(format: ExportFormat, input: ExportInput): ExportedFile {
  switch (format) {
    case 'lectern':
      return { fileName: 'lectern.yaml', mediaType: 'application/yaml', text: lecternFile(input) };
    case 'jupyterhub':
      return { fileName: 'jupyterhub_config.py', mediaType: 'text/x-python', text: jupyterhubConfig(input) };
    case 'z2jh':
      return { fileName: 'values.yaml', mediaType: 'application/yaml', text: z2jhValues(input) };
  }
}

// ---- What the JupyterHub formats carry ---------------------------------------------------------

/** The culler's JupyterHub service and role share this name, as Zero to JupyterHub names them. */
const CULLER_NAME = 'jupyterhub-idle-culler';
/** What jupyterhub-idle-culler needs to stop idle servers (its README, "Permissions"). */
const CULLER_SCOPES = ['list:users', 'read:users:activity', 'read:servers', 'delete:servers'];
/**
 * The culler's caveat: a server's activity reaches the hub up to 5 minutes late
 * (`last_activity_interval`), after a 30-second websocket ping. A shorter timeout stops servers in use.
 */
const CULLER_MIN_SAFE_TIMEOUT = 330;

interface Role {
  name: string;
  description: string;
  scopes: string[];
  users: string[];
  groups: string[];
  services: string[];
}

/** The class as JupyterHub will see it: who may log in, who is an admin, groups, roles, services. */
interface ClassPicture {
  /** Accounts that may log in (sign-ups awaiting approval are not among them), admins included. */
  allowed: string[];
  admins: string[];
  awaitingApproval: string[];
  /** Members limited to `allowed`: JupyterHub would create an account for anyone a group names. */
  groups: { name: string; members: string[] }[];
  /** The config's custom roles, naming only accounts and services that exist (JupyterHub refuses to start otherwise). */
  roles: Role[];
  /** "role ta: bob": names left out of `roles`. */
  leftOutOfRoles: string[];
  services: { name: string; admin: boolean }[];
}

function classPicture(input: ExportInput): ClassPicture {
  const allowed = input.users.filter((user) => user.approved).map((user) => user.name);
  const known = new Set(allowed);
  const serviceNames = new Set(input.config.services.map((service) => service.name));
  const leftOutOfRoles: string[] = [];
  const keep = (role: string, names: readonly string[], exists: ReadonlySet<string>) =>
    names.filter((name) => exists.has(name) || (leftOutOfRoles.push(`role ${role}: ${name}`), false));
  return {
    allowed,
    admins: input.users.filter((user) => user.approved && user.admin).map((user) => user.name),
    awaitingApproval: input.users.filter((user) => !user.approved).map((user) => user.name),
    groups: input.groups.map((group) => ({ name: group.name, members: group.members.filter((name) => known.has(name)) })),
    roles: input.config.roles.map((role) => ({
      name: role.name,
      description: role.description,
      scopes: role.scopes,
      users: keep(role.name, role.users, known),
      groups: role.groups,
      services: keep(role.name, role.services, serviceNames),
    })),
    leftOutOfRoles,
    services: input.config.services.map((service) => ({ name: service.name, admin: service.admin })),
  };
}

/**
 * The JupyterHub authenticator closest to the class's login mode. Passwords cannot move, so each
 * choice lets students set a new one: FirstUseAuthenticator (the first password typed becomes theirs)
 * for accounts the teacher made, NativeAuthenticator (sign-up pages) for classes students join.
 */
function suggestedAuthenticator(config: LecternConfig): {
  package: string;
  /** The class, as `authenticator_class` names it. */
  importName: string;
  /** The class's own name, under which its settings go (`c.FirstUseAuthenticator.create_users`). */
  className: string;
  settings: Record<string, boolean>;
  how: string;
} {
  if (config.auth.loginMode === 'join-code') {
    return {
      package: 'jupyterhub-nativeauthenticator',
      importName: 'nativeauthenticator.NativeAuthenticator',
      className: 'NativeAuthenticator',
      settings: { open_signup: !config.auth.joinApproval },
      how: config.auth.joinApproval
        ? 'students sign up at /hub/signup, and an admin authorizes each new account'
        : 'students sign up at /hub/signup and can log in at once',
    };
  }
  return {
    package: 'jupyterhub-firstuseauthenticator',
    importName: 'firstuseauthenticator.FirstUseAuthenticator',
    className: 'FirstUseAuthenticator',
    settings: { create_users: false },
    how: 'the listed accounts log in, and the first password each student types becomes theirs',
  };
}

// ---- Header ------------------------------------------------------------------------------------

function generatedBy(input: ExportInput): string {
  return `Generated by Lectern ${input.version} on ${input.generatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}.`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The header lines the two JupyterHub formats share: what moved, what cannot. */
function movingLines(input: ExportInput, picture: ClassPicture, target: 'jupyterhub' | 'z2jh'): string[] {
  const { config } = input;
  const authenticator = suggestedAuthenticator(config);
  const moved = [
    `${plural(picture.allowed.length, 'account')} (${plural(picture.admins.length, 'admin')}) as allowed_users and admin_users`,
    `${plural(picture.groups.length, 'group')} with their members`,
    'the server limits and timeouts',
    'named servers',
    config.culler.enabled ? 'the idle culler' : 'the idle culler being off',
    ...(picture.roles.length > 0 ? [plural(picture.roles.length, 'custom role')] : []),
    ...(picture.services.length > 0 ? [`${plural(picture.services.length, 'service')} (without their tokens)`] : []),
    target === 'jupyterhub' ? 'the address, port and base URL' : 'the base URL',
  ];
  const files = target === 'jupyterhub' ? "into each student's home folder on the new server" : "into each student's home volume (claim-<name>)";
  const environment =
    target === 'jupyterhub'
      ? 'the Python environment (install the same packages on the new server)'
      : 'the Python environment (build an image with the same packages: singleuser.image)';
  const authenticatorNote =
    target === 'z2jh'
      ? `This file chooses ${authenticator.className}: ${authenticator.how}. (The chart's default, the dummy authenticator, accepts any password.)`
      : `See "Accounts" below for an authenticator to choose.`;
  const lines = [
    `What moved: ${moved.join('; ')}.`,
    '',
    'What cannot move:',
    "- Passwords. JupyterHub cannot check Lectern's password hashes: choose an authenticator and tell students how " +
      'to log in, e.g. NativeAuthenticator (students sign up with a password, an admin approves) or ' +
      `FirstUseAuthenticator (the first password each student types becomes theirs). ${authenticatorNote}`,
    `- Students' files. Copy each student's files, ${join(usersFolder(config), '<name>', 'home')}, ${files}.`,
    '- Running servers. Stop them in Lectern before moving; students start new ones on the new hub.',
    ...(config.spawner.courseData === null
      ? []
      : [
          `- The course data folder, ${config.spawner.courseData}. Copy it over and give every server a read-only view of it: ${
            target === 'z2jh'
              ? 'singleuser.storage.extraVolumes and extraVolumeMounts with readOnly: true'
              : 'a folder every student can read but not change, linked into each home'
          }.`,
        ]),
    ...(input.handouts.length === 0
      ? []
      : [
          `- Handouts (${input.handouts.join(', ')}). JupyterHub has none: students' copies move with their files, and the ` +
            `work collected stays in ${join(config.dataDir, 'collections')}. To hand out on the new hub, put the files in a git ` +
            'repository and give students nbgitpuller links (<hub>/hub/user-redirect/git-pull?repo=<repository>&targetPath=<name>), ' +
            "which keep a student's changes as Lectern does; to collect, use nbgrader's exchange.",
        ]),
    `- Lectern-only settings: ${environment}, the login mode and join code, the free-memory check, the sandbox (spawner.isolation), starting servers by forking (spawner.forkServer)${
      target === 'z2jh' ? ', the address and port (Kubernetes services and ingress decide them: proxy.service, ingress)' : ''
    }.`,
  ];
  if (picture.awaitingApproval.length > 0) {
    lines.push(`- ${plural(picture.awaitingApproval.length, 'sign-up')} awaiting approval, left out: ${picture.awaitingApproval.join(', ')}.`);
  }
  if (picture.leftOutOfRoles.length > 0) {
    lines.push(`- Names in roles with no account or service, left out: ${picture.leftOutOfRoles.join('; ')}.`);
  }
  return lines;
}

/** Comment width: headers are read in an editor or a terminal. */
const COMMENT_WIDTH = 100;

/**
 * Lines as comments (`#` starts one in Python and YAML alike), long ones wrapped at a space. A wrapped
 * line keeps its indentation, and list items (`- …`) continue under their text. A line break inside a
 * line (a path can hold one) starts another comment line, so nothing can escape into code.
 */
function comment(lines: readonly string[]): string {
  return lines
    .flatMap((line) => line.split(/\r\n|\r|\n/))
    .flatMap((line) => wrap(line))
    .map((line) => (line === '' ? '#' : `# ${line}`))
    .join('\n');
}

function wrap(line: string): string[] {
  const indent = /^(\s*(?:- )?)/.exec(line)?.[1] ?? '';
  const continuation = ' '.repeat(indent.length);
  const out: string[] = [];
  let rest = line;
  while (rest.length > COMMENT_WIDTH) {
    const at = rest.lastIndexOf(' ', COMMENT_WIDTH);
    if (at <= indent.length) break;
    out.push(rest.slice(0, at));
    rest = continuation + rest.slice(at + 1);
  }
  out.push(rest);
  return out;
}

// ---- lectern.yaml ------------------------------------------------------------------------------

/** Paths of secrets in a Lectern config, and what to fill in instead. */
const LECTERN_SECRETS: readonly { path: readonly (string | number)[]; fill: string }[] = [
  { path: ['network', 'tls', 'key'], fill: 'the path to the TLS private key (PEM) on the new machine' },
  { path: ['proxy', 'apiToken'], fill: "the route API's token (at least 16 characters)" },
  { path: ['auth', 'joinCode'], fill: 'a fixed class join code, or leave it out for a generated one' },
];

function lecternFile(input: ExportInput): string {
  const { config } = input;
  const changed = differences(config, configSchema.parse({})) ?? {};
  const doc = new YAML.Document(changed);
  for (const secret of LECTERN_SECRETS) replaceWithComment(doc, secret.path, secret.fill);
  const services = (changed as Partial<LecternConfig>).services ?? [];
  services.forEach((_, index) => replaceWithComment(doc, ['services', index, 'apiToken'], "this service's token (at least 16 characters)"));
  const header = comment([
    'Lectern configuration file.',
    generatedBy(input),
    'The settings that differ from the defaults, with the changes made in the GUI. Start Lectern with it:',
    '  lectern start --config lectern.yaml',
    '',
    "It holds the configuration only: accounts, passwords, groups and students' files are in the data dir " +
      `(${config.dataDir}), not in a config file. Copy that folder too to move the class to another machine, ` +
      'or export with --format jupyterhub or --format z2jh to move it to JupyterHub.',
    'Secrets are not exported: fill in the lines marked "fill in".',
  ]);
  return `${header}\n\n${doc.toString()}`;
}

/** What in `value` differs from `defaults`: mappings compared key by key, anything else as a whole. */
function differences(value: unknown, defaults: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(value) || !isPlainObject(defaults)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const fallback = defaults[key];
    if (isPlainObject(inner) && isPlainObject(fallback) && Object.keys(fallback).length > 0) {
      const nested = differences(inner, fallback);
      if (nested && Object.keys(nested).length > 0) out[key] = nested;
    } else if (JSON.stringify(inner) !== JSON.stringify(fallback)) {
      out[key] = inner;
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Removes the secret at `path` from `doc` and leaves a comment in its place: `# key: fill in …`.
 * Where the file needs it (a service's token, the TLS key), a file loaded with the comment still in
 * place stops with an error naming the missing key, rather than running with a placeholder.
 */
function replaceWithComment(doc: Document, path: readonly (string | number)[], fill: string): void {
  const parent = doc.getIn(path.slice(0, -1), true);
  const key = path.at(-1);
  if (!YAML.isMap(parent)) return;
  const index = parent.items.findIndex((pair) => YAML.isScalar(pair.key) && pair.key.value === key);
  if (index === -1) return;
  const [pair] = parent.items.splice(index, 1);
  if (pair && YAML.isScalar(pair.value) && pair.value.value === null) return; // unset: nothing to fill in
  const text = ` ${String(key)}: fill in ${fill}`;
  const next = parent.items[index];
  if (next && YAML.isScalar(next.key)) next.key.commentBefore = next.key.commentBefore ? `${next.key.commentBefore}\n${text}` : text;
  else parent.comment = parent.comment ? `${parent.comment}\n${text}` : text;
}

// ---- jupyterhub_config.py ----------------------------------------------------------------------

function jupyterhubConfig(input: ExportInput): string {
  const { config } = input;
  const picture = classPicture(input);
  const authenticator = suggestedAuthenticator(config);
  const spawner = config.spawner;
  const culler = config.culler;
  const timeout = Math.ceil(culler.idleTimeout);
  const tljh = [
    ...(config.network.baseUrl === '/' ? [] : [`sudo tljh-config set base_url ${config.network.baseUrl}`]),
    `sudo tljh-config set services.cull.enabled ${culler.enabled}`,
    ...(culler.enabled
      ? [`sudo tljh-config set services.cull.timeout ${timeout}`, `sudo tljh-config set services.cull.every ${Math.ceil(culler.every)}`]
      : []),
    'sudo tljh-config reload',
  ];
  const assign = (target: string, value: PythonValue) => `${target} = ${pythonLiteral(value)}`;
  const call = (target: string, method: string, value: PythonValue) => `${target}.${method}(${pythonLiteral(value)})`;
  const sections: string[][] = [];

  sections.push([
    comment([
      'jupyterhub_config.py for JupyterHub 3.0 or later, or The Littlest JupyterHub (TLJH).',
      generatedBy(input),
      'Run it with: jupyterhub --config jupyterhub_config.py',
      '',
      ...movingLines(input, picture, 'jupyterhub'),
      '',
      'On The Littlest JupyterHub: copy this file to /opt/tljh/config/jupyterhub_config.d/lectern.py, delete its ' +
        '"Network" and "Idle culler" sections (TLJH runs its own proxy and culler, on port 80), then run:',
      ...tljh.map((command) => `  ${command}`),
      '',
      'Lists and sets below are extended (.update, .extend, .append) rather than replaced, so what another ' +
        "config file set (TLJH's tljh-config, for one) is kept.",
    ]),
    '',
    'import sys',
  ]);

  sections.push([
    comment([
      'Accounts',
      `Passwords do not move. An authenticator close to this class's login mode: ${authenticator.how}.`,
      `Install it in the hub's environment (pip install ${authenticator.package}) and uncomment:`,
    ]),
    comment([
      assign('c.JupyterHub.authenticator_class', authenticator.importName),
      ...Object.entries(authenticator.settings).map(([name, value]) => assign(`c.${authenticator.className}.${name}`, value)),
    ]),
    ...(config.auth.loginMode === 'join-code'
      ? [comment(['Students join this class by signing up: new names must be added here, or allowed_users left out.'])]
      : []),
    call('c.Authenticator.allowed_users', 'update', new PythonSet(picture.allowed)),
    call('c.Authenticator.admin_users', 'update', new PythonSet(picture.admins)),
    ...(picture.groups.length > 0
      ? [call('c.JupyterHub.load_groups', 'update', Object.fromEntries(picture.groups.map((group) => [group.name, group.members])))]
      : []),
  ]);

  sections.push([
    comment(['Servers']),
    spawner.defaultUrl === '' ? comment(["c.Spawner.default_url: not set, each server opens its own default page"]) : assign('c.Spawner.default_url', spawner.defaultUrl),
    // JupyterHub's timeouts are whole seconds.
    assign('c.Spawner.start_timeout', Math.ceil(spawner.startTimeout)),
    assign('c.Spawner.http_timeout', Math.ceil(spawner.httpTimeout)),
    // Enforced by the spawners that can (TLJH's SystemdSpawner, KubeSpawner), not by LocalProcessSpawner.
    ...(spawner.memoryLimitMb > 0 ? [assign('c.Spawner.mem_limit', `${spawner.memoryLimitMb}M`)] : []),
    assign('c.JupyterHub.concurrent_spawn_limit', spawner.concurrentSpawnLimit),
    assign('c.JupyterHub.active_server_limit', spawner.activeServerLimit),
    assign('c.JupyterHub.allow_named_servers', spawner.allowNamedServers),
    assign('c.JupyterHub.named_server_limit_per_user', spawner.namedServerLimitPerUser),
  ]);

  sections.push([
    comment(['Network (on TLJH: delete this section)']),
    assign('c.JupyterHub.bind_url', bindUrl(config)),
    ...(config.network.tls
      ? [
          comment([
            'Lectern served HTTPS: fill in the certificate and key paths on the new server, and uncomment.',
            assign('c.JupyterHub.ssl_cert', '/path/to/cert.pem'),
            assign('c.JupyterHub.ssl_key', '/path/to/key.pem'),
          ]),
        ]
      : []),
  ]);

  const roles = [
    ...picture.roles.map((role) => ({ ...role })),
    ...(picture.services.some((service) => service.admin)
      ? [{ name: 'admin', services: picture.services.filter((service) => service.admin).map((service) => service.name) }]
      : []),
  ];
  if (picture.services.length > 0 || roles.length > 0) {
    sections.push([
      comment([
        'Services and roles',
        ...(picture.services.length > 0
          ? ["Fill in each service's 'api_token' (the token it sends, at least 16 characters): tokens are not exported."]
          : []),
        ...(roles.some((role) => role.name === 'admin')
          ? ['JupyterHub logs that admin_users and the admin role are both set, and merges them: that is intended.']
          : []),
      ]),
      ...(picture.services.length > 0 ? [call('c.JupyterHub.services', 'extend', picture.services.map((service) => ({ name: service.name })))] : []),
      ...(roles.length > 0 ? [call('c.JupyterHub.load_roles', 'extend', roles)] : []),
    ]);
  }

  sections.push(
    culler.enabled
      ? [
          comment([
            'Idle culler (on TLJH: delete this section)',
            'jupyterhub-idle-culler stops servers idle this long; install it in the hub\'s environment:',
            'pip install jupyterhub-idle-culler',
            ...(timeout < CULLER_MIN_SAFE_TIMEOUT
              ? [`A timeout under ${CULLER_MIN_SAFE_TIMEOUT} s may stop servers in use: their activity reaches JupyterHub up to 5 minutes late.`]
              : []),
          ]),
          call('c.JupyterHub.services', 'append', {
            name: CULLER_NAME,
            command: [new PythonCode('sys.executable'), '-m', 'jupyterhub_idle_culler', `--timeout=${timeout}`, `--cull-every=${Math.ceil(culler.every)}`],
          }),
          call('c.JupyterHub.load_roles', 'append', { name: CULLER_NAME, scopes: CULLER_SCOPES, services: [CULLER_NAME] }),
        ]
      : [comment(['Idle culler: off in Lectern, so not configured here.'])],
  );

  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

/** Lectern's address, port and base URL as JupyterHub's bind_url (which sets all three). */
function bindUrl(config: LecternConfig): string {
  const { ip, port, baseUrl } = config.network;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `http://${host}:${port}${baseUrl}`;
}

// ---- values.yaml (Zero to JupyterHub) ----------------------------------------------------------

function z2jhValues(input: ExportInput): string {
  const { config } = input;
  const picture = classPicture(input);
  const authenticator = suggestedAuthenticator(config);
  const spawner = config.spawner;
  // The chart takes roles as a mapping by name. The admin role's scopes are JupyterHub's own: only its services are given.
  const roles: Record<string, Omit<Role, 'name'> | { services: string[] }> = {};
  for (const { name, ...role } of picture.roles) roles[name] = role;
  const adminServices = picture.services.filter((service) => service.admin).map((service) => service.name);
  if (adminServices.length > 0) roles.admin = { services: adminServices };

  const values = {
    hub: {
      config: {
        JupyterHub: {
          authenticator_class: authenticator.importName,
          ...(picture.groups.length > 0 ? { load_groups: Object.fromEntries(picture.groups.map((group) => [group.name, group.members])) } : {}),
        },
        [authenticator.className]: authenticator.settings,
        Authenticator: { allowed_users: picture.allowed, admin_users: picture.admins },
        KubeSpawner: { http_timeout: Math.ceil(spawner.httpTimeout) },
      },
      ...(config.network.baseUrl === '/' ? {} : { baseUrl: config.network.baseUrl }),
      concurrentSpawnLimit: spawner.concurrentSpawnLimit,
      // The chart's default (unset) is no limit, which Lectern writes as 0.
      ...(spawner.activeServerLimit > 0 ? { activeServerLimit: spawner.activeServerLimit } : {}),
      allowNamedServers: spawner.allowNamedServers,
      ...(spawner.namedServerLimitPerUser > 0 ? { namedServerLimitPerUser: spawner.namedServerLimitPerUser } : {}),
      ...(Object.keys(roles).length > 0 ? { loadRoles: roles } : {}),
      ...(picture.services.length > 0 ? { services: Object.fromEntries(picture.services.map((service) => [service.name, {}])) } : {}),
    },
    singleuser: {
      ...(spawner.defaultUrl === '' ? {} : { defaultUrl: spawner.defaultUrl }),
      startTimeout: Math.ceil(spawner.startTimeout),
      ...(spawner.memoryLimitMb > 0 ? { memory: { limit: `${spawner.memoryLimitMb}M` } } : {}),
    },
    cull: {
      enabled: config.culler.enabled,
      timeout: Math.ceil(config.culler.idleTimeout),
      every: Math.ceil(config.culler.every),
    },
  };
  const doc = new YAML.Document(values);
  for (const service of picture.services) {
    const services = doc.getIn(['hub', 'services'], true);
    const pair = YAML.isMap(services) ? services.items.find((item) => YAML.isScalar(item.key) && item.key.value === service.name) : undefined;
    if (pair && YAML.isScalar(pair.key)) pair.key.commentBefore = ` ${service.name}: fill in its apiToken, the token it sends (at least 16 characters)`;
  }
  const header = comment([
    'values.yaml for Zero to JupyterHub (the jupyterhub Helm chart) on Kubernetes.',
    generatedBy(input),
    'Install with: helm upgrade --install jupyterhub jupyterhub/jupyterhub --values values.yaml',
    '',
    ...movingLines(input, picture, 'z2jh'),
  ]);
  return `${header}\n\n${doc.toString()}`;
}
