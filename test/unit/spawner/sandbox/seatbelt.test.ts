/**
 * The macOS sandbox profile, judged by what it decides rather than by its text: a small SBPL reader
 * and evaluator below apply Seatbelt's rule order (of the matching rules the last wins, except that a
 * rule naming one operation outranks one naming a family such as `file-read*`) to sample requests.
 * The evaluator knows only the filters the profile is meant to use and throws on any other, so a new
 * kind of rule cannot pass untested. What only a Mac can show (that macOS itself agrees) is listed
 * in the report that came with this file, not assumed here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SandboxPlace } from '../../../../server/spawner/sandbox/place.js';
import { seatbeltCommand, seatbeltProfile } from '../../../../server/spawner/sandbox/seatbelt.js';

const TEACHER = '/Users/teacher';
const STUDENTS = '/Users/teacher/Lectern/students';
const HUB_DATA = '/Users/teacher/Library/Application Support/Lectern';
const CONDA_ENV = '/Users/teacher/miniconda3/envs/class';

/** Alice's server, laid out as a teacher's Mac would have it: everything of interest under /Users. */
const alice: SandboxPlace = {
  home: `${STUDENTS}/alice`,
  runtimeDir: `${HUB_DATA}/runtime/alice`,
  // Given as the temporary folder's usual spelling; /var is a link to /private/var.
  tmpDir: '/var/folders/xy/T0abc/T/lectern-alice',
  readOnly: [CONDA_ENV, `${HUB_DATA}/jupyter-config`, `${CONDA_ENV}/bin/jupyter-lab`],
  hidden: [HUB_DATA, STUDENTS, TEACHER],
};

