/**
 * Timeouts, retries, worker crashes, --halt and --deadline, with real processes; survivors checked by pid.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessPoolExecutor, ThreadPoolExecutor, type ExecutorEvent } from '../../dist/index.js';
import { BIN, poolrun, readJson, useTempDirs, waitFor } from '../helpers.js';
import { lines, modes, readNumbers, survivors, treeJob, writeJobs, TREE_SIZE } from './failure-helpers.js';

const temp = useTempDirs();

/** A shell job that fails until its `n`th attempt, counting attempts in `state`, and says which attempt it is. */
function flaky(state: string, n: number): string {
  return `n=$(($(cat ${state} 2>/dev/null || echo 0) + 1)); echo $n > ${state}; echo "attempt $n"; [ $n -ge ${n} ]`;
}

describe.each(modes)('--timeout (%s mode)', (mode) => {
  it('sleep 10 with --timeout 500ms ends soon after 0.5s: timed-out, SIGTERM recorded, tree gone', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const json = join(dir, 'out.json');
    const r = await poolrun([
      '-m',
      mode,
      '--timeout',
      '500ms',
      '--json',
      json,
      writeJobs(dir, [treeJob(pids)]),
    ]);
    expect(r.code).toBe(1);
    const [res] = readJson(json).results;
    expect(res).toMatchObject({ status: 'timed-out', signal: 'SIGTERM', attempts: 1 });
    // Never before the limit; soon after it (GNU parallel polls, and fired a 1s timeout at 1.76s). Here within
    // 100 ms; the bound leaves a second for a loaded machine.
    expect(res!.durationMs).toBeGreaterThanOrEqual(495);
    expect(res!.durationMs).toBeLessThan(1500);
    expect(res!.error?.message).toMatch(/timed out after 500ms/);
    const all = readNumbers(pids);
    expect(all).toHaveLength(TREE_SIZE);
    expect(await waitFor(() => survivors(all).length === 0, 5000)).toBe(true);
  });

  it('the plain `sleep 10` of the issue, and a per-job timeout in the file that wins over --timeout', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      { id: 'cli', run: 'sleep 60' },
      { id: 'own', run: 'sleep 60', timeout: '300ms' },
    ]);
    const r = await poolrun(['-m', mode, '-w', '2', '--timeout', '500ms', '--json', json, file]);
    expect(r.code).toBe(1);
    const [cli, own] = readJson(json).results;
    expect(cli!.status).toBe('timed-out');
    expect(cli!.durationMs).toBeGreaterThanOrEqual(495);
    expect(cli!.durationMs).toBeLessThan(1500);
    expect(own!.status).toBe('timed-out');
    expect(own!.durationMs).toBeGreaterThanOrEqual(295);
    expect(own!.durationMs).toBeLessThan(1300);
    // Nobody waited for the sleeps (a bound far from both: Node's start-up on a loaded machine took 5.7 s).
    expect(r.ms).toBeLessThan(30_000);
  });

  it('a killed job is never `succeeded`, however its process exits: one that exits 0 on SIGTERM, one whose child holds its output', async () => {
    // Acceptance probe: both were reported succeeded with exit 0 (the exit status was read before the kill).
    const dir = temp();
    const json = join(dir, 'out.json');
    const jobs = [
      { id: 'bg', run: `sleep 3 & echo started` },
      { id: 'trap', run: `trap 'exit 0' TERM; touch ${dir}/trap; sleep 5 & wait` },
      { id: 'quick', run: 'true' },
    ];
    const r = await poolrun(['-m', mode, '-q', '--timeout', '500ms', '--json', json, writeJobs(dir, jobs)]);
    expect(r.code, r.stderr).toBe(1);
    const byId = Object.fromEntries(readJson(json).results.map((x) => [x.id, x]));
    expect(byId.bg).toMatchObject({ status: 'timed-out', exitCode: 0 });
    expect(byId.trap).toMatchObject({ status: 'timed-out', exitCode: 0 });
    expect(byId.quick).toMatchObject({ status: 'succeeded' });
    // --halt now: the jobs it kills are cancelled, not succeeded, with exit 0 as well.
    const halt = await poolrun([
      '-m',
      mode,
      '-q',
      '-w',
      '3',
      '--halt',
      'now',
      '--json',
      json,
      writeJobs(dir, [
        { id: 'bg', run: `sleep 3 & echo started` },
        { id: 'trap', run: `trap 'exit 0' TERM; touch ${dir}/trap2; sleep 5 & wait` },
        { id: 'fail', run: `until [ -e ${dir}/trap2 ]; do sleep 0.02; done; exit 3` },
      ]),
    ]);
    expect(halt.code, halt.stderr).toBe(1);
    expect(readJson(json).results.map((x) => x.status)).toEqual(['cancelled', 'cancelled', 'failed']);
  });

  it('a job that ignores SIGTERM is SIGKILLed --kill-after later', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [treeJob(pids, true)]);
    const r = await poolrun([
      '-m',
      mode,
      '--timeout',
      '300ms',
      '--kill-after',
      '700ms',
      '--json',
      json,
      file,
    ]);
    expect(r.code).toBe(1);
    const [res] = readJson(json).results;
    expect(res).toMatchObject({ status: 'timed-out', signal: 'SIGKILL' });
    expect(res!.durationMs).toBeGreaterThanOrEqual(950);
    expect(res!.durationMs).toBeLessThan(2000);
    expect(await waitFor(() => survivors(readNumbers(pids)).length === 0, 5000)).toBe(true);
  });
});

