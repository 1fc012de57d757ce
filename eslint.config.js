// `npm run lint` (and `npm test`, before the tests): typescript-eslint with type information on
// src/, test/ and scripts/ (one program: tsconfig.eslint.json), keeping the rules that catch
// defects — floating and misused promises, unsafe `any` flows, unused code, switches that miss a
// case, errors that are not Errors — and leaving out style. The plain JavaScript files (bin/,
// bench/, scripts/) get ESLint's own recommended rules.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/browser/artifacts/**', 'vitest.config.ts'] },
  js.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // style, not defects
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      // control characters in a pattern are what the terminal and XML sanitisers look for
      'no-control-regex': 'off',
    },
  },
  {
    // Tests read JSON (command output, fixtures) and assert on its shape: `any` there is the point.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
