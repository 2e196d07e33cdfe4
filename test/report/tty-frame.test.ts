/* eslint-disable no-control-regex -- these tests look for terminal escape codes */
/**
 * What the live area draws, for inputs the CLI cannot produce yet (a streamed input, whose total is unknown)
 * and for terminal sizes a test pane does not have. The reporter draws into a sink that records every byte.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { stripVTControlCharacters } from 'node:util';
import { TtyReporter } from '../../src/report/tty.js';
import type { Sink } from '../../src/report/sink.js';
import type { ExecutorEvent } from '../../src/executor/executor.js';
import type { Job, JobResult } from '../../src/kinds/types.js';
import { emptySummary } from '../../src/report/types.js';
import stringWidth from 'string-width';

const reporters: TtyReporter[] = [];
afterEach(() => {
  for (const r of reporters.splice(0)) r.end({ summary: emptySummary(), failures: [], stop: undefined });
});

function setup(total: number | undefined, size: { columns: number; rows: number }) {
  let written = '';
  const sink: Sink = {
    stdout: (d) => ((written += d.toString()), true),
    stderr: (d) => ((written += d.toString()), true),
    drained: () => Promise.resolve(),
  };
  const term = { ...size, on: () => undefined, off: () => undefined };
  const startedAt = Date.now();
  const rep = new TtyReporter(
    sink,
    term,
    true,
    { total, workers: 4, startedAt, name: 'x' },
    new Chalk({ level: 0 }),
  );
  reporters.push(rep);
  /** The last frame drawn: what follows the last erase. */
  const frame = () => {
    const last = written.split('\r\x1b[2K').pop()!;
    return stripVTControlCharacters(last.replace(/\x1b\[1A\x1b\[2K/g, '')).split('\n');
  };
  return { rep, frame, written: () => written };
}

const job = (i: number, id = `job-${i}`): Job => ({ id, index: i, kind: 'run', run: 'true' });
const started = (i: number, worker: number, id?: string): ExecutorEvent => ({
  event: 'started',
  job: job(i, id),
  attempt: 1,
  worker,
  pid: 1,
  threadId: 1,
  time: Date.now() - 1500,
});
const finished = (i: number, status: JobResult['status'], durationMs = 1000): ExecutorEvent => ({
  event: 'finished',
  job: job(i),
  output: undefined,
  time: Date.now(),
  result: {
    id: `job-${i}`,
    index: i,
    kind: 'run',
    status,
    exitCode: status === 'succeeded' ? 0 : 1,
    signal: null,
    attempts: 1,
    worker: 1,
    pid: 1,
    threadId: 1,
    startedAt: new Date().toISOString(),
    durationMs,
    stdout: '',
    stderr: '',
    value: null,
    error: null,
  },
});

/** Waits (20 s at most) for a frame drawn after the events given so far: the live area redraws ten times a second. */
async function tick(written: () => string): Promise<void> {
  const n = written().length;
  const end = Date.now() + 20_000;
  while (written().length === n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  expect(written().length, 'no frame was drawn').toBeGreaterThan(n);
}

describe('the live area', () => {
  it('a known total: bar, done/total, failures, running jobs with worker and time, ETA from durations', async () => {
    const { rep, frame, written } = setup(10, { columns: 100, rows: 30 });
    rep.event(started(0, 1));
    rep.event(started(1, 2));
    rep.event(finished(0, 'succeeded'));
    rep.event(finished(1, 'failed'));
    rep.event(started(2, 1));
    rep.event(started(3, 2, 'a-much-longer-job-name'));
    await tick(written);
    const f = frame();
    expect(f[0]).toMatch(/^\S 2\/10 [█░]{10,30} 20% 1 failed 2 running \d+\.\ds ETA \d+\.\ds$/);
    expect(f.slice(1)).toEqual([
      // Started 1.5 s before: a second and a half of slack for a slow draw.
      expect.stringMatching(/^ {2}\S job-2 {19}worker 1 {2}[12]\.\ds$/),
      expect.stringMatching(/^ {2}\S a-much-longer-job-name {2}worker 2 {2}[12]\.\ds$/),
    ]);
  });

  it('an unknown total (streamed input): a counter, no bar, no ETA', async () => {
    const { rep, frame, written } = setup(undefined, { columns: 100, rows: 30 });
    rep.event(started(0, 1));
    rep.event(finished(0, 'succeeded'));
    rep.event(started(1, 1));
    await tick(written);
    const f = frame();
    expect(f[0]).toMatch(/^\S 1 done 1 running \d+\.\ds$/);
    expect(f[0]).not.toMatch(/[█░]|ETA|\//);
  });

  it('a narrow terminal: every line fits in columns - 1, the least useful parts go first', async () => {
    const { rep, frame, written } = setup(1000, { columns: 30, rows: 30 });
    for (let i = 0; i < 3; i++) rep.event(started(i, i + 1, i === 1 ? 'x'.repeat(80) : undefined));
    rep.event(finished(0, 'failed'));
    await tick(written);
    const f = frame();
    for (const line of f) expect(stringWidth(line)).toBeLessThanOrEqual(29);
    expect(f[0]).toMatch(/^\S 1\/1000 .*1 failed/);
    expect(f.some((l) => l.includes('…'))).toBe(true);
  });

  it('more running jobs than rows: the oldest shown, the rest counted', async () => {
    const { rep, frame, written } = setup(100, { columns: 80, rows: 8 });
    for (let i = 0; i < 20; i++) rep.event(started(i, i + 1));
    await tick(written);
    const f = frame();
    expect(f.length).toBeLessThanOrEqual(7);
    expect(f[f.length - 1]).toMatch(/^ {2}… and \d+ more running$/);
  });

  it('wide characters count double', async () => {
    const { rep, frame, written } = setup(2, { columns: 24, rows: 10 });
    rep.event(started(0, 1, '構築ジョブ構築ジョブ構築ジョブ'));
    await tick(written);
    for (const line of frame()) expect(stringWidth(line)).toBeLessThanOrEqual(23);
  });
});