describe.each(modes)('retries (%s mode)', (mode) => {
  it('a job that fails twice then succeeds: attempts 3, success, only the last attempt printed', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [{ id: 'flaky', run: flaky(join(dir, 'state'), 3) }]);
    const r = await poolrun(['-m', mode, '--retries', '2', '--json', json, file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('attempt 3\n');
    expect(readJson(json).results[0]).toMatchObject({ status: 'succeeded', attempts: 3, exitCode: 0 });
    expect(r.stderr).toMatch(/failed flaky \(.*exit 1.*\); retrying/);
    expect(r.stderr).toMatch(/started flaky \(worker \d+, attempt 3\)/);
  });

  it('retries run out: failed after 1 + --retries attempts; a per-job retries wins', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      { id: 'cli', run: flaky(join(dir, 's1'), 99) },
      { id: 'own', run: flaky(join(dir, 's2'), 99), retries: 3 },
    ]);
    const r = await poolrun(['-m', mode, '--retries', '1', '--json', json, file]);
    expect(r.code).toBe(1);
    const [cli, own] = readJson(json).results;
    expect(cli).toMatchObject({ status: 'failed', attempts: 2, stdout: 'attempt 2\n' });
    expect(own).toMatchObject({ status: 'failed', attempts: 4, stdout: 'attempt 4\n' });
  });

  it('a timed-out attempt is retried too', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const state = join(dir, 'state');
    // First attempt hangs, second is quick.
    const job = `n=$(($(cat ${state} 2>/dev/null || echo 0) + 1)); echo $n > ${state}; [ $n -ge 2 ] || sleep 10; echo ok $n`;
    const r = await poolrun([
      '-m',
      mode,
      '--timeout',
      '300ms',
      '--retries',
      '1',
      '--json',
      json,
      writeJobs(dir, [job]),
    ]);
    expect(r.code).toBe(0);
    expect(readJson(json).results[0]).toMatchObject({ status: 'succeeded', attempts: 2, stdout: 'ok 2\n' });
  });

  it('every attempt is an event: `retry` with the failed result, delays doubling from --retry-delay', async () => {
    const dir = temp();
    const events: ExecutorEvent[] = [];
    const Pool = mode === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
    const ex = new Pool({
      maxWorkers: 1,
      retries: 3,
      retryDelay: 200,
      capture: { stream: true },
      onEvent: (e) => events.push(e),
    });
    const result = await ex.submit({ run: flaky(join(dir, 'state'), 4) }).result();
    await ex.shutdown();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 4, stdout: 'attempt 4\n' });
    const retries = events.filter((e) => e.event === 'retry');
    expect(retries.map((e) => [e.attempt, e.delayMs, e.result.status, e.result.exitCode])).toEqual([
      [1, 200, 'failed', 1],
      [2, 400, 'failed', 1],
      [3, 800, 'failed', 1],
    ]);
    const starts = events.filter((e) => e.event === 'started');
    expect(starts.map((e) => e.attempt)).toEqual([1, 2, 3, 4]);
    // Each attempt starts no sooner than its delay after the failure before it.
    retries.forEach((r, i) => expect(starts[i + 1]!.time - r.time).toBeGreaterThanOrEqual(r.delayMs - 5));
    // Every attempt's output went through the event stream, though only the last is the result's.
    const printed = events.flatMap((e) =>
      e.event === 'output' ? [`${e.attempt}:${e.data.toString()}`] : [],
    );
    expect(printed).toEqual(['1:attempt 1\n', '2:attempt 2\n', '3:attempt 3\n', '4:attempt 4\n']);
    expect(events.filter((e) => e.event === 'finished')).toHaveLength(1);
  });
});

