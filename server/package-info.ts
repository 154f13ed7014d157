/**
 * Where Lectern is installed and which version it is, read from its package.json. Found by walking
 * up from this file, which works from the TypeScript sources and from the compiled `dist/` alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'lectern') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Lectern installation is incomplete: its package.json was not found.');
    dir = parent;
  }
}

export const installRoot = findRoot();

export const lecternVersion = (JSON.parse(readFileSync(join(installRoot, 'package.json'), 'utf8')) as { version: string }).version;
