/**
 * The one definition of Lectern's configuration. Types, defaults, help text, validation and the
 * generated reference (`docs/config-reference.md`) all come from `configSchema`, so they cannot drift.
 *
 * Every object is strict: a misspelt key is an error, never silently ignored. Every field carries
 * `.describe()` help text and a default. Three extra metadata keys are read by `load.ts` and
 * `reference.ts`:
 * - `allowed`: how to say what a value may be ("an integer from 0 to 65535"), when the phrase generated
 *   from the field's type would be unclear;
 * - `defaultText`: the default as documentation shows it, when the real default depends on the machine;
 * - `env`: the environment variable that sets the field (kept to a few on purpose).
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { normalizeJoinCode } from './join-code.js';
import { LOG_LEVELS } from '../logging/logger.js';
import { validateRole } from '../rbac/roles.js';

/** How a student's server can be run: `jupyterhub-singleuser`, or plain JupyterLab, Notebook or Jupyter Server (spawner/discovery.ts). */
export const LAUNCH_MODES = ['singleuser', 'lab', 'notebook', 'server'] as const;
export type LaunchMode = (typeof LAUNCH_MODES)[number];

/**
 * The operating system's per-user application-data folder for Lectern: where the database, user
 * folders and logs live unless `dataDir` says otherwise. Parameters exist so tests can ask about
 * every platform from any platform.
 */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
): string {
  // Build paths with the target platform's separator, not the running one's.
  const join = platform === 'win32' ? path.win32.join : path.posix.join;
  if (platform === 'win32') {
    return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'Lectern');
  }
  if (platform === 'darwin') {
    return join(home, 'Library', 'Application Support', 'Lectern');
  }
  // XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME;
  return join(xdg && path.posix.isAbsolute(xdg) ? xdg : join(home, '.local', 'share'), 'lectern');
}

const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Collapses repeated slashes (so `//host` can never become a protocol-relative URL) and ends with one `/`. */
function normaliseBaseUrl(value: string): string {
  return `${value.replace(/\/+/g, '/').replace(/\/$/, '')}/`;
}

/** `network.serverPorts` as ports: `[first, last]`, or null for "0" (the system chooses). */
export function portRange(value: string): [first: number, last: number] | null {
  if (value === '0') return null;
  const [first = 0, last = 0] = value.split('-').map(Number);
  return [first, last];
}

function validPortRange(value: string): boolean {
  const range = portRange(value);
  return range === null || (range[0] >= 1 && range[1] <= 65535 && range[0] <= range[1]);
}

const seconds = (help: string, fallback: number) =>
  z.number().positive().default(fallback).describe(help).meta({ allowed: 'a positive number of seconds' });

const tlsSchema = z
  .strictObject({
    cert: z.string().min(1).describe('Path to the TLS certificate chain (PEM).').meta({ allowed: 'a file path' }),
    key: z.string().min(1).describe('Path to the TLS private key (PEM).').meta({ allowed: 'a file path' }),
  })
  .optional()
  .describe(
    'Serve the public listener over HTTPS with this certificate and key. Unset: plain HTTP, which is ' +
      'what a classroom LAN usually uses.',
  );

const networkSchema = z
  .strictObject({
    ip: z
      .string()
      .min(1)
      .default('0.0.0.0')
      .describe('Address the public listener binds; 127.0.0.1 keeps the hub to this machine, :: also accepts IPv6.')
      .meta({ allowed: 'an IP address or host name' }),
    port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(8000)
      .describe('Port of the public listener; 0 picks a free port.')
      .meta({ env: 'LECTERN_PORT' }),
    baseUrl: z
      .string()
      .regex(/^\/[^?#\s]*$/)
      .overwrite(normaliseBaseUrl)
      .default('/')
      .describe('URL path prefix of the whole hub, for running behind another server (e.g. /class/). Always ends with one "/".')
      .meta({ allowed: 'a URL path starting with "/" (no "?", "#" or spaces)' }),
    tls: tlsSchema,
    serverOrigins: z
      .enum(['ports', 'shared'])
      .default('ports')
      .describe(
        'How browsers keep students’ servers apart from the hub and from each other. "ports": each server has an origin of ' +
          'its own, a port of serverPorts at the address the browser used, so a page of a student’s server opened by the ' +
          'teacher cannot act as the teacher on the hub. "shared": every server under the hub’s own address (/user/NAME/), as ' +
          'JupyterHub without subdomains; needed behind a reverse proxy that forwards one address, and then a student’s page ' +
          'opened by the teacher can act as the teacher: choose it knowingly.',
      ),
    serverPorts: z
      .string()
      .regex(/^(0|\d{1,5}-\d{1,5})$/)
      .refine(validPortRange, { message: 'must be a range of ports from 1 to 65535 with its first port no higher than its last, or "0"' })
      .default('8001-8200')
      .describe(
        'With serverOrigins "ports": the ports students’ servers get their origins from, one each, kept for the next start ' +
          '(bookmarks keep working). Let them through the firewall as the hub’s port. "0": ports the system chooses.',
      )
      .meta({ env: 'LECTERN_SERVER_PORTS', allowed: 'a range of ports such as "8001-8200", or "0"' }),
  })
  .prefault({})
  .describe('Where students reach the hub.');

const cullerSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Whether idle servers are stopped, to free the machine for others.'),
    idleTimeout: seconds('A server idle (no browser activity, no busy kernel) this long is stopped.', 3600),
    every: seconds('How often servers are checked.', 60),
  })
  .prefault({})
  .describe(
    'The idle culler: stops servers nobody has used for a while. A server with a busy kernel (a long computation) is ' +
      'never stopped.',
  );