describe.each(modes)('a crashed worker (%s mode)', (mode) => {
  function crashModule(dir: string): string {
    const file = join(dir, 'crash.mjs');
    writeFileSync(
      file,
      `import { appendFileSync, readFileSync, existsSync } from 'node:fs';
export function exitTwice(state) {
  const n = existsSync(state) ? readFileSync(state, 'utf8').length : 0;
  appendFileSync(state, 'x');
  if (n < 2) process.exit(3);
  return 'survived attempt ' + (n + 1);
}
export function square(n) { return n * n; }
`,
    );
    return file;
  }

  it('a call that exits its worker is a failed attempt, retried on a new worker: attempts 3', async () => {
    const dir = temp();
    const mod = crashModule(dir);
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      { id: 'crash', call: { module: mod, export: 'exitTwice', args: [join(dir, 'state')] } },
      ...[1, 2, 3].map((n) => ({ id: `sq${n}`, call: { module: mod, export: 'square', args: [n] } })),
    ]);
    const r = await poolrun(['-m', mode, '-w', '2', '--retries', '2', '--json', json, file]);
    expect(r.code).toBe(0);
    const [crash, ...rest] = readJson(json).results;
    expect(crash).toMatchObject({ status: 'succeeded', attempts: 3, value: 'survived attempt 3' });
    expect(rest.map((x) => x.value)).toEqual([1, 4, 9]);
    expect(r.stderr).toMatch(/failed crash \(worker \d+, [^\n]*exit 3[^\n]*\); retrying/);
  });

  it('without retries it fails alone, with an error that says the worker died', async () => {
    const dir = temp();
    const mod = crashModule(dir);
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      { id: 'crash', call: { module: mod, export: 'exitTwice', args: [join(dir, 'state')] } },
      ...[1, 2, 3].map((n) => ({ id: `sq${n}`, call: { module: mod, export: 'square', args: [n] } })),
    ]);
    const r = await poolrun(['-m', mode, '-w', '2', '--json', json, file]);
    expect(r.code).toBe(1);
    const [crash, ...rest] = readJson(json).results;
    expect(crash!.status).toBe('failed');
    expect(crash!.error).toMatchObject({ name: 'BrokenWorkerError' });
    expect(crash!.error!.message).toMatch(/died while running this job: exit code 3/);
    expect(rest.map((x) => x.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});