describe('macOS sandbox profile: files', () => {
  const profile = read(seatbeltProfile(alice));

  // [path, may read, may write, why]
  const rows: Array<[string, boolean, boolean, string]> = [
    [`${STUDENTS}/alice`, true, true, 'her own folder'],
    [`${STUDENTS}/alice/homework.ipynb`, true, true, 'a notebook in her folder'],
    [`${STUDENTS}/alice/.local/lib/python3.12/site-packages/x.py`, true, true, 'what pip --user installs goes to her folder'],
    [`${STUDENTS}/bob/homework.ipynb`, false, false, "a classmate's notebook"],
    [`${STUDENTS}/alice2/homework.ipynb`, false, false, 'a classmate whose name starts with hers: a folder rule is not a string prefix'],
    [`${STUDENTS}/.roster.csv`, false, false, "a file beside the students' folders"],
    [`${TEACHER}/.ssh/id_ed25519`, false, false, "the teacher's keys"],
    [`${TEACHER}/Documents/exam-answers.pdf`, false, false, "the teacher's documents"],
    [`${TEACHER}/Library/Keychains/login.keychain-db`, false, false, "the teacher's keychain"],
    [`${CONDA_ENV}/bin/python3.12`, true, false, "the course's Python, under the teacher's home"],
    [`${CONDA_ENV}/lib/python3.12/site-packages/numpy/__init__.py`, true, false, 'its packages'],
    ['/Users/teacher/miniconda3/envs/other/bin/python', false, false, 'another environment of the teacher'],
    [`${HUB_DATA}/lectern.sqlite`, false, false, "the hub's database (password hashes)"],
    [`${HUB_DATA}/jupyter-config/jupyter_server_config.json`, true, false, "the hub's Jupyter config"],
    [`${HUB_DATA}/runtime/alice/kernel-1.json`, true, true, "her kernels' connection files"],
    [`${HUB_DATA}/runtime/bob/kernel-2.json`, false, false, "a classmate's kernel key"],
    ['/private/var/folders/xy/T0abc/T/lectern-alice/tmpabc', true, true, 'her temporary folder'],
    ['/private/var/folders/xy/T0abc/T/lectern-bob/tmpdef', false, false, "a classmate's temporary folder"],
    ['/private/var/folders/xy/T0abc/C/com.apple.Safari/cache.db', false, false, "the teacher's caches"],
    ['/private/tmp/com.apple.launchd.abc/Listeners', false, false, 'the shared /tmp'],
    ['/private/var/tmp/x', false, false, 'the other shared temporary folder'],
    ['/Volumes/USB/grades.xlsx', false, false, 'a USB stick'],
    ['/Users/Shared/handout.pdf', false, false, 'the folder every account shares'],
    ['/Users/bob/Desktop/x', false, false, 'another account'],
    ['/usr/lib/libSystem.B.dylib', true, false, 'the system'],
    ['/System/Library/Frameworks/Python.framework/Versions/Current/Python', true, false, 'the system'],
    ['/Library/Frameworks/Python.framework/Versions/3.12/bin/python3', true, false, "python.org's Python"],
    ['/opt/homebrew/bin/python3', true, false, "Homebrew's Python"],
    ['/private/etc/hosts', true, false, 'system settings'],
    [`/System/Volumes/Data${TEACHER}/.ssh/id_ed25519`, false, false, "the teacher's keys through the data volume's spelling"],
    [`/System/Volumes/Data${STUDENTS}/bob/homework.ipynb`, false, false, "a classmate's notebook through the data volume's spelling"],
    [`/System/Volumes/Data${STUDENTS}/alice/homework.ipynb`, true, true, 'her own notebook through the data volume'],
    ['/System/Volumes/Data/private/tmp/x', false, false, 'the shared /tmp through the data volume'],
  ];
  for (const [path, read, write, why] of rows) {
    it(`${read ? 'reads' : 'does not read'} and ${write ? 'writes' : 'does not write'} ${why}`, () => {
      assert.equal(profile.allows({ operation: 'file-read-data', path }), read, `read ${path}`);
      assert.equal(profile.allows({ operation: 'file-read-xattr', path }), read, `read the attributes of ${path}`);
      assert.equal(profile.allows({ operation: 'process-exec', path }), read, `run ${path}`);
      assert.equal(profile.allows({ operation: 'file-write-data', path }), write, `write ${path}`);
      assert.equal(profile.allows({ operation: 'file-write-unlink', path }), write, `delete or rename ${path}`);
      assert.equal(profile.allows({ operation: 'file-write-create', path }), write, `create ${path}`);
    });
  }

  it("opens no allow rule on a classmate's files: nothing but the defaults could ever let them through", () => {
    const bob = `${STUDENTS}/bob/homework.ipynb`;
    const opening = profile.rules.filter(
      (rule) => rule.action === 'allow' && rule.filters.length > 0 && ['file-read-data', 'file-write-data', 'process-exec'].some((operation) => rule.applies({ operation, path: bob })),
    );
    assert.deepEqual(opening.map((rule) => rule.text), []);
  });

  it('lets the server stat, but not list, the folders it must pass through to reach its own', () => {
    for (const folder of ['/Users', TEACHER, '/Users/teacher/Lectern', STUDENTS, '/Users/teacher/miniconda3/envs', HUB_DATA, '/private/var/folders/xy/T0abc/T']) {
      assert.ok(profile.allows({ operation: 'file-read-metadata', path: folder }), `stat ${folder}`);
      assert.ok(!profile.allows({ operation: 'file-read-data', path: folder }), `list ${folder}`);
      assert.ok(!profile.allows({ operation: 'file-write-create', path: `${folder}/new` }), `create in ${folder}`);
    }
    for (const beside of [`${STUDENTS}/bob`, `${TEACHER}/.ssh`, `${TEACHER}/Documents`, `${HUB_DATA}/runtime/bob`]) {
      assert.ok(!profile.allows({ operation: 'file-read-metadata', path: beside }), `stat ${beside}`);
    }
  });

  it('writes to the devices a process writes to, and reads no terminal it did not open itself', () => {
    for (const device of ['/dev/null', '/dev/zero', '/dev/tty', '/dev/dtracehelper', '/dev/fd/1', '/dev/ptmx']) {
      assert.ok(profile.allows({ operation: 'file-write-data', path: device }), device);
    }
    // The teacher's Terminal window: its keystrokes.
    assert.ok(!profile.allows({ operation: 'file-read-data', path: '/dev/ttys003' }));
    assert.ok(!profile.allows({ operation: 'file-write-data', path: '/dev/ttys003' }));
    // A Jupyter terminal the server opened itself through /dev/ptmx.
    const own = { path: '/dev/ttys007', extensions: ['com.apple.sandbox.pty'] };
    assert.ok(profile.allows({ operation: 'file-read-data', ...own }));
    assert.ok(profile.allows({ operation: 'file-write-data', ...own }));
    for (const device of ['/dev/bpf0', '/dev/bpf', '/dev/disk0', '/dev/rdisk3s1', '/dev/console']) {
      assert.ok(!profile.allows({ operation: 'file-read-data', path: device }), device);
    }
    assert.ok(!profile.allows({ operation: 'file-write-data', path: '/dev/disk0' }));
  });
});

