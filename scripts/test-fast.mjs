// The fast loop while developing: runs test files from source under tsx, with no lint, type-check or
// build first. `npm test` (all of those, then every file) stays what CI runs.
//
//   npm run test:unit -- [text…]          test/unit files whose path contains any text (all, without one)
//   npm run test:integration -- [text…]   the same for test/integration and test/e2e
//
// The browser tests and the CLI's run the built GUI and CLI: `npm run build` first for those.
import { spawnSync } from 'node:child_process';
import { testFiles } from './test-files.mjs';

const SUITES = { unit: ['test/unit'], integration: ['test/integration', 'test/e2e'] };
const [suite, ...texts] = process.argv.slice(2);
if (!(suite in SUITES)) {
  console.error(`usage: node scripts/test-fast.mjs ${Object.keys(SUITES).join('|')} [text…]`);
  process.exit(2);
}

const files = SUITES[suite].flatMap((dir) => testFiles(dir, '.test.ts')).filter((file) => texts.length === 0 || texts.some((text) => file.includes(text)));
if (files.length === 0) {
  console.error(`No ${suite} test file's path contains ${texts.map((text) => JSON.stringify(text)).join(' or ')}.`);
  process.exit(2);
}
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-timeout=900000', ...files], { stdio: 'inherit' });
process.exit(run.status ?? 1);
