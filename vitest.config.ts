import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The caller's GITHUB_ACTIONS, FORCE_COLOR, POOLRUN_* … never reach the programs under test.
    setupFiles: ['test/setup-env.ts'],
    // dist/ (which the CLI and the library tests run) is rebuilt once when src/ is newer.
    globalSetup: ['test/global-setup.ts'],
    // Tests start real processes and measure loose timings on a 2-core machine: keep the load sane.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
