/**
 * The macOS sandbox of one student's Jupyter server: a Seatbelt profile (SBPL) run by
 * `sandbox-exec`. It enforces what the Linux sandbox (bubblewrap) does: the system and the Python
 * environment readable but not writable; writes only in the server's own folders; no classmate's
 * folder, no hub data, nothing of the teacher's; no other process. Every server runs as the
 * teacher's macOS user, so Unix permissions separate none of this: the profile is the only wall.
 *
 * Shape: `(allow default)`, then denials, then narrower allowances. A `(deny default)` profile must
 * list every Mach service, sysctl and IOKit class that Python, its C extensions, compilers and pip
 * touch, and those lists change with each macOS release (Chromium keeps one per release); a missing
 * entry fails a student's kernel in a way nobody can diagnose in a classroom. What must hold here is
 * narrower and can be said as denials: the files above, other processes, and the few ways to have a
 * program started, or a file read, outside the sandbox on the student's behalf.
 *
 * How Seatbelt decides, as others measured it on real Macs: among the rules that match, the last in
 * the profile wins, except that a rule naming one operation (`file-read-metadata`) outranks one naming
 * a family (`file-read*`) wherever it stands. This profile names a single operation only where it is
 * meant to win. Paths are matched as the kernel resolved them, links followed: `/tmp/x` is seen as
 * `/private/tmp/x`, so rules name the resolved form.
 *
 * Folders: each rule names a subtree; they are written from the shallowest to the deepest, so the
 * deepest folder around a path decides for it. `/Users` is hidden, the teacher's conda environment
 * inside it is read-only, the hub's data dir is hidden, and this server's runtime folder inside that
 * is read-write again. Where two rules name the same folder the stricter comes last.
 *
 * Pure: no file is read, so the profile can be generated, and tested, anywhere.
 */
import { posix } from 'node:path';
import type { Launcher } from './launcher.js';
import type { SandboxPlace } from './place.js';

const SANDBOX_EXEC = '/usr/bin/sandbox-exec';

/** What a server may do in a folder and everything under it. */
type Access = 'read-write' | 'read-only' | 'hidden';

interface Region {
  /** Canonical: absolute, normalised, in the spelling Seatbelt sees (see {@link canonical}). */
  path: string;
  access: Access;
  /** Why the rule is there; written above it in the profile, for whoever reads a denial on a Mac. */
  role: string;
}

/**
 * Folders every account, or every server of this account, shares. Hidden unless one of the
 * server's own places lies inside.
 */
const SHARED_FOLDERS: readonly Region[] = [
  { path: '/Users', access: 'hidden', role: "every account's home, the teacher's included" },
  { path: '/Volumes', access: 'hidden', role: 'other disks: USB sticks, network shares, backups' },
  { path: '/private/tmp', access: 'hidden', role: 'the temporary folder every process shares' },
  { path: '/private/var/tmp', access: 'hidden', role: 'the other temporary folder every process shares' },
  {
    path: '/private/var/folders',
    access: 'hidden',
    role: "per-account temporary and cache folders: the teacher's, and so every student's server's",
  },
];

/** The stricter of two rules on one folder is written last, and so wins. */
const STRICTNESS: Record<Access, number> = { 'read-write': 0, 'read-only': 1, hidden: 2 };

/**
 * Running a program is a way of reading it (a classmate's compiled homework), so `process-exec`
 * follows `file-read*`. A Unix socket is a channel to whatever listens on it (Docker's socket under
 * the teacher's home is the whole machine), so the server connects only to sockets in folders it may
 * write.
 */
const FOLDER_RULES: Record<Access, (within: string, socketsWithin: string) => string[]> = {
  'read-write': (within, socketsWithin) => [
    `(allow file-read* file-write* process-exec ${within})`,
    `(allow network-outbound ${socketsWithin})`,
  ],
  'read-only': (within, socketsWithin) => [
    `(allow file-read* process-exec ${within})`,
    `(deny file-write* ${within})`,
    `(deny network-outbound ${socketsWithin})`,
  ],
  hidden: (within, socketsWithin) => [
    `(deny file-read* file-write* process-exec ${within})`,
    `(deny network-outbound ${socketsWithin})`,
  ],
};