describe.each(modes)('--halt (%s mode)', (mode) => {
  it('--halt now: one fast failure among slow jobs kills them; failed/cancelled; exit 1', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      { id: 'slow1', run: treeJob(pids) },
      { id: 'slow2', run: treeJob(pids) },
      { id: 'fast', run: `while [ $(wc -l < ${pids}) -lt ${3 * TREE_SIZE} ]; do sleep 0.05; done; exit 3` },
      { id: 'slow3', run: treeJob(pids) },
      { id: 'queued', run: `touch ${join(dir, 'queued-ran')}` },
    ]);
    const r = await poolrun([
      '-m',
      mode,
      '-w',
      '4',
      '--halt',
      'now',
      '--kill-after',
      '1s',
      '--json',
      json,
      file,
    ]);
    expect(r.code).toBe(1);
    const res = readJson(json).results;
    expect(res.map((x) => [x.id, x.status])).toEqual([
      ['slow1', 'cancelled'],
      ['slow2', 'cancelled'],
      ['fast', 'failed'],
      ['slow3', 'cancelled'],
      ['queued', 'cancelled'],
    ]);
    expect(res[2]!.exitCode).toBe(3);
    for (const i of [0, 1, 3]) expect(res[i]!.signal).toBe('SIGTERM');
    expect(res[4]!.startedAt).toBeNull();
    expect(r.ms).toBeLessThan(15_000);
    expect(await waitFor(() => survivors(readNumbers(pids)).length === 0, 5000)).toBe(true);
  });

  it.each([{ flags: ['--halt', 'soon'] }, { flags: ['--fail-fast'] }])(
    '$flags: running jobs finish, nothing new starts, exit 1',
    async ({ flags }) => {
      const dir = temp();
      const json = join(dir, 'out.json');
      // `fast` fails once `running` runs; `running` ends a second after that, by itself.
      const started = join(dir, 'running-started');
      const failing = join(dir, 'fast-failing');
      const file = writeJobs(dir, [
        {
          id: 'running',
          run: `touch ${started}; while [ ! -e ${failing} ]; do sleep 0.05; done; sleep 1; echo finished`,
        },
        { id: 'fast', run: `while [ ! -e ${started} ]; do sleep 0.05; done; touch ${failing}; exit 3` },
        { id: 'queued', run: 'echo never' },
      ]);
      const r = await poolrun(['-m', mode, '-w', '2', ...flags, '--json', json, file]);
      expect(r.code).toBe(1);
      expect(readJson(json).results.map((x) => [x.id, x.status])).toEqual([
        ['running', 'succeeded'],
        ['fast', 'failed'],
        ['queued', 'cancelled'],
      ]);
      expect(r.stdout).toBe('finished\n');
    },
  );
});

/** One worker process taking three jobs per message, and --halt (its value follows). */
const CHUNKED = ['-m', 'process', '-w', '1', '--chunksize', '3', '--halt'];

describe('--halt with --chunksize: the report says what ran', () => {
  it.each([['soon'], ['now']])(
    '--halt %s, process mode, chunks of 3 on one worker: the job after the failure in its chunk is reported as it ran',
    async (how) => {
      for (let round = 0; round < 3; round++) {
        const dir = temp();
        const ran = join(dir, 'ran');
        const json = join(dir, 'out.json');
        const mark = (id: string) => `echo ${id} >> ${ran}`;
        const file = writeJobs(dir, [
          { id: 'a', run: `${mark('a')}; exit 1` },
          { id: 'b', run: `${mark('b')}; sleep 1; echo b-done` },
          { id: 'c', run: mark('c') },
          { id: 'd', run: mark('d') },
        ]);
        const r = await poolrun([...CHUNKED, how, '--json', json, file]);
        expect(r.code).toBe(1);
        const results = readJson(json).results;
        const marked = new Set(lines(ran));
        // A job that ran has a start time and an attempt; one reported never started did not run.
        for (const x of results) expect([x.id, x.startedAt !== null]).toEqual([x.id, marked.has(x.id)]);
        expect(results[0]).toMatchObject({ id: 'a', status: 'failed' });
        expect(marked.has('c')).toBe(false);
        expect(marked.has('d')).toBe(false);
        const b = results[1]!;
        if (marked.has('b')) {
          // Begun before the halt reached its worker: soon lets it finish, now kills it.
          if (how === 'soon') expect([b.status, r.stdout]).toEqual(['succeeded', 'b-done\n']);
          else expect([b.status, b.signal]).toEqual(['cancelled', 'SIGTERM']);
        } else expect(b.status).toBe('cancelled');
      }
    },
  );
});

