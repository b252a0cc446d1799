// Lint: eslint's and typescript-eslint's recommended rules over the project's TypeScript.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'node_modules/**', '.tap/**', 'coverage/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  { files: ['cli/**', 'bench/**', 'scripts/**', 'test/**'], rules: { 'no-console': 'off' } },
  // The per-event path (ingest, rule engine, history, and the rules bench's readings): no object
  // spread followed by new keys. On Node 20, once optimised, each such object gets a hidden class
  // of its own, and every later read of it misses (docs/bench.md, session 33).
  {
    files: ['core/events.ts', 'broker/ingest*.ts', 'rules/engine.ts', 'rules/home-state.ts', 'rules/baseline.ts', 'rules/baseline-book.ts', 'rules/watermark.ts', 'rules/presence.ts', 'history/history-writer.ts', 'history/line-batch.ts', 'bench/rules.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: ':function ObjectExpression > SpreadElement ~ Property',
        message: 'A spread followed by keys gives each object its own hidden class on Node 20 once optimised: use Object.assign({}, a, { … }) or write the object out (docs/bench.md, session 33).',
      }],
    },
  },
);
