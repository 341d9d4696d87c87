// ESLint flat config: typescript-eslint's strict, type-checked rule sets over src/, test/ and scripts/.
// A rule is turned off or relaxed here only with a one-line reason beside it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'puppet-module/**', 'fixtures/**', 'bin/**', 'docs/**', 'examples/**'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    // A disable comment that no longer silences anything fails, so stale exceptions do not pile up.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      // Numbers in messages (counts, ports, line numbers) read as themselves; strict forbids them only for want of a locale.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // With noUncheckedIndexedAccess every index is possibly undefined; `m[1]!` after a match that has the group and `xs[i]!` in a bounded loop state a known fact.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `() => resolve()` and `(x) => void f(x)`-style shorthands for void callbacks are the idiom; Prettier keeps them on one line.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // An empty arrow is the explicit no-op (an ignored rejection, a silent logger); empty named functions and methods still fail.
      '@typescript-eslint/no-empty-function': ['error', { allow: ['arrowFunctions'] }],
      // Omitting a key by destructuring it away (`const { a: _a, ...rest } = o`) is the idiom for "o without a".
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // An async method that implements a Promise-returning interface need not await: a throw in it still becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      // `s || fallback` on a string deliberately treats '' as unset (an empty environment variable, an empty joined list).
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
      // Re-rejecting a caught value passes it on unchanged; wrapping it would change what callers see.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // The plain-JavaScript scripts are outside tsconfig.json: lint them without type information.
    files: ['**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
