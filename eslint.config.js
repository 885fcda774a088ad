// ESLint flat config (`npm run lint`). Correctness rules only: the recommended sets of ESLint and
// typescript-eslint, the latter with type information so that promise misuse (a forgotten `await`,
// an async function where a callback must be synchronous) is caught. No formatting rules: layout is
// not enforced by a tool here, and linting must never require a mass reformat.
import js from '@eslint/js'
import {defineConfig} from 'eslint/config'
import tseslint from 'typescript-eslint'

// The Node globals the plain-JS files use (no extra package for a dozen names).
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'performance', 'globalThis', 'TextEncoder', 'TextDecoder'].map((name) => [name, 'readonly']),
)

export default defineConfig(
  {ignores: ['dist/**', 'native/target/**', 'node_modules/**']},
  {
    files: ['**/*.{js,mjs}'],
    extends: [js.configs.recommended],
    languageOptions: {globals: nodeGlobals},
    // `const {omitted, ...rest} = x` is how a field is dropped from a copy.
    rules: {'no-unused-vars': ['error', {ignoreRestSiblings: true}]},
  },
  {
    // The playground page runs in a browser, as a classic script.
    files: ['assets/playground/**/*.js'],
    languageOptions: {sourceType: 'script', globals: Object.fromEntries(['document', 'fetch', 'navigator', 'Error', 'JSON'].map((name) => [name, 'readonly']))},
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    // tsconfig.test.json covers src/ and test/ (tsconfig.json only src/).
    languageOptions: {parserOptions: {project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname}},
    rules: {
      // `async` is often required by an interface (oclif's run(), async test doubles); an async
      // function without await is not a bug. Unawaited promises are: no-floating-promises stays on.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a parameter an interface requires but this implementation ignores.
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', ignoreRestSiblings: true}],
    },
  },
  {
    // Tests read JSON printed by the CLI and drive the untyped reference implementation: `any` is
    // their input, and assertions (not types) are what check it.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
)
