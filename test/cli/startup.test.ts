/**
 * The first worker (a thread, or a process with --mode process) starts before the CLI has loaded
 * (pool/prestart.ts). It must be the same worker as any other: its jobs carry the run's token, so the watchdog
 * finds what they leave behind.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs, waitFor } from '../helpers.js';
import { modes, startPoolrun, survivors, waitForPids, watchdogsOf, writeJobs } from './failure-helpers.js';

const temp = useTempDirs();

describe.each(modes)('the worker started ahead of the CLI (%s mode)', (mode) => {
  it("gives its jobs the run's token, the same as a worker started later", async () => {
    const dir = temp();
    // Two at once on two workers: the first runs on the early thread, the second on one started by the pool.
    // Each waits for the other to have started (not a sleep: on a loaded machine the first could end before the
    // second worker is up, and run both); on one worker alone they give up after 20 s and the check fails.
    const both = (me: string, other: string) =>
      `touch ${dir}/${me}; i=0; while [ ! -e ${dir}/${other} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo "$POOLRUN_RUN_ID $POOLRUN_WORKER"`;
    const file = writeJobs(dir, [
      { id: 'a', run: both('a', 'b') },
      { id: 'b', run: both('b', 'a') },
    ]);
    const r = await poolrun(['-q', '-m', mode, '-w', '2', file]);
    expect(r.code).toBe(0);
    const [a, b] = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(a![0]).toMatch(/^[0-9a-f]{16}$/);
    expect(b![0]).toBe(a![0]);
    expect([a![1], b![1]].sort()).toEqual(['1', '2']);
  });

  it('poolrun SIGKILLed: the watchdog finds a process that left its job group by that token', async () => {
    const dir = temp();
    const escaped = join(dir, 'escaped');
    // The only job, so it runs on the early thread; setsid takes its sleep out of the job's process group.
    const file = writeJobs(dir, [`setsid sleep 60 & echo $! >> ${escaped}; sleep 60`]);
    const child = startPoolrun(['-m', mode, '-w', '1', '--kill-after', '500ms', file]);
    const pids = await waitForPids(escaped, 1);
    expect(survivors(pids)).toHaveLength(1);
    // The watchdog starts with the run's first job: a kill in the few ms before it exists is not this test.
    expect(await waitFor(() => watchdogsOf(child.pid!).length > 0, 20_000)).toBe(true);
    child.kill('SIGKILL');
    await child;
    expect(await waitFor(() => survivors(pids).length === 0, 1500)).toBe(true);
  });

  it('a run that has no use for it (a wrong guess of the mode, --dry-run) behaves as before', async () => {
    const dir = temp();
    const file = writeJobs(dir, [{ id: 'p', run: 'echo "$POOLRUN_RUN_ID"' }]);
    // A joblog named like a mode option: the early look at the arguments takes it for one and starts a
    // worker of the other mode, which the run must end unused.
    const other = mode === 'thread' ? 'process' : 'thread';
    const p = await poolrun(['-q', '--joblog', `-m${other}`, '--mode', mode, file], { cwd: dir });
    expect(p.code).toBe(0);
    expect(p.stdout.trim()).toMatch(/^[0-9a-f]{16}$/);
    expect(readFileSync(join(dir, `-m${other}`), 'utf8')).toContain('echo');
    const d = await poolrun(['--dry-run', '-m', mode, file]);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('echo');
  });
});