describe('--halt with --chunksize: a blocking call, a timeout, retries, a worker ended', () => {
  const TASKS = [
    'export function work(ms) {',
    "  if (ms === 'fail') throw new Error('fails on purpose');",
    '  if (ms < 0) for (;;) {}',
    '  const end = Date.now() + ms;',
    '  while (Date.now() < end) {}',
    '  return ms;',
    '}',
  ].join('\n');
  async function calls(opts: string[], values: string[]) {
    const dir = temp();
    writeFileSync(join(dir, 't.mjs'), TASKS);
    const json = join(dir, 'out.json');
    const r = await poolrun(
      ['-q', '-m', 'process', '--json', json, ...opts, '--call', './t.mjs#work', ...values],
      {
        cwd: dir,
      },
    );
    return { code: r.code, results: readJson(json).results.map((x) => [x.id, x.status]) };
  }

  it('--halt now: the call after the failure in its chunk, blocking its worker for good, is killed; the run ends', async () => {
    const { code, results } = await calls(['-w', '1', '--chunksize', '2', '--halt', 'now'], ['"fail"', '-1']);
    expect([code, results]).toEqual([
      1,
      [
        ['1', 'failed'],
        ['2', 'cancelled'],
      ],
    ]);
  });

  it('--halt soon: a job withdrawn from a worker that is then ended (a timeout) is not run again elsewhere', async () => {
    const { code, results } = await calls(
      ['-w', '2', '--chunksize', '2', '--timeout', '1s', '--kill-after', '1s', '--halt', 'soon'],
      ['3000', '-1', '"fail"', '1'],
    );
    expect(code).toBe(1);
    expect(results.slice(0, 3)).toEqual([
      ['1', 'timed-out'],
      ['2', 'cancelled'],
      ['3', 'failed'],
    ]);
  });

  it('--halt soon: a job begun before the halt reached its worker is not retried', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = temp();
      const ran = join(dir, 'ran');
      const json = join(dir, 'out.json');
      const file = writeJobs(dir, [
        { id: 'a', run: 'exit 1' },
        { id: 'b', run: `echo b >> ${ran}; sleep 0.2; exit 1`, retries: 3 },
        { id: 'c', run: `echo c >> ${ran}` },
      ]);
      const r = await poolrun(['-q', ...CHUNKED, 'soon', '--json', json, file]);
      expect(r.code).toBe(1);
      const marked = existsSync(ran) ? lines(ran) : [];
      expect(marked.filter((x) => x === 'b').length).toBeLessThanOrEqual(1);
      expect(marked).not.toContain('c');
      const b = readJson(json).results[1]!;
      expect(b.attempts).toBe(marked.length);
    }
  });
});

