// Lint config: typescript-eslint's recommended rules plus the few this codebase relies on.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**'] },
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