/**
 * Other processes. Only the server, its kernels and their children (this same sandbox) can be
 * signalled or inspected: the hub and a classmate's kernel hold tokens in memory and environment.
 */
const OTHER_PROCESSES = [
  '(deny signal)',
  '(allow signal (target self) (target same-sandbox))',
  '(deny process-info*)',
  '(allow process-info* (target self) (target same-sandbox))',
  // Bare process ids reveal nothing, and psutil (Jupyter's resource display) starts from the list.
  '(allow process-info-listpids)',
  // Another process's arguments and environment come through sysctl, which process-info* does not
  // cover. The kernel checks a per-process name (kern.procargs2.<pid>), hence a prefix; a process's
  // own stay readable.
  '(deny sysctl-read (sysctl-name-prefix "kern.procargs"))',
  // task_for_pid: control of another process.
  '(deny mach-priv*)',
];

/**
 * Ways to have something done outside the sandbox: a launchd job (`launchctl submit`); a document
 * opened through Launch Services (`open x.command` runs it in Terminal, unsandboxed); Apple events
 * (osascript telling Terminal to `do script`); preferences, which cfprefsd reads and writes in the
 * teacher's ~/Library on the caller's behalf (another app's settings, Terminal's start-up command);
 * the clipboard; and Spotlight, which answers from an index of every file the teacher can read.
 */
const WAYS_OUT = [
  '(deny job-creation)',
  '(deny lsopen)',
  '(deny appleevent-send)',
  '(deny user-preference-read user-preference-write)',
  '(deny mach-lookup',
  '  (global-name "com.apple.coreservices.launchservicesd")',
  '  (global-name "com.apple.coreservices.appleevents")',
  '  (global-name "com.apple.pasteboard.1")',
  '  (global-name "com.apple.metadata.mds"))',
];

/**
 * Writes: none, but in the server's own folders (the folder rules) and the devices a process writes
 * to in ordinary life. /dev/stdout and /dev/stderr are links into /dev/fd, the process's own
 * descriptors; /dev/dtracehelper is where dyld registers a program's DTrace probes (Python has
 * some); /dev/ptmx is where a Jupyter terminal gets its pseudo-terminal.
 */
const WRITES = [
  '(deny file-write*)',
  '(allow file-write*',
  '  (literal "/dev/null")',
  '  (literal "/dev/zero")',
  '  (literal "/dev/random")',
  '  (literal "/dev/urandom")',
  '  (literal "/dev/dtracehelper")',
  '  (literal "/dev/tty")',
  '  (literal "/dev/stdout")',
  '  (literal "/dev/stderr")',
  '  (subpath "/dev/fd")',
  '  (literal "/dev/ptmx"))',
];

/**
 * Devices no folder rule covers. Every terminal on the Mac is the teacher's user's, the teacher's own
 * Terminal windows included: reading /dev/ttysNNN takes their keystrokes, a sudo password among them.
 * A terminal the sandbox opened itself (openpty on /dev/ptmx, for a Jupyter terminal) carries the
 * `com.apple.sandbox.pty` extension and stays usable, as in OpenAI Codex's profile. Packet capture
 * (/dev/bpf*, which Wireshark's installer opens to the teacher's group) would show every token on
 * loopback; a raw disk would bypass every folder rule.
 */
const DEVICES = [
  '(deny file-read* file-write*',
  '  (regex #"^/dev/ttys[0-9]+$")',
  '  (literal "/dev/console")',
  '  (regex #"^/dev/bpf[0-9]*$")',
  '  (regex #"^/dev/r?disk"))',
  '(allow file-read* file-write*',
  '  (require-all (regex #"^/dev/ttys[0-9]+$") (extension "com.apple.sandbox.pty")))',
];

/** macOS's limit on a path, its terminating NUL included (PATH_MAX). */
const PATH_MAX = 1024;

/** Top-level links into /private: the kernel resolves them before Seatbelt sees a path. */
const PRIVATE_LINKS = ['/tmp', '/var', '/etc'];

/**
 * Since macOS 10.15 these folders are firmlinks into the data volume, reachable under a second
 * spelling: `/Users/x` is also `/System/Volumes/Data/Users/x`. Seatbelt is expected to see the first
 * whichever was opened; a hostile student will try the second, and a rule for it costs nothing, so
 * every folder rule is written for both (list from /usr/share/firmlinks).
 */
