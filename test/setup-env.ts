import { afterEach } from 'vitest';
import { killTracked } from './helpers.js';
/**
 * Hermetic runs: whatever environment `npm test` is started in (a GitHub Actions job, a terminal with FORCE_COLOR,
 * a shell that exported POOLRUN_QUEUE), the programs the tests start see none of what changes poolrun's output or
 * behaviour. Every spawn inherits the test worker's process.env (execa merges it in), so it is cleaned here, once,
 * before any test file runs; a test that wants one of these sets it on its own spawn. POOLRUN_SPAWN is let through:
 * .ci/run runs the suite once per spawn path (native, node).
 */
const LEAKS =
  /^(GITHUB_ACTIONS|CI|FORCE_COLOR|NO_COLOR|NODE_DISABLE_COLORS|TERM|COLORTERM|TMUX|COLUMNS|LINES|POOLRUN_(?!SPAWN$).*)$/;

for (const name of Object.keys(process.env)) if (LEAKS.test(name)) delete process.env[name];

// Whatever a test started and left running (an assertion failed before it ended it) is killed after the test.
afterEach(() => {
  killTracked();
});
