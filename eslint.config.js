// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Each SDK lives in one place; the core imports only xstate, zod and itself. */
const sdks = ['express', 'grammy', '@grammyjs/*', 'better-sqlite3', 'pg', 'pino', 'prom-client', 'undici'];
const restrict = (allowed = []) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          group: sdks.filter((name) => !allowed.includes(name)),
          message: 'This SDK belongs to one folder only (see shared/docs/style.md).',
        },
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['src/**/*.ts', 'flows/**/*.ts'], rules: { 'no-console': 'error', ...restrict() } },
  {
    files: ['src/core/**/*.ts', 'flows/**/*.ts', 'src/commerce/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!xstate$|zod$|\\.{1,2}/|node:).*',
              message: 'core, commerce and flows import only xstate, zod, node built-ins and the project itself.',
            },
          ],
        },
      ],
    },
  },
  { files: ['src/core/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!xstate$|zod$|\\./).*', message: 'src/core imports only xstate, zod and its own files.' }] }] } },
  { files: ['src/stores/sqlite.ts', 'src/stores/sqlite/**/*.ts'], rules: restrict(['better-sqlite3']) },
  { files: ['src/stores/postgres.ts', 'src/stores/postgres/**/*.ts'], rules: restrict(['pg']) },
  { files: ['src/channels/telegram/**/*.ts'], rules: restrict(['grammy', '@grammyjs/*', 'undici']) },
  { files: ['src/channels/messenger/**/*.ts', 'src/channels/whatsapp/**/*.ts', 'src/channels/graph/**/*.ts', 'src/channels/http-transport.ts', 'src/jobs/**/*.ts'], rules: restrict(['undici']) },
  { files: ['src/server/**/*.ts', 'src/api/**/*.ts'], rules: restrict(['express', 'pino', 'prom-client']) },
  { files: ['src/cli.ts', 'src/cli/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'], rules: { 'no-console': 'off' } },
);
