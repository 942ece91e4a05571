// ESLint (flat config): JavaScript's and typescript-eslint's recommended rules, without type
// information so that `npm run lint` stays fast; tsc does the type checking.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'docs/api/', 'node_modules/', 'bench/results/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Destructuring that reassigns some of its names stays one `let`.
    rules: {
      'prefer-const': ['error', { destructuring: 'all' }],
      // `const { dropped: _dropped, ...rest } = x` names what it leaves out.
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Node scripts in plain JavaScript: their globals (process, console, ...) are Node's.
    files: ['**/*.mjs', '**/*.js'],
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['test/**'],
    rules: {
      // Shapes with holes ([2, , 3]) are inputs the tests reject on purpose.
      'no-sparse-arrays': 'off',
      // A failing case is re-thrown with its replay recipe; the message carries the cause.
      'preserve-caught-error': 'off',
    },
  },
);
