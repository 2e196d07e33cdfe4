import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The caller's GITHUB_ACTIONS, FORCE_COLOR, POOLRUN_* … never reach the programs under test.
    setupFiles: ['test/setup-env.ts'],
    // dist/ (which the CLI and the library tests run) is rebuilt once when src/ is newer.
    globalSetup: ['test/global-setup.ts'],
    // Test files spend much of their time waiting on the processes they start (a job's sleep, a kill's grace, a
    // server): two files per core keep the cores busy (2 cores: 533 s → 401 s of wall for the same 2295 tests, the
    // whole run's CPU at 180 %), and every wait in the suite is on a state with a generous ceiling, not a time, so
    // the extra load is what the loaded runs (two CPU hogs beside the suite) already exercise.
    maxWorkers: Math.max(2, Math.min(2 * availableParallelism(), 8)),
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
