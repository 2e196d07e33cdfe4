/**
 * A stop (--halt, --deadline, SIGINT, the library's shutdown({cancelFutures})) that comes while a job's retry
 * waits in the queue behind a running job ends that job as cancelled (a retry runs next, as GNU parallel's does:
 * it waits behind another job only when that one took the worker during its --retry-delay, as here): the run ends with its own exit status,
 * summary and --json, and the cancelled job keeps what its failed attempt did. (It waited forever once: the
 * retry was neither pending nor on a timer; Node exited 13 with no summary.)
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ThreadPoolExecutor,
  ProcessPoolExecutor,
  type ExecutorEvent,
  type JobResult,
} from '../../dist/index.js';
import {
  BIN,
  CLI_TIMEOUT_MS,
  poolrun,
  readJson,
  track,
  useTempDirs,
  waitFor,
  writeJobs,
} from '../helpers.js';

const temp = useTempDirs();

/** With one worker: `a` fails at once, its retry queued behind `b`, which runs until the stop. */
const JOBS = [
  { id: 'a', run: 'echo tried; exit 3' },
  { id: 'b', run: 'sleep 30' },
];

/** a's retry was cancelled: one attempt, which ran and failed; its exit status and output are kept. */
function expectCancelledRetry(a: JobResult | undefined): void {
  expect(a).toMatchObject({ id: 'a', status: 'cancelled', attempts: 1, exitCode: 3, error: null });
  expect(a!.startedAt).not.toBeNull();
  expect(a!.durationMs).not.toBeNull();
  expect(a!.stdout).toBe('tried\n');
}

/** One worker; one retry, 200 ms after the failure: `b` has taken the worker by then, and the retry waits behind it. */
const retryArgs = (mode: string) => ['-m', mode, '-w', '1', '--retries', '1', '--retry-delay', '200ms'];

describe.each(['thread', 'process'])('a stop while a retry waits in the queue (%s mode)', (mode) => {
  it('--deadline: exit 124, the summary and --json', async () => {
    const dir = temp();
    const json = join(dir, 'r.json');
    const r = await poolrun([...retryArgs(mode), '--deadline', '3s', '--json', json, writeJobs(dir, JOBS)]);
    expect(r.code, r.stderr).toBe(124);
    expect(r.stderr).toMatch(/poolrun: 2 jobs: 0 succeeded, 2 cancelled/);
    const [a, b] = readJson(json).results as JobResult[];
    expectCancelledRetry(a);
    expect(b).toMatchObject({ status: 'cancelled', attempts: 1 });
  });

  it('--halt soon after the last retry of another job: exit 1, the other job cancelled', async () => {
    const dir = temp();
    const json = join(dir, 'r.json');
    // a1 fails (its retry queued), b1 fails (its retry queued behind a2), a2 fails: halt; b2 is cancelled.
    const jobs = [
      { id: 'a', run: 'exit 1' },
      { id: 'b', run: 'echo tried; exit 3' },
    ];
    const r = await poolrun([...retryArgs(mode), '--halt', 'soon', '--json', json, writeJobs(dir, jobs)]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/poolrun: 2 jobs: 0 succeeded, 1 failed, 1 cancelled/);
    const [a, b] = readJson(json).results as JobResult[];
    expect(a).toMatchObject({ status: 'failed', attempts: 2 });
    expect(b).toMatchObject({ id: 'b', status: 'cancelled', attempts: 1, exitCode: 3, stdout: 'tried\n' });
  });

  it('SIGINT: exit 130, the summary and --json', async () => {
    const dir = temp();
    const json = join(dir, 'r.json');
    const started = join(dir, 'b-started');
    const jobs = [JOBS[0], { id: 'b', run: `touch ${started}; sleep 30` }];
    const child = track(
      execa(process.execPath, [BIN, ...retryArgs(mode), '--json', json, writeJobs(dir, jobs)], {
        reject: false,
        timeout: CLI_TIMEOUT_MS,
      }),
    );
    expect(await waitFor(() => existsSync(started), 30_000)).toBe(true);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(String(r.stderr)).toMatch(/poolrun: 2 jobs: 0 succeeded, 2 cancelled/);
    expectCancelledRetry((readJson(json).results as JobResult[])[0]);
  });
});

describe.each([
  ['ThreadPoolExecutor', ThreadPoolExecutor],
  ['ProcessPoolExecutor', ProcessPoolExecutor],
] as const)('%s.shutdown({cancelFutures}) while a retry waits in the queue', (_name, Pool) => {
  it('returns; the job is cancelled and keeps its failed attempt', async () => {
    let bStarted!: () => void;
    const started = new Promise<void>((r) => (bStarted = r));
    const ex = new Pool({
      maxWorkers: 1,
      retries: 1,
      retryDelay: 200,
      onEvent: (e: ExecutorEvent) => {
        if (e.event === 'started' && e.job.id === 'b') bStarted();
      },
    });
    const a = ex.submit({ id: 'a', run: 'echo tried; exit 3' });
    const b = ex.submit({ id: 'b', run: 'sleep 0.5' });
    await started;
    await ex.shutdown({ cancelFutures: true });
    expect(a.done()).toBe(true);
    expectCancelledRetry(await a.result());
    expect((await b.result()).status).toBe('succeeded');
  });
});
