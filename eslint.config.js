// Lint config: typescript-eslint's recommended rules plus the few this codebase relies on, and the
// layering rule below.
import path from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The hub's folders (and its two top-level files), lowest first. Each may import only those before
 * it, so the import graph has no cycle and runs downward, folder by folder: the proxy and the
 * spawner know nothing of the hub, accounts or the database; the config knows nothing of accounts.
 * A new folder fails the lint until it is given its place here.
 */
const SERVER_LAYERS = [
  'logging',
  'net',
  'html',
  'package-info.ts',
  'rbac',
  'proxy',
  'culler',
  'notebooks',
  'config',
  'spawner',
  'store',
  'auth',
  'lan',
  'servers',
  'handouts',
  'doctor',
  'hub',
  'index.ts',
  'cli',
];

const ROOT = path.dirname(new URL(import.meta.url).pathname);

/** `server/hub/app.ts` → ['server', 'hub']; `server/index.ts` → ['server', 'index.ts']. */
function placeOf(file) {
  const [top, second] = path.relative(ROOT, file).split(path.sep);
  return [top, second];
}

/** Why importing `source` from `file` breaks the layering, or null when it does not. */
function layeringProblem(file, source) {
  const [fromTop, fromFolder] = placeOf(file);
  if (fromTop === 'server' && (source === 'electron' || source.startsWith('electron/'))) return 'server/ runs without Electron: only main/ may import it';
  if (!source.startsWith('.')) return null;
  const target = path.resolve(path.dirname(file), source).replace(/\.js$/, '.ts');
  const [toTop, toFolder] = placeOf(target);
  if (fromTop === 'renderer' && toTop !== 'renderer') return `renderer/ is the web GUI: it talks to the hub over HTTP and imports nothing of ${toTop}/`;
  if (fromTop !== 'server') return null;
  if (toTop !== 'server') return `server/ imports nothing of ${toTop}/ (it runs headless, without the desktop app)`;
  if (fromFolder === toFolder) return null;
  const from = SERVER_LAYERS.indexOf(fromFolder);
  const to = SERVER_LAYERS.indexOf(toFolder);
  if (from === -1) return `server/${fromFolder} has no place in SERVER_LAYERS (eslint.config.js): give it one`;
  if (to === -1) return `server/${toFolder} has no place in SERVER_LAYERS (eslint.config.js): give it one`;
  if (to > from) return `server/${fromFolder} may not import server/${toFolder}, which is above it in SERVER_LAYERS (eslint.config.js): move what both need down`;
  return null;
}

const layering = {
  meta: { type: 'problem', schema: [], docs: { description: 'imports run downward only: see SERVER_LAYERS' } },
  create(context) {
    const check = (node) => {
      const source = node.source;
      if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
      const problem = layeringProblem(context.filename, source.value);
      if (problem) context.report({ node: source, message: problem });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'renderer/api/openapi.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
      eqeqeq: ['error', 'smart'],
      'prefer-const': 'error',
    },
  },
  {
    files: ['server/**/*.ts', 'renderer/**/*.ts'],
    plugins: { lectern: { rules: { layering } } },
    rules: { 'lectern/layering': 'error' },
  },
  {
    // The CLI and the test runner talk to a terminal on purpose.
    files: ['server/cli/**', 'scripts/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Browser scripts served to student pages.
    files: ['assets/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    // The teacher GUI runs in a browser or Electron's sandboxed window (its tsconfig has no Node types).
    files: ['renderer/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
);
