import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Interop tests spawn Go peers and move hundreds of MiB; two cores: run files one at a time.
    fileParallelism: false,
    pool: 'forks',
    // After the whole suite, nothing a test started may still run (test/leak-check.global.ts).
    globalSetup: ['test/leak-check.global.ts'],
  },
});