describe.each(modes)('--deadline (%s mode)', (mode) => {
  it("the seed's map: job 5 sleeps 120s, deadline 6s → prints 1 4 9 16, exit 124 in ~6s, job 5 dead", async () => {
    const dir = temp();
    const pid5 = join(dir, 'pid5');
    const jobs = Array.from({ length: 10 }, (_, i) => ({
      id: `sq${i + 1}`,
      // The others are quick, so that even with slow worker start-up (process mode, a loaded machine) they are
      // done well within the deadline.
      run: i === 4 ? `echo $$ > ${pid5}; sleep 120; echo 25` : `echo ${(i + 1) ** 2}`,
    }));
    const json = join(dir, 'out.json');
    const r = await poolrun([
      '-m',
      mode,
      '-w',
      '4',
      '--deadline',
      '6s',
      '--json',
      json,
      writeJobs(dir, jobs),
    ]);
    expect(r.code).toBe(124);
    expect(r.stdout).toBe('1\n4\n9\n16\n');
    // The run lasted ~6s by its own clock (Node's start-up, slow on a loaded machine, is not part of it), and
    // nobody waited for job 5's 120s. (6 s, not the seed's 2: four worker processes
    // forked on a loaded machine took longer than 2 s to square 1..4.)
    const { summary, results: res } = readJson(json);
    expect(summary.durationMs).toBeGreaterThanOrEqual(5990);
    expect(summary.durationMs).toBeLessThan(9000);
    expect(r.ms).toBeLessThan(60_000);
    expect(r.stderr).toContain('poolrun: --deadline 6.00s reached');
    expect(res[4]).toMatchObject({ status: 'cancelled', signal: 'SIGTERM' });
    // Jobs 6-10 were done in time: their results are in the document, though stdout stopped at job 5.
    expect(res.slice(5).map((x) => x.status)).toEqual(Array(5).fill('succeeded'));
    const [pid] = readNumbers(pid5);
    expect(await waitFor(() => survivors([pid!]).length === 0, 5000)).toBe(true);
  });

  it('--call: executor.map(square, 1..10) under a --deadline, with a square(5) that sleeps 20s', async () => {
    const dir = temp();
    const mod = join(dir, 'tasks.mjs');
    writeFileSync(
      mod,
      `import { existsSync, writeFileSync } from 'node:fs';
export async function square(n) {
  if (n === 5) { writeFileSync(${JSON.stringify(join(dir, 'pid5'))}, String(process.pid)); await new Promise((r) => setTimeout(r, 20000)); }
  return n * n;
}
`,
    );
    const args = Array.from({ length: 10 }, (_, i) => String(i + 1));
    const json = join(dir, 'out.json');
    const r = await poolrun([
      '-m',
      mode,
      '-w',
      '4',
      // 4 s, not 2: four worker processes took longer than 2 s to start on a loaded CI machine (stdout empty).
      '--deadline',
      '4s',
      '--json',
      json,
      '--call',
      `${mod}#square`,
      ...args,
    ]);
    expect(r.code).toBe(124);
    expect(r.stdout).toBe('1\n4\n9\n16\n');
    expect(readJson(json).summary.durationMs).toBeLessThan(7000);
    expect(r.ms).toBeLessThan(15000);
    if (mode === 'process') {
      // The worker process that ran square(5) was ended.
      const [pid] = readNumbers(join(dir, 'pid5'));
      expect(await waitFor(() => survivors([pid!]).length === 0, 5000)).toBe(true);
    }
  });

  it('--order completion prints everything done by the deadline', async () => {
    const dir = temp();
    const jobs = Array.from({ length: 4 }, (_, i) => (i === 1 ? 'sleep 10' : `echo ${i}`));
    const r = await poolrun([
      '-m',
      mode,
      '-w',
      '2',
      '--order',
      'completion',
      '--deadline',
      '3s',
      writeJobs(dir, jobs),
    ]);
    expect(r.code).toBe(124);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['0', '2', '3']);
  });
});

describe('stdout closed (poolrun … | head -1)', () => {
  it('stops the run: no crash, no stack trace, exit 141, running jobs killed', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const jobs = Array.from({ length: 20 }, (_, i) =>
      i === 0 ? 'echo first' : `echo $$ >> ${pids}; sleep 0.3; seq 1 20000`,
    );
    const { execa } = await import('execa');
    const r = await execa('/bin/sh', ['-c', `node ${BIN} -w 4 ${writeJobs(dir, jobs)} | head -1; exit 0`], {
      reject: false,
      env: { NO_COLOR: '1' },
    });
    expect(r.stdout).toBe('first');
    expect(r.stderr).toContain('poolrun: stdout was closed: starting no more jobs');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toMatch(/cancelled/);
    expect(await waitFor(() => survivors(readNumbers(pids)).length === 0, 2000)).toBe(true);
    const status = await execa(
      '/bin/bash',
      [
        '-c',
        `node ${BIN} -q -w 4 ${writeJobs(dir, jobs, 'again.json')} | head -1; echo "\${PIPESTATUS[0]}" >&2`,
      ],
      { reject: false },
    );
    expect(status.stderr.trim().split('\n').pop()).toBe('141');
  });

  it('a stdout that cannot be written (> /dev/full): the same stop, and the notice names the error', async () => {
    const dir = temp();
    const { execa } = await import('execa');
    const r = await execa(
      '/bin/sh',
      ['-c', `node ${BIN} ${writeJobs(dir, ['echo hi', 'echo there'])} > /dev/full`],
      {
        reject: false,
        env: { NO_COLOR: '1' },
      },
    );
    expect(r.exitCode).toBe(141);
    expect(r.stderr).toContain(
      'poolrun: stdout cannot be written (ENOSPC: no space left on device): starting no more',
    );
    expect(r.stderr).not.toMatch(/stdout was closed|\n\s+at /);
  });
});
