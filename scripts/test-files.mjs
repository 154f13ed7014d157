// The test files under a folder, by name ending: shared by the full run and the fast loop.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir` whose name ends with `ending` (`.test.js` compiled, `.test.ts` from source). */
export function testFiles(dir, ending) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path, ending);
    return entry.name.endsWith(ending) ? [path] : [];
  });
}
