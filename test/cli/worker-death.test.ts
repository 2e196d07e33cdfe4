/**
 * A worker process that dies in the first moments of a shell job (OOM-killed, killed by hand) must not leave the
 * job running: the main side learns the job's group as soon as it is spawned, whatever the job's options.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { poolrun, useTempDirs, waitFor } from '../helpers.js';
import { readNumbers, survivors } from './failure-helpers.js';

const temp = useTempDirs();

describe('a worker process killed right after it spawned a job', () => {
  it.each([
    ['without a timeout', []],
    ['with a timeout', ['--timeout', '60s']],
  ])('%s: the job is gone when poolrun ends', async (_, extra) => {
    const dir = temp();
    const pids = join(dir, 'pids');
    // The job kills its worker process (its parent) a few ms in (past the addon's brief wait inside the spawn),
    // then goes on as a long sleep in the same process.
    const r = await poolrun([
      '-m',
      'process',
      '-q',
      ...extra,
      '--each',
      `echo $$ >> ${pids}; sleep 0.006; kill -9 $PPID; exec sleep {}`,
      '33',
    ]);
    expect(r.code).toBe(1);
    const [pid] = readNumbers(pids);
    expect(pid).toBeGreaterThan(0);
    expect(await waitFor(() => survivors([pid!]).length === 0, 10_000), `pid ${pid} still runs`).toBe(true);
  });
});
