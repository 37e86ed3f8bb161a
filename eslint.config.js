// ESLint (flat config) for every TypeScript file of the repository: typescript-eslint's
// recommended rules, plus two type-aware rules that catch lost promises; a disable comment
// that no longer suppresses anything is an error. Generated code (src/gen/protobufjs,
// src/gen/proto-loader: scripts/gen-proto-types.sh) is not linted.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'src/gen/protobufjs/', 'src/gen/proto-loader/', '.scratch/', '.vessel-test/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Tests and benchmarks drive untyped dynamic stubs (ttrpc's service(), grpc-js's
    // loadPackageDefinition) and the test-only vessel.test.v1 proto, which is not generated.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
    },
  },
);