const proxySchema = z
  .strictObject({
    apiPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .nullable()
      .default(null)
      .describe(
        "Port of configurable-http-proxy's REST API (GET/POST/DELETE /api/routes), so external tools can read and " +
          'change the routes. null: no API.',
      )
      .meta({ allowed: 'an integer from 0 to 65535, or null' }),
    apiIp: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('Address the route API binds. Keep it on loopback: the token is its only protection.'),
    apiToken: z
      .string()
      .min(16)
      .optional()
      .describe('Token clients send as `Authorization: token <apiToken>` (CHP\'s CONFIGPROXY_AUTH_TOKEN). Required with apiPort.'),
  })
  .refine((proxy) => proxy.apiPort === null || proxy.apiToken !== undefined, {
    message: 'needs apiToken when apiPort is set: the route API never runs without authentication',
    path: ['apiToken'],
  })
  .prefault({})
  .describe("Lectern's proxy, which forwards students to their servers.");

const serviceSchema = z.strictObject({
  name: z
    .string()
    .max(64)
    .regex(SERVICE_NAME)
    .describe('Name of the service, shown in logs and the admin pages.')
    .meta({
      allowed: 'a name of at most 64 characters: lowercase letters, digits, "_" and "-", starting with a letter or digit',
    }),
  apiToken: z
    .string()
    .min(16)
    .describe('Secret the service sends as `Authorization: token <apiToken>`. Redacted in logs.'),
  admin: z.boolean().default(false).describe('Whether the service has admin rights over all users and servers.'),
});

const servicesSchema = z
  .array(serviceSchema)
  .default([])
  .describe("API clients for automation (scripts, graders), like JupyterHub's `services` with `api_token`.")
  .superRefine((services, ctx) => {
    const firstByName = new Map<string, number>();
    const firstByToken = new Map<string, number>();
    services.forEach((service, index) => {
      const sameName = firstByName.get(service.name);
      if (sameName !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `must be unique, but "${service.name}" is also the name of services[${sameName}]`,
        });
      } else firstByName.set(service.name, index);
      const sameToken = firstByToken.get(service.apiToken);
      if (sameToken !== undefined) {
        // Never echo the token: this message ends up in terminals and logs.
        ctx.addIssue({
          code: 'custom',
          path: [index, 'apiToken'],
          message: `must be unique, but it is the same as the token of services[${sameToken}]`,
        });
      } else firstByToken.set(service.apiToken, index);
    });
  });

