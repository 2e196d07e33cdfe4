/**
 * Jobs the scheduler holds (waiting for a dependency, or for --delay/--memfree/--load) count in the window of
 * unfinished jobs read ahead, as submitted ones do (README, "Input formats and streaming"; contract §9: never
 * unbounded memory). Before, a held job skipped the window's check, so `seq 2000000 | poolrun --delay 1 …` read
 * the whole pipe into memory (1.6 GB), and so did a stream of jobs waiting on one long job.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { BIN, pidAlive, track, useTempDirs, waitFor, writeJobs } from '../helpers.js';

const temp = useTempDirs();

/**
 * Feeds `line(i)` for i = 0, 1, … into poolrun's stdin as fast as it reads, up to `max` lines, for `ms`; returns
 * how many lines it took (written into the pipe: the pipe's and the stream's buffers, some 80 KiB, included).
 */
async function linesTaken(args: string[], line: (i: number) => string, max: number, ms: number) {
  const dir = temp();
  const child = track(
    execa(process.execPath, [BIN, '-q', ...args], { cwd: dir, stdin: 'pipe', reject: false, buffer: false }),
  );
  const stdin = child.stdin;
  stdin.on('error', () => {});
  let written = 0;
  const until = Date.now() + ms;
  while (written < max && Date.now() < until) {
    let block = '';
    for (let k = 0; k < 200 && written < max; k++) block += line(written++);
    if (!stdin.write(block)) {
      const drained = new Promise<boolean>((resolve) => {
        stdin.once('drain', () => resolve(true));
        setTimeout(() => resolve(false), Math.max(0, until - Date.now()));
      });
      if (!(await drained)) break;
    }
  }
  const pid = child.pid!;
  child.kill('SIGTERM');
  const r = await child;
  expect(await waitFor(() => !pidAlive(pid), 10_000)).toBe(true);
  return { written, code: r.exitCode ?? r.signal };
}

const MAX = 400_000;
/** The window (1024 jobs) and ~80 KiB of buffers are far below this; the whole input is far above. */
const BOUND = 60_000;

describe('held jobs count in the window of streamed input', () => {
  it.each([
    ['--delay 1', ['--delay', '1']],
    ['--load with a limit never reached', ['--load', '100000']],
    ['no gate (the control)', []],
  ])(
    '--each with %s: the pipe is read no further than the window',
    async (_what, gate) => {
      const { written, code } = await linesTaken(
        ['-w', '1', ...gate, '--each', 'sleep 30; echo {}'],
        (i) => `${i}\n`,
        MAX,
        3000,
      );
      // Still running when stopped (SIGTERM: 143), not refused at the start.
      expect(code).toBe(143);
      expect(written).toBeLessThan(BOUND);
    },
    60_000,
  );

  it('JSONL jobs waiting on a long job: the pipe is read no further than the window', async () => {
    const { written, code } = await linesTaken(
      ['-w', '2', '-'],
      (i) => (i === 0 ? '{"id":"root","run":"sleep 30"}\n' : '{"after":"root","run":"true"}\n'),
      MAX,
      3000,
    );
    expect(code).toBe(143);
    expect(written).toBeLessThan(BOUND);
  }, 60_000);
});

describe('a job waiting for its retry does not hold a worker from the gate', () => {
  it('-w 2 with --delay: the others run two at a time while the failed job waits out --retry-delay', async () => {
    // Fresh-eyes probe: with a gate, the job waiting 3 s for its retry counted as busy: one job at a time.
    const dir = temp();
    const file = writeJobs(dir, [
      { id: 'f', run: 'exit 1', retries: 1 },
      ...[1, 2, 3, 4].map((i) => ({
        id: `s${i}`,
        run: `date +%s%N > s${i}.start; sleep 1; date +%s%N > s${i}.end`,
      })),
    ]);
    const r = await execa(
      process.execPath,
      [BIN, '-q', '-w', '2', '--delay', '0.01', '--retry-delay', '3s', '--json', 'r.json', file],
      { cwd: dir, reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(1);
    const t = (n: string) => Number(BigInt(readFileSync(`${dir}/${n}`, 'utf8').trim()) / 1_000_000n);
    // Two ran side by side: s2 started before s1 ended (one at a time, it could not).
    expect(t('s2.start'), 's2 began while s1 ran').toBeLessThan(t('s1.end'));
    expect(t('s4.start'), 's4 began while s3 ran').toBeLessThan(t('s3.end'));
  }, 60_000);
});