describe('macOS sandbox profile: which rule wins', () => {
  const base: SandboxPlace = { home: '/opt/class/students/alice', runtimeDir: '/opt/class/runtime/alice', tmpDir: '/opt/class/tmp/alice', readOnly: [], hidden: [] };

  it('keeps a hidden folder hidden inside a read-only one', () => {
    const profile = read(seatbeltProfile({ ...base, readOnly: ['/opt/class'], hidden: ['/opt/class/data', '/opt/class/students'] }));
    assert.ok(profile.allows({ operation: 'file-read-data', path: '/opt/class/jupyter-config/x.json' }));
    assert.ok(!profile.allows({ operation: 'file-read-data', path: '/opt/class/data/lectern.sqlite' }));
    assert.ok(!profile.allows({ operation: 'file-read-data', path: '/opt/class/students/bob/x' }));
    assert.ok(profile.allows({ operation: 'file-write-data', path: '/opt/class/students/alice/x' }));
  });

  it('decides the same whatever order the caller lists folders in', () => {
    const paths = ['/opt/class/data/x', '/opt/class/bin/jupyter', '/opt/class/jupyter-config/x', '/opt/class/students/bob/x', '/opt/class/students/alice/x'];
    const decisions = (place: SandboxPlace): boolean[] => {
      const profile = read(seatbeltProfile(place));
      return paths.flatMap((path) => ['file-read-data', 'file-write-data'].map((operation) => profile.allows({ operation, path })));
    };
    const listed = { ...base, readOnly: ['/opt/class', '/opt/class/bin/jupyter'], hidden: ['/opt/class/data', '/opt/class/students'] };
    const reversed = { ...base, readOnly: ['/opt/class/bin/jupyter', '/opt/class'], hidden: ['/opt/class/students', '/opt/class/data'] };
    assert.deepEqual(decisions(reversed), decisions(listed));
    assert.deepEqual(decisions(listed), [false, false, true, false, true, false, false, false, true, true]);
  });

  it('lets the stricter rule win where two name the same folder', () => {
    const profile = read(seatbeltProfile({ ...base, readOnly: ['/opt/shared', '/opt/both'], hidden: ['/opt/both'] }));
    assert.ok(profile.allows({ operation: 'file-read-data', path: '/opt/shared/x' }));
    assert.ok(!profile.allows({ operation: 'file-read-data', path: '/opt/both/x' }));
    const hiddenHome = read(seatbeltProfile({ ...base, hidden: [base.home] }));
    assert.ok(!hiddenHome.allows({ operation: 'file-read-data', path: `${base.home}/x` }));
  });

  it('refuses a narrower rule inside a writable folder, where renaming a folder around it would undo it', () => {
    assert.throws(() => seatbeltProfile({ ...base, readOnly: [`${base.home}/course/bin`] }), /the read-only .*inside the writable .*rename/);
    assert.throws(() => seatbeltProfile({ ...base, hidden: [`${base.runtimeDir}/secret`] }), /hidden .*inside the writable/);
    // A temporary folder that holds the shared ones would do the same to them.
    assert.throws(() => seatbeltProfile({ ...base, tmpDir: '/private/var' }), /inside the writable "\/private\/var"/);
  });
});

