// Builds the teacher GUI into dist/renderer/: its API types generated from the hub's OpenAPI
// description (renderer/api/openapi.ts, never committed), the TypeScript under renderer/ compiled
// as browser ES modules (renderer/tsconfig.json), then its HTML and CSS copied beside them. No
// bundler: the browser loads the modules as they are, and the hub serves them at
// <base>hub/admin/static/.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const source = 'renderer';
const output = join('dist', 'renderer');
// Built aside, then swapped in: a module deleted from renderer/ is not served from an old build,
// and a hub serving the GUI meanwhile (a test running) never finds the folder half-written.
const staging = `${output}.building-${process.pid}`;

const generate = spawnSync('npm', ['run', '--silent', 'generate:api-types'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (generate.status !== 0) process.exit(generate.status ?? 1);
rmSync(staging, { recursive: true, force: true });
const tsc = spawnSync('npx', ['tsc', '-p', join(source, 'tsconfig.json'), '--outDir', staging], { stdio: 'inherit' });
if (tsc.status !== 0) {
  rmSync(staging, { recursive: true, force: true });
  process.exit(tsc.status ?? 1);
}
for (const name of readdirSync(source)) {
  if (name.endsWith('.html') || name.endsWith('.css')) cpSync(join(source, name), join(staging, name));
}
rmSync(output, { recursive: true, force: true });
renameSync(staging, output);