const DATA_VOLUME = '/System/Volumes/Data';
const FIRMLINKED = ['/Applications', '/Library', '/Users', '/Volumes', '/cores', '/opt', '/private', '/usr/local'];

/** The sandbox-exec profile (SBPL) for one server. */
export function seatbeltProfile(place: SandboxPlace): string {
  const regions = regionsOf(place);
  return [
    '(version 1)',
    "; Lectern: the sandbox of one student's Jupyter server, written by server/spawner/sandbox/seatbelt.ts.",
    '; Of the rules that match, the last wins; the folder rules go from the shallowest folder to the deepest.',
    '(allow default)',
    '',
    '; Other processes',
    ...OTHER_PROCESSES,
    '',
    '; Ways out of the sandbox',
    ...WAYS_OUT,
    '',
    '; Writes',
    ...WRITES,
    '',
    '; Terminals and raw devices',
    ...DEVICES,
    '',
    ...folderRules(regions),
    ...traversalRules(regions),
  ].join('\n');
}

/** The command line that runs `program args` under sandbox-exec with that profile: ['/usr/bin/sandbox-exec', '-p', profile, program, ...args]. */
export function seatbeltCommand(place: SandboxPlace, program: string, args: string[]): string[] {
  // sandbox-exec would look a bare name up in PATH, and read a leading "-" as one of its own options.
  if (!program.startsWith('/')) throw new Error(`sandbox-exec needs the program as an absolute path, not ${JSON.stringify(program)}`);
  return [SANDBOX_EXEC, '-p', seatbeltProfile(place), program, ...args];
}

/** Runs servers under sandbox-exec, each with its own profile; TMPDIR is the server's private folder. */
export const seatbeltLauncher: Launcher = {
  sandbox: 'sandbox-exec',
  wrap: ([program = '', ...args], place) => ({ command: seatbeltCommand(place, program, args), environment: { TMPDIR: place.tmpDir }, reportsServerPid: false }),
};

function regionsOf(place: SandboxPlace): Region[] {
  const regions: Region[] = [
    ...SHARED_FOLDERS,
    { path: canonical(place.home, 'home'), access: 'read-write', role: "home: the student's folder" },
    { path: canonical(place.runtimeDir, 'runtimeDir'), access: 'read-write', role: "runtimeDir: this server's Jupyter connection files" },
    { path: canonical(place.tmpDir, 'tmpDir'), access: 'read-write', role: "tmpDir: this server's temporary folder" },
    ...place.readOnly.map((path, i): Region => ({ path: canonical(path, `readOnly[${i}]`), access: 'read-only', role: `readOnly[${i}]` })),
    ...place.hidden.map((path, i): Region => ({ path: canonical(path, `hidden[${i}]`), access: 'hidden', role: `hidden[${i}]` })),
  ];
  // Inside a writable folder the server may rename the folders around a narrower rule, and a rule
  // names a path, not what was moved out of it.
  for (const writable of regions.filter((region) => region.access === 'read-write')) {
    const trapped = regions.find((region) => region.access !== 'read-write' && region.path !== writable.path && isWithin(region.path, writable.path));
    if (trapped) {
      throw new Error(
        `sandbox: the ${trapped.access} ${JSON.stringify(trapped.path)} lies inside the writable ${JSON.stringify(writable.path)}, ` +
          'where the server could rename a folder around it out of its rule',
      );
    }
  }
  return regions;
}

/**
 * `path` checked and put in the one spelling Seatbelt sees, or an Error naming `field`. The caller
 * resolves other links (the contract of `SandboxPlace`); this function reads no file.
 */