describe('macOS sandbox profile: paths', () => {
  it('names /tmp, /var and /etc by the /private paths Seatbelt sees, so that their rules match', () => {
    const given = seatbeltProfile({ ...alice, tmpDir: '/tmp/lectern/alice', readOnly: [...alice.readOnly, '/etc/jupyter'] });
    const resolved = seatbeltProfile({ ...alice, tmpDir: '/private/tmp/lectern/alice', readOnly: [...alice.readOnly, '/private/etc/jupyter'] });
    assert.equal(given, resolved);
    assert.doesNotMatch(seatbeltProfile(alice), /"\/(var|tmp|etc)\//);
    const profile = read(given);
    assert.ok(profile.allows({ operation: 'file-write-data', path: '/private/tmp/lectern/alice/x' }));
    assert.ok(!profile.allows({ operation: 'file-read-data', path: '/private/tmp/lectern/bob/x' }));
  });

  it("reads the data volume's spelling of a place as the place, and ignores trailing and doubled slashes", () => {
    const plain = seatbeltProfile(alice);
    assert.equal(seatbeltProfile({ ...alice, home: `/System/Volumes/Data${alice.home}` }), plain);
    assert.equal(seatbeltProfile({ ...alice, home: `${alice.home}/`, hidden: ['/Users//teacher/./Library/Application Support/Lectern', STUDENTS, TEACHER] }), plain);
  });

  it('escapes quotes and backslashes, so that a folder name cannot add a rule', () => {
    const name = `${STUDENTS}/x") (allow file-read* (subpath "/")) ; \\" (deny default`;
    const evil = read(seatbeltProfile({ ...alice, home: name }));
    const plain = read(seatbeltProfile(alice));
    assert.equal(evil.rules.length, plain.rules.length, 'the name added or removed a rule');
    assert.ok(evil.strings.includes(name), 'the name comes back whole from its string literal');
    assert.ok(evil.allows({ operation: 'file-write-data', path: `${name}/notebook.ipynb` }));
    assert.ok(!evil.allows({ operation: 'file-read-data', path: `${TEACHER}/.ssh/id_ed25519` }));
    assert.ok(!evil.allows({ operation: 'file-read-data', path: `${STUDENTS}/bob/x` }));
  });

  // [place change, error, why]
  const refused: Array<[Partial<SandboxPlace>, RegExp, string]> = [
    [{ home: `${STUDENTS}/alice\n(allow file-read*)` }, /home .*control character/, 'a newline'],
    [{ runtimeDir: `${HUB_DATA}/runtime/alice\u0000` }, /runtimeDir .*control character/, 'a NUL, which would end the string exec passes'],
    [{ readOnly: ['/opt/a\rb'] }, /readOnly\[0\] .*control character/, 'a carriage return'],
    [{ home: 'students/alice' }, /home "students\/alice" is not an absolute path/, 'a relative path, which would depend on a working folder'],
    [{ hidden: [''] }, /hidden\[0\] "" is not an absolute path/, 'an empty path'],
    [{ tmpDir: '~/tmp' }, /tmpDir .*not an absolute path/, 'a shell tilde nobody expands'],
    [{ home: `${STUDENTS}/../students/bob` }, /home .*contains "\.\."/, '"..", which only the kernel can resolve through links'],
    [{ readOnly: ['/'] }, /readOnly\[0\] "\/" holds the whole disk/, 'the root'],
    [{ readOnly: ['/System/Volumes'] }, /holds the whole disk/, "a folder above the data volume, which holds every account's files"],
    [{ home: `/${'a'.repeat(1100)}` }, /home is longer than macOS allows/, 'a path longer than macOS allows'],
  ];
  for (const [change, error, why] of refused) {
    it(`refuses ${why}`, () => assert.throws(() => seatbeltProfile({ ...alice, ...change }), error));
  }
});

describe('macOS sandbox profile: other processes and ways out', () => {
  const profile = read(seatbeltProfile(alice));

  it('signals and inspects only its own processes', () => {
    for (const operation of ['signal', 'process-info-pidinfo', 'process-info-pidfdinfo', 'process-info-rusage']) {
      assert.ok(profile.allows({ operation, target: 'self' }), `${operation} itself`);
      assert.ok(profile.allows({ operation, target: 'same-sandbox' }), `${operation} its kernels`);
      assert.ok(!profile.allows({ operation, target: 'others' }), `${operation} the hub or a classmate`);
    }
    assert.ok(profile.allows({ operation: 'process-info-listpids' }), 'bare process ids, for psutil');
  });

  it("reads no other process's arguments or environment, and takes no task port", () => {
    assert.ok(!profile.allows({ operation: 'sysctl-read', sysctl: 'kern.procargs2.4242' }));
    assert.ok(!profile.allows({ operation: 'sysctl-read', sysctl: 'kern.procargs.4242' }));
    assert.ok(profile.allows({ operation: 'sysctl-read', sysctl: 'hw.ncpu' }));
    assert.ok(!profile.allows({ operation: 'mach-priv-task-port', target: 'others' }));
  });

  it('cannot have a program started, or a preference read or written, outside the sandbox', () => {
    for (const operation of ['job-creation', 'lsopen', 'appleevent-send', 'user-preference-read', 'user-preference-write']) {
      assert.ok(!profile.allows({ operation }), operation);
    }
    for (const service of ['com.apple.coreservices.launchservicesd', 'com.apple.coreservices.appleevents', 'com.apple.pasteboard.1', 'com.apple.metadata.mds']) {
      assert.ok(!profile.allows({ operation: 'mach-lookup', service }), service);
    }
    assert.ok(profile.allows({ operation: 'mach-lookup', service: 'com.apple.system.opendirectoryd.libinfo' }), 'the services Python needs stay reachable');
  });

  it('keeps the network, but no Unix socket outside its own folders', () => {
    assert.ok(profile.allows({ operation: 'network-bind' }), 'the server listens on loopback');
    assert.ok(profile.allows({ operation: 'network-outbound' }), "it reaches the hub's API");
    assert.ok(profile.allows({ operation: 'network-outbound', socket: '/private/var/run/mDNSResponder' }), 'name resolution');
    assert.ok(profile.allows({ operation: 'network-outbound', socket: `${STUDENTS}/alice/.jupyter.sock` }));
    assert.ok(!profile.allows({ operation: 'network-outbound', socket: `${TEACHER}/.docker/run/docker.sock` }), 'Docker is the whole machine');
    assert.ok(!profile.allows({ operation: 'network-outbound', socket: '/private/tmp/com.apple.launchd.x/Listeners' }), "the teacher's ssh-agent");
    assert.ok(!profile.allows({ operation: 'network-outbound', socket: `${CONDA_ENV}/run.sock` }), 'a read-only folder');
  });
});

describe('macOS sandbox profile: form', () => {
  it('is one well-formed SBPL profile that starts from allow-default', () => {
    const text = seatbeltProfile(alice);
    assert.ok(text.startsWith('(version 1)\n'));
    const profile = read(text);
    assert.equal(profile.defaults.length, 1);
    assert.equal(profile.defaults[0]?.action, 'allow');
    const outsideLiterals = text.replace(/#?"(?:[^"\\]|\\.)*"/g, '').replace(/;[^\n]*/g, '');
    assert.equal((outsideLiterals.match(/\(/g) ?? []).length, (outsideLiterals.match(/\)/g) ?? []).length);
  });

  it('reads no file and changes nothing it is given', () => {
    const place = deepFreeze({ ...alice, home: '/Users/nobody/does/not/exist', readOnly: [...alice.readOnly], hidden: [...alice.hidden] });
    assert.equal(seatbeltProfile(place), seatbeltProfile(place));
  });

  it('runs the program under /usr/bin/sandbox-exec with that profile, its arguments untouched', () => {
    const args = ['--ServerApp.port=40123', '--ServerApp.root_dir=/Users/teacher/Lectern/students/alice', '-p', 'a "quoted" arg'];
    const command = seatbeltCommand(alice, `${CONDA_ENV}/bin/jupyter-lab`, args);
    assert.deepEqual(command, ['/usr/bin/sandbox-exec', '-p', seatbeltProfile(alice), `${CONDA_ENV}/bin/jupyter-lab`, ...args]);
  });

  it('refuses a program that is not an absolute path: sandbox-exec would search PATH or read it as an option', () => {
    assert.throws(() => seatbeltCommand(alice, 'jupyter-lab', []), /absolute path/);
    assert.throws(() => seatbeltCommand(alice, '-f', ['/tmp/profile.sb']), /absolute path/);
  });
});

// --- A small reader and evaluator of the SBPL this profile uses ---

type Datum = { symbol: string } | { string: string } | { regex: string } | Datum[];

interface Request {
  operation: string;
  path?: string;
  /** Whose process a signal or process-info request is about. */
  target?: 'self' | 'same-sandbox' | 'others';
  sysctl?: string;
  service?: string;
  /** The path of the Unix socket a network request connects to. */
  socket?: string;
  /** Sandbox extensions the process holds for `path`. */
  extensions?: string[];
}

interface Rule {
  action: 'allow' | 'deny';
  operations: string[];
  filters: Datum[];
  text: string;
  applies(request: Request): boolean;
}

interface Profile {
  rules: Rule[];
  defaults: Rule[];
  /** Every string literal, unescaped. */
  strings: string[];
  allows(request: Request): boolean;
}

function read(text: string): Profile {
  const forms = parse(text);
  const strings: string[] = [];
  const collect = (datum: Datum): void => {
    if (Array.isArray(datum)) datum.forEach(collect);
    else if ('string' in datum) strings.push(datum.string);
  };
  forms.forEach(collect);

  const rules: Rule[] = [];
  const defaults: Rule[] = [];
  for (const form of forms) {
    assert.ok(Array.isArray(form) && form.length > 0, 'every top-level form is a list');
    const [head, ...rest] = form;
    const action = symbolOf(head);
    if (action === 'version') continue;
    assert.ok(action === 'allow' || action === 'deny', `unknown top-level form ${action}`);
    const operations = rest.filter((datum) => !Array.isArray(datum)).map(symbolOf);
    const filters = rest.filter((datum) => Array.isArray(datum));
    assert.ok(operations.length > 0, 'a rule names an operation');
    const rule: Rule = {
      action,
      operations,
      filters,
      text: show(form),
      applies: (request) => operations.some((operation) => covers(operation, request.operation) !== null) && (filters.length === 0 || filters.some((filter) => matches(filter, request))),
    };
    (operations.includes('default') ? defaults : rules).push(rule);
  }

  return {
    rules,
    defaults,
    strings,
    allows(request) {
      // Seatbelt's order: a rule naming the operation itself outranks one naming its family; within
      // each, the last matching rule wins; with none, the default.
      let exact: Rule | undefined;
      let family: Rule | undefined;
      for (const rule of rules) {
        if (!rule.applies(request)) continue;
        if (rule.operations.some((operation) => covers(operation, request.operation) === 'exact')) exact = rule;
        else family = rule;
      }
      const decided = exact ?? family ?? defaults.at(-1);
      assert.ok(decided, 'the profile has a default');
      return decided.action === 'allow';
    },
  };
}

function covers(ruleOperation: string, operation: string): 'exact' | 'family' | null {
  if (ruleOperation === operation) return 'exact';
  if (ruleOperation.endsWith('*') && operation.startsWith(ruleOperation.slice(0, -1))) return 'family';
  return null;
}

function matches(filter: Datum, request: Request): boolean {
  assert.ok(Array.isArray(filter), 'a filter is a list');
  const [head, ...args] = filter;
  const name = symbolOf(head);
  const path = request.path;
  switch (name) {
    case 'subpath':
      return path !== undefined && (path === stringOf(args[0]) || path.startsWith(`${stringOf(args[0])}/`));
    case 'literal':
      return path === stringOf(args[0]);
    case 'regex':
      return path !== undefined && new RegExp(regexOf(args[0])).test(path);
    case 'require-all':
      return args.every((arg) => matches(arg, request));
    case 'require-any':
      return args.some((arg) => matches(arg, request));
    case 'require-not':
      return !matches(args[0] as Datum, request);
    case 'extension':
      return request.extensions?.includes(stringOf(args[0])) ?? false;
    case 'target': {
      const target = symbolOf(args[0]);
      assert.ok(['self', 'same-sandbox'].includes(target), `target ${target}`);
      // A process is in its own sandbox.
      return request.target === target || (target === 'same-sandbox' && request.target === 'self');
    }
    case 'sysctl-name-prefix':
      return request.sysctl?.startsWith(stringOf(args[0])) ?? false;
    case 'global-name':
      return request.service === stringOf(args[0]);
    case 'remote': {
      assert.equal(symbolOf(args[0]), 'unix-socket', 'only Unix-socket remotes are used');
      return request.socket !== undefined && matches(args[1] as Datum, { operation: request.operation, path: request.socket });
    }
    default:
      throw new Error(`the test evaluator does not know the filter ${name}: teach it, and test the rule`);
  }
}

/** S-expressions, strings (`"..."` with `\\` and `\"`), regexes (`#"..."`), symbols and `;` comments. */
function parse(text: string): Datum[] {
  const top: Datum[] = [];
  const open: Datum[][] = [top];
  let i = 0;
  while (i < text.length) {
    const character = text.charAt(i);
    if (character === ';') {
      while (i < text.length && text.charAt(i) !== '\n') i++;
    } else if (/\s/.test(character)) {
      i++;
    } else if (character === '(') {
      const list: Datum[] = [];
      open.at(-1)?.push(list);
      open.push(list);
      i++;
    } else if (character === ')') {
      assert.ok(open.length > 1, `unbalanced ")" at ${i}`);
      open.pop();
      i++;
    } else if (character === '"' || (character === '#' && text.charAt(i + 1) === '"')) {
      const regex = character === '#';
      i += regex ? 2 : 1;
      let value = '';
      for (;;) {
        assert.ok(i < text.length, 'unterminated string');
        const next = text.charAt(i);
        if (next === '"') break;
        if (next === '\\') {
          const escaped = text.charAt(i + 1);
          assert.ok(escaped === '\\' || escaped === '"', `unknown escape \\${escaped}`);
          value += escaped;
          i += 2;
        } else {
          value += next;
          i++;
        }
      }
      i++;
      open.at(-1)?.push(regex ? { regex: value } : { string: value });
    } else {
      const start = i;
      while (i < text.length && !/[\s()";]/.test(text.charAt(i))) i++;
      open.at(-1)?.push({ symbol: text.slice(start, i) });
    }
  }
  assert.equal(open.length, 1, 'unbalanced "("');
  return top;
}

function symbolOf(datum: Datum | undefined): string {
  assert.ok(datum && !Array.isArray(datum) && 'symbol' in datum, `expected a symbol, got ${JSON.stringify(datum)}`);
  return datum.symbol;
}

function stringOf(datum: Datum | undefined): string {
  assert.ok(datum && !Array.isArray(datum) && 'string' in datum, `expected a string, got ${JSON.stringify(datum)}`);
  return datum.string;
}

function regexOf(datum: Datum | undefined): string {
  assert.ok(datum && !Array.isArray(datum) && 'regex' in datum, `expected a regex, got ${JSON.stringify(datum)}`);
  return datum.regex;
}

function show(datum: Datum): string {
  if (Array.isArray(datum)) return `(${datum.map(show).join(' ')})`;
  if ('symbol' in datum) return datum.symbol;
  return 'string' in datum ? JSON.stringify(datum.string) : `#${JSON.stringify(datum.regex)}`;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) deepFreeze(inner as object);
  return Object.freeze(value);
}
