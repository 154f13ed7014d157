// Builds the teacher GUI into dist/renderer/: the TypeScript under renderer/ compiled as browser
// ES modules (renderer/tsconfig.json), then its HTML and CSS copied beside them. No bundler: the
// browser loads the modules as they are, and the hub serves them at <base>hub/admin/static/.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const source = 'renderer';
const output = join('dist', 'renderer');

// From scratch, so a module deleted from renderer/ is not served from an old build.
rmSync(output, { recursive: true, force: true });
const tsc = spawnSync('npx', ['tsc', '-p', join(source, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
for (const name of readdirSync(source)) {
  if (name.endsWith('.html') || name.endsWith('.css')) cpSync(join(source, name), join(output, name));
}