const roleSchema = z
  .strictObject({
    name: z.string().min(1).describe('Role name, as JupyterHub names roles (letters, digits, "-", "_", ".").'),
    description: z.string().default('').describe('What the role is for.'),
    scopes: z.array(z.string()).default([]).describe('JupyterHub scopes the role grants, filters included (e.g. read:users!group=class-7b).'),
    users: z.array(z.string()).default([]).describe('Users who hold the role.'),
    groups: z.array(z.string()).default([]).describe('Groups whose members hold the role.'),
    services: z.array(z.string()).default([]).describe('Services (from `services`) that hold the role.'),
  })
  .superRefine((role, ctx) => {
    try {
      validateRole(role);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });

const rolesSchema = z
  .array(roleSchema)
  .default([])
  .describe(
    'Custom roles, as JupyterHub’s load_roles: scopes granted to the listed users, groups and services. ' +
      'The built-in admin role cannot be changed.',
  );

const authSchema = z
  .strictObject({
    sessionMaxAgeDays: z
      .number()
      .positive()
      .default(14)
      .describe('Days a login stays valid before the user must sign in again.')
      .meta({ allowed: 'a positive number of days' }),
    minPasswordLength: z
      .number()
      .int()
      .min(1)
      // bcrypt ignores everything past 72 bytes, so a longer minimum could never be honoured.
      .max(72)
      .default(8)
      .describe('Shortest password accepted when users set or change one.'),
    loginMode: z
      .enum(['accounts', 'join-code', 'first-use'])
      .default('accounts')
      .describe(
        'How students get in. "accounts": accounts the teacher creates, with passwords. "join-code": students create ' +
          'their own account at /hub/join after typing the class join code. "first-use": accounts the teacher lists ' +
          'without a password; the first password a student types becomes theirs, and names not listed are refused.',
      ),
    joinApproval: z
      .boolean()
      .default(false)
      .describe('With loginMode "join-code": a new account cannot log in until the teacher approves it.'),
    joinCode: z
      .string()
      .regex(/^[A-Za-z0-9 -]+$/)
      .refine((code) => normalizeJoinCode(code).length >= 4, { message: 'must have at least 4 letters or digits' })
      .nullable()
      .default(null)
      .describe(
        'With loginMode "join-code": the class join code, fixed. null: Lectern generates a short one (such as K7P-2QX), ' +
          'keeps it across restarts, and the teacher can replace it with a new one. Redacted in logs.',
      )
      .meta({ allowed: 'letters, digits, spaces and "-", with at least 4 letters or digits; or null' }),
  })
  .prefault({})
  .describe('Logins and passwords.');

const spawnerSchema = z
  .strictObject({
    python: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'The Python environment students’ servers run in: its folder or its interpreter, e.g. "/home/t/miniconda3/envs/class" ' +
          'or "C:\\Users\\t\\anaconda3\\python.exe". null: the best one Lectern finds (`lectern doctor` lists them).',
      )
      .meta({ allowed: 'a folder or interpreter path, or null' }),
    launchMode: z
      .enum(['auto', ...LAUNCH_MODES])
      .default('auto')
      .describe(
        'How a server is run: "singleuser" (jupyterhub-singleuser), or plain "lab", "notebook" or "server" behind the ' +
          'proxy’s login check. "auto": the best the environment has, in that order.',
      ),
    command: z
      .array(z.string().min(1))
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'A program to run instead of choosing from the environment, and its first arguments, e.g. ' +
          '["/opt/conda/bin/jupyterhub-singleuser"] or ["jupyter", "lab"]. Its mode is read from its name unless launchMode ' +
          'says otherwise; a program Lectern does not recognise must speak JupyterHub’s single-user protocol. null: chosen by Lectern.',
      )
      .meta({ allowed: 'a non-empty list of non-empty strings, or null' }),
    args: z.array(z.string()).default([]).describe('Extra arguments appended after the ones Lectern passes.'),
    environment: z
      .record(
        z.string().regex(ENV_NAME).meta({
          allowed: 'an environment variable name: letters, digits and "_", not starting with a digit',
        }),
        z.string(),
      )
      .default({})
      .describe(
        'Extra environment variables for every user server. The rest of the environment is an allow-list, ' +
          'never a copy of the hub’s.',
      )
      .meta({
        allowed: 'a mapping of environment variable names (letters, digits and "_", not starting with a digit) to strings',
      }),
    isolation: z
      .enum(['auto', 'sandbox', 'off'])
      .default('auto')
      .describe(
        'Whether each student’s server and its kernels run in a sandbox that shows them only their own folder, the OS and ' +
          'Python (Linux: bubblewrap; macOS: sandbox-exec). "auto": in a sandbox where this computer has one, else without, ' +
          'with a warning. "sandbox": never without one; servers refuse to start where none works. "off": never in one.',
      ),
    forkServer: z
      .boolean()
      .default(true)
      .describe(
        'Start students’ servers by forking one Python process per environment that has imported Jupyter already ' +
          '(Linux): a server then starts in a fraction of the time, and the imported modules’ memory is shared by all of ' +
          'them. Each fork is made the student’s own (her environment, folder and sandbox) before it runs. Each server ' +
          'forks its Python (ipykernel) kernels the same way. Where forking cannot be used (macOS, Windows, a configured ' +
          'spawner.command) servers and kernels start the normal way, and the log and `lectern doctor` say why. false: ' +
          'always the normal way.',
      ),
    memoryLimitMb: z
      .number()
      .int()
      .min(0)
      .default(2048)
      .describe(
        'Most memory one student’s server may use with all its kernels (MiB); past it, its largest kernel is stopped and the ' +
          'student is told why, so one runaway notebook cannot take this computer down. 0 means no limit.',
      ),
    notebookRoot: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Folder holding one folder per user; a user’s files, their server’s starting directory and HOME, are in its "home" ' +
          'folder (users/NAME/home). null: the users folder inside dataDir.',
      )
      .meta({ allowed: 'a folder path, or null' }),
    courseData: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'A folder of datasets and materials for the whole class. Every server sees it at the same path, read-only in the ' +
          'sandbox, as "course-data" in each student’s folder and in the LECTERN_COURSE_DATA environment variable. ' +
          'null: none.',
      )
      .meta({ allowed: 'a folder path, or null' }),
    defaultUrl: z
      .string()
      .default('')
      .describe('Page a user lands on when their server starts, e.g. /lab or /tree. Empty: the server’s own default.'),
    startTimeout: seconds('How long a server may take to start before the start is reported as failed.', 60),
    httpTimeout: seconds('How long a started server may take to answer HTTP before it is reported as failed.', 30),
    concurrentSpawnLimit: z
      .number()
      .int()
      .min(1)
      .default(4)
      .describe(
        'How many servers may be starting at once; later starts wait in a queue, and the progress page shows ' +
          'their place in it. Starting is the heavy part of a server’s life: a laptop starts a few at a time well.',
      ),
    activeServerLimit: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Most servers running at once; further starts are refused with a clear message. 0 means no limit.'),
    minFreeMemoryMb: z
      .number()
      .int()
      .min(0)
      .default(400)
      .describe(
        'A server is not started when the machine has less free memory than this (MiB), so a full classroom ' +
          'does not make the teacher’s laptop swap. 0 turns the check off.',
      ),
    logMaxBytes: z
      .number()
      .int()
      .min(10_000)
      .default(1_000_000)
      .describe('Size at which a server’s log file is rotated; the two previous logs are kept.'),
    allowNamedServers: z
      .boolean()
      .default(false)
      .describe('Whether users may run several named servers besides their default one, as JupyterHub’s allow_named_servers.'),
    namedServerLimitPerUser: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Most named servers one user may have; 0 means no limit.'),
    stopTimeouts: z
      .strictObject({
        interrupt: seconds('Wait after SIGINT (Jupyter’s clean shutdown) before escalating.', 10),
        terminate: seconds('Wait after SIGTERM before escalating to SIGKILL.', 5),
        kill: seconds('Wait after SIGKILL before reporting the server as stuck.', 5),
      })
      .prefault({})
      .describe('How long each step of stopping a server may take (SIGINT, then SIGTERM, then SIGKILL).'),
  })
  .prefault({})
  .describe('How user servers are launched and stopped.');

export const configSchema = z
  .strictObject({
    network: networkSchema,
    dataDir: z
      .string()
      .min(1)
      .default(() => defaultDataDir())
      .describe('Folder for the database, user folders and logs.')
      .meta({
        env: 'LECTERN_DATA_DIR',
        allowed: 'a folder path',
        defaultText:
          "the OS's per-user app-data folder: Linux $XDG_DATA_HOME/lectern or ~/.local/share/lectern, " +
          'macOS ~/Library/Application Support/Lectern, Windows %APPDATA%\\Lectern',
      }),
    logLevel: z.enum(LOG_LEVELS).default('info').describe('Least severe log level written.'),
    adminUsers: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Accounts that are admins. On first start with an empty database the first one (or "teacher" if the ' +
          'list is empty) is created with a generated password.',
      ),
    proxy: proxySchema,
    services: servicesSchema,
    roles: rolesSchema,
    auth: authSchema,
    spawner: spawnerSchema,
    culler: cullerSchema,
  })
  .describe('Lectern configuration.');

/** The resolved configuration: every default applied, every value validated. */
export type LecternConfig = z.output<typeof configSchema>;
/** What a config file may contain: every key optional. */
export type LecternConfigInput = z.input<typeof configSchema>;
