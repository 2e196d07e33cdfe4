/**
 * Issue 16 item 6: `--timeout N%`, a percentage of the median runtime of the jobs that succeeded (GNU parallel's
 * TimeoutQueue). GNU parallel is the oracle for which jobs are killed; end to end, a timed-out job's process tree
 * is gone and its status is timed-out. The sleeps differ by 20x or more, so no case depends on the machine's speed.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import type { ExecutorEvent } from '../../src/executor/executor.js';
import type { Job, JobResult } from '../../src/kinds/types.js';
import { TimeoutPercent, lowerMedian } from '../../src/gnu/timeout.js';
import { gnuOptions } from '../../src/gnu/options.js';
import { BIN, pidAlive, poolrun, readJson, track, useTempDirs, waitFor } from '../helpers.js';

const temp = useTempDirs();
const GNU = '/usr/bin/parallel';

const job = (index: number): Job => ({ id: String(index + 1), index, kind: 'run', run: 'true' });
const started = (index: number): ExecutorEvent => ({
  event: 'started',
  job: job(index),
  attempt: 1,
  worker: 1,
  pid: 1,
  threadId: 0,
  time: 0,
});
const finished = (index: number, status: JobResult['status'], durationMs: number): ExecutorEvent => ({
  event: 'finished',
  job: job(index),
  result: { status, durationMs, error: null } as JobResult,
  output: undefined,
  time: 0,
});

describe('TimeoutPercent (the rule)', () => {
  function harness(percent: number) {
    let now = 0;
    const killed: number[] = [];
    const t = new TimeoutPercent({
      percent,
      now: () => now,
      timeOut: (j) => (killed.push(j.index), true),
    });
    return { t, killed, at: (ms: number) => (now = ms) };
  }

  it('times nothing out until a job has succeeded; then the running ones past N% of the median', () => {
    const { t, killed, at } = harness(200);
    t.event(started(0));
    t.event(started(1));
    at(10_000);
    t.event(started(2)); // job 0 and 1 have run 10 s: no job has succeeded yet, so no limit
    expect(killed).toEqual([]);
    expect(t.limitMs).toBeUndefined();
    t.event(finished(0, 'succeeded', 100)); // limit 200 ms: job 1 (10 s) and job 2 (0 ms)
    expect(t.limitMs).toBe(200);
    expect(killed).toEqual([1]);
    at(10_150);
    t.event(started(3));
    expect(killed).toEqual([1]);
    at(10_201);
    t.event(started(4));
    expect(killed).toEqual([1, 2]);
    t.stop();
  });

  it('counts only the jobs that succeeded (failed and timed-out runtimes do not move the median)', () => {
    const { t, killed, at } = harness(300);
    t.event(started(0));
    t.event(finished(0, 'failed', 5));
    t.event(started(9));
    t.event(finished(1, 'timed-out', 5));
    expect(t.limitMs).toBeUndefined();
    t.event(finished(2, 'succeeded', 100));
    t.event(finished(3, 'succeeded', 300));
    expect(t.limitMs).toBe(300); // lower median of [100, 300] is 100, GNU's element $#/2
    t.event(finished(4, 'succeeded', 200));
    expect(t.limitMs).toBe(600);
    at(700);
    t.event(started(5));
    expect(killed).toEqual([9]);
    t.stop();
  });

  it('fills in the error of a job it timed out', () => {
    const { t, at } = harness(200);
    t.event(started(0));
    t.event(finished(1, 'succeeded', 100));
    at(1000);
    t.event(started(2));
    const e = finished(0, 'timed-out', 1000);
    t.event(e);
    expect((e as { result: JobResult }).result.error?.message).toMatch(/after 200ms \(--timeout 200%/);
    t.stop();
  });

  it('lowerMedian takes the lower middle', () => {
    expect(lowerMedian([1])).toBe(1);
    expect(lowerMedian([1, 2])).toBe(1);
    expect(lowerMedian([1, 2, 3])).toBe(2);
    expect(lowerMedian([1, 2, 3, 4])).toBe(2);
  });

  it('gnuOptions reads N% (and refuses it with --queue, or a bad one)', () => {
    const raw: Parameters<typeof gnuOptions>[0] = { timeout: '250%' };
    expect(gnuOptions(raw, []).options?.timeoutPercent).toBe(250);
    expect(raw.timeout).toBeUndefined();
    expect(() => gnuOptions({ timeout: '0%' }, [])).toThrow(/--timeout/);
    expect(() => gnuOptions({ timeout: '200%', queue: 'redis://x' }, [])).toThrow(/--queue/);
  });
});

async function both(args: string[]) {
  const run = (file: string, a: string[]) =>
    track(execa(file, a, { reject: false, stdin: 'ignore', timeout: 60_000, env: { NO_COLOR: '1' } }));
  const [g, p] = await Promise.all([
    run(GNU, ['--will-cite', ...args]),
    run(process.execPath, [BIN, '-q', ...args]),
  ]);
  const lines = (s: string) => s.split('\n').filter(Boolean).sort();
  return {
    gnu: { code: g.exitCode, out: lines(g.stdout) },
    pool: { code: p.exitCode, out: lines(p.stdout) },
  };
}

describe('--timeout N% against GNU parallel', () => {
  it('kills the job that runs past N% of the median, and no other', async () => {
    // Quick jobs of 0.5 s, not 0.05: 200% of a 60 ms median is 120 ms, which a shell's start-up alone passed on a
    // loaded machine (a clean-clone CI beside two CPU hogs killed a quick job).
    const r = await both([
      '--timeout',
      '200%',
      '-j1',
      'sleep {}; echo {}',
      ':::',
      '0.5',
      '0.5',
      '0.5',
      '8',
      '0.5',
    ]);
    expect(r.pool).toEqual(r.gnu);
    expect(r.pool.out).toEqual(['0.5', '0.5', '0.5', '0.5']);
    expect(r.pool.code).toBe(1);
  });

  it('does not kill a job that runs before any job has succeeded', async () => {
    const r = await both(['--timeout', '200%', '-j1', 'sleep {}; echo {}', ':::', '1', '0.05']);
    expect(r.pool).toEqual(r.gnu);
    expect(r.pool.out).toEqual(['0.05', '1']);
    expect(r.pool.code).toBe(0);
  });

  it('a failed job does not start the clock', async () => {
    const r = await both([
      '--timeout',
      '200%',
      '-j1',
      'sleep {}; echo {}; [ {} != 0.01 ]',
      ':::',
      '0.01',
      '1',
    ]);
    expect(r.pool).toEqual(r.gnu);
    expect(r.pool.out).toEqual(['0.01', '1']);
  });
});

describe('--timeout N% end to end', () => {
  it('kills the whole process tree of a job past the limit; its status is timed-out', async () => {
    const dir = temp();
    const pidFile = join(dir, 'pid');
    const json = join(dir, 'r.json');
    const r = await poolrun(
      [
        '--timeout',
        '300%',
        '-j',
        '2',
        '--json',
        json,
        `case {} in slow) sh -c 'sleep 60' & echo $! > ${pidFile}; wait;; *) sleep 0.05;; esac`,
        ':::',
        'slow',
        'quick',
      ],
      {},
    );
    expect(r.code).toBe(1);
    const doc = readJson(json);
    const slow = doc.results.find((x) => x.id === '1')!;
    expect(slow.status).toBe('timed-out');
    expect(slow.error?.message).toMatch(/--timeout 300%/);
    expect(doc.results.find((x) => x.id === '2')!.status).toBe('succeeded');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(await waitFor(() => !pidAlive(pid), 10_000)).toBe(true);
  });
});
