import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.hitl/', 'test-results/', 'clients/typescript/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through shared/env.ts at cold start; domain code never reads process.env.',
        },
      ],
    },
  },
  {
    files: ['shared/env.ts', 'local/**', 'test/**', 'infra/**', 'functions/**', 'clients/**', 'examples/**', '*.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
