/**
 * The CLI's first slot in thread mode (src/pool/hybrid.ts): its shell jobs start from the main thread until its
 * thread is ready, then from the thread. Whichever started a job, the job sees the same thing.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FIXTURES, poolrun, readJson, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();

describe('the first slot, from the main thread and from its thread', () => {
  it('jobs see the same environment, in the same order, and run in order; a call waits for the thread', async () => {
    const dir = temp();
    const jobs: unknown[] = Array.from({ length: 24 }, (_, i) => ({
      id: `e${i}`,
      run: 'env | grep -v -e "^POOLRUN_JOB_" -e "^PARALLEL_SEQ="',
    }));
    jobs.splice(12, 0, {
      id: 'c',
      call: { module: join(FIXTURES, 'tasks.mjs'), export: 'square', args: [4] },
    });
    const file = writeJobs(dir, jobs);
    const json = join(dir, 'r.json');
    const r = await poolrun(['-q', '-w', '1', '--json', json, file]);
    expect(r.code, r.stderr).toBe(0);
    const results = readJson(json).results;
    const shell = results.filter((x) => x.kind === 'run');
    expect(shell.map((x) => x.id)).toEqual(Array.from({ length: 24 }, (_, i) => `e${i}`));
    // One environment, byte for byte, wherever each job started (main thread: threadId 0; its thread: > 0).
    expect(new Set(shell.map((x) => x.stdout)).size).toBe(1);
    const call = results.find((x) => x.id === 'c')!;
    expect(call).toMatchObject({ status: 'succeeded', value: 16 });
    expect(call.threadId).toBeGreaterThan(0);
    for (const x of shell) expect(x.pid).toBe(call.pid);
  });
});
