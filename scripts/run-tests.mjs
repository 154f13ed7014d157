// The test command: lint, type-check and build, then every test file under node's test runner.
// Fails with install instructions when a prerequisite the tests drive is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { testFiles } from './test-files.mjs';

const prerequisites = [
  ['/usr/bin/jupyterhub-singleuser', 'Debian package jupyterhub'],
  ['/usr/bin/jupyterhub', 'Debian package jupyterhub'],
  ['/usr/bin/chromium', 'Debian package chromium'],
  ['/usr/bin/bwrap', 'Debian package bubblewrap'],
  ['/usr/sbin/nginx', 'Debian package nginx'],
];
const missing = prerequisites.filter(([path]) => !existsSync(path));
if (missing.length > 0) {
  for (const [path, pkg] of missing) console.error(`Missing ${path} (${pkg}).`);
  console.error('Install everything the tests need with: scripts/setup.sh --for-tests');
  process.exit(1);
}
// The isolation tests run students' servers in bubblewrap sandboxes, which need user namespaces.
const sandbox = spawnSync('/usr/bin/bwrap', ['--unshare-all', '--share-net', '--as-pid-1', '--ro-bind', '/', '/', '--', 'true'], { encoding: 'utf8' });
if (sandbox.status !== 0) {
  console.error(`bubblewrap cannot make a sandbox on this machine: ${sandbox.stderr.trim() || sandbox.error?.message}`);
  console.error('The tests need unprivileged user namespaces: see the README, "Students are isolated", for how to allow them.');
  process.exit(1);
}

function step(label, command, args) {
  console.log(`\n== ${label}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${label} failed.`);
    process.exit(result.status ?? 1);
  }
}

step('lint', 'npx', ['eslint', '.']);
// The hub and tests, then the teacher GUI (scripts/build-renderer.mjs): `npm run build` does both.
step('type-check and build', 'npm', ['run', '--silent', 'build']);

const only = process.argv.slice(2);
const files = testFiles('dist/test', '.test.js').filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
// The timeout holds for each test file as a whole too: a file of real servers can take several
// minutes on a busy machine (scripts/test-under-load.sh). No --test-force-exit: it can end a file's
// process before all of its results are reported, and a file's tests would go missing unnoticed.
// The slowest files are kept in a file (see scripts/slowest-files.mjs), printed once the run is over.
const slowest = 'test-artifacts/slowest-files.txt';
mkdirSync('test-artifacts', { recursive: true });
rmSync(slowest, { force: true });
const reporters = [
  // As node picks by itself: spec on a terminal, TAP in a log.
  `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
  '--test-reporter-destination=stdout',
  '--test-reporter=./scripts/slowest-files.mjs',
  '--test-reporter-destination=stdout',
];
const tests = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=900000', ...reporters, ...files], {
  stdio: 'inherit',
  env: { ...process.env, LECTERN_SLOWEST_FILES: slowest },
});
if (existsSync(slowest)) process.stdout.write(readFileSync(slowest, 'utf8'));
if (tests.status !== 0) {
  console.error('tests failed.');
  process.exit(tests.status ?? 1);
}