function canonical(path: string, field: string): string {
  const shown = JSON.stringify(path);
  // NUL cannot cross exec, and no real folder name holds a control character: refusing them all keeps
  // each rule on its own line for whoever reads the profile, and no path can end a line early.
  if ([...path].some((character) => character < ' ' || character === '\u007f')) throw new Error(`sandbox ${field} ${shown} holds a control character such as a newline or NUL`);
  if (!path.startsWith('/')) throw new Error(`sandbox ${field} ${shown} is not an absolute path`);
  // Only the kernel knows where ".." leads through a link; resolving it here could name another folder.
  if (path.split('/').includes('..')) throw new Error(`sandbox ${field} ${shown} contains "..": resolve it first`);
  if (Buffer.byteLength(path) >= PATH_MAX) throw new Error(`sandbox ${field} is longer than macOS allows a path (${PATH_MAX - 1} bytes)`);

  let resolved = posix.normalize(path);
  if (resolved.length > 1 && resolved.endsWith('/')) resolved = resolved.slice(0, -1);
  const onDataVolume = resolved.startsWith(`${DATA_VOLUME}/`) ? resolved.slice(DATA_VOLUME.length) : null;
  if (onDataVolume !== null && FIRMLINKED.some((root) => isWithin(onDataVolume, root))) resolved = onDataVolume;
  if (PRIVATE_LINKS.some((link) => isWithin(resolved, link))) resolved = `/private${resolved}`;
  // Above the data volume's root a folder holds every account's files under their second spelling,
  // and, shallower than the folders it holds, would undo their rules (see FIRMLINKED).
  if (isWithin(DATA_VOLUME, resolved)) throw new Error(`sandbox ${field} ${shown} holds the whole disk`);
  return resolved;
}

/** Every spelling under which the kernel might show Seatbelt this path. */
function spellings(path: string): string[] {
  return FIRMLINKED.some((root) => isWithin(path, root)) ? [path, `${DATA_VOLUME}${path}`] : [path];
}

function folderRules(regions: readonly Region[]): string[] {
  // A folder named twice with the same access is written once.
  const unique = new Map(regions.map((region) => [`${region.access} ${region.path}`, region]));
  return [...unique.values()]
    .sort((a, b) => depth(a.path) - depth(b.path) || STRICTNESS[a.access] - STRICTNESS[b.access])
    .flatMap((region) => {
      const subpaths = spellings(region.path).map((path) => `(subpath ${sbplString(path)})`);
      const sockets = subpaths.map((subpath) => `(remote unix-socket ${subpath})`);
      return [`; ${region.role}`, ...FOLDER_RULES[region.access](subpaths.join(' '), sockets.join(' ')), ''];
    });
}

/**
 * The folders above a readable place that a hidden folder would refuse, opened to stat only: Python
 * finds its prefix, and realpath() its answer, by stat-ing every component down to the place. A
 * listing, or any other name beside the path, stays refused. `file-read-metadata` names one operation,
 * so this rule outranks the folder rules' `file-read*` wherever it stands.
 */
function traversalRules(regions: readonly Region[]): string[] {
  const folders = new Set<string>();
  for (const region of regions) {
    if (region.access === 'hidden') continue;
    for (let folder = posix.dirname(region.path); folder !== '/'; folder = posix.dirname(folder)) {
      if (accessAt(regions, folder) === 'hidden') folders.add(folder);
    }
  }
  if (folders.size === 0) return [];
  const filters = [...folders].sort().flatMap(spellings).map((folder) => `  (literal ${sbplString(folder)})`);
  return ['; the folders above a place: stat only, so that the place can be reached', '(allow file-read-metadata', ...filters, ')'];
}

/** What the folder rules decide for `path`: the deepest region around it, the stricter on a tie. */
function accessAt(regions: readonly Region[], path: string): Access | undefined {
  let decided: Region | undefined;
  for (const region of regions) {
    if (!isWithin(path, region.path)) continue;
    const deeper = decided === undefined || depth(region.path) > depth(decided.path);
    const stricter = decided !== undefined && region.path === decided.path && STRICTNESS[region.access] > STRICTNESS[decided.access];
    if (deeper || stricter) decided = region;
  }
  return decided?.access;
}

/** An SBPL string literal: only a backslash and a double quote are special inside one. */
function sbplString(text: string): string {
  return `"${text.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

/** `path` is `folder` or lies under it: "/a" holds "/a/b" but not "/ab". */
function isWithin(path: string, folder: string): boolean {
  return folder === '/' || path === folder || path.startsWith(`${folder}/`);
}

function depth(path: string): number {
  return path.split('/').length;
}
