import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, pidAlive, readJson, waitFor, useTempDirs, writeJobs } from '../helpers.js';

const modes = ['thread', 'process'] as const;
const temp = useTempDirs();
const jobFile = writeJobs;

describe.each(modes)('the seed, ported (%s mode)', (mode) => {
  it('9 say_hi jobs on --workers 10: every greeting, in input order, spread over several workers', async () => {
    const dir = temp();
    // Each greeting waits until two jobs have started (a barrier, not a sleep: on a loaded machine one worker could
    // finish them all before a second is up). With one worker alone they give up after 20 s, and the check fails.
    const jobs = Array.from({ length: 9 }, (_, i) => ({
      id: `guest${i + 1}`,
      run:
        `touch ${dir}/started${i + 1}; n=0; while [ "$(ls ${dir} | grep -c started)" -lt 2 ] && [ $n -lt 400 ]; ` +
        `do sleep 0.05; n=$((n+1)); done; echo "hi guest${i + 1} executed in worker $POOLRUN_WORKER, process $PPID"`,
    }));
    const file = jobFile(dir, jobs);
    const json = join(dir, 'out.json');
    const r = await poolrun(['--workers', '10', '--mode', mode, '--json', json, file]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' ')[1])).toEqual(jobs.map((j) => j.id));
    const doc = readJson(json);
    expect(doc.results.map((x) => x.status)).toEqual(Array(9).fill('succeeded'));
    const workers = new Set(doc.results.map((x) => x.worker));
    expect(workers.size).toBeGreaterThan(1);
    if (mode === 'process') {
      expect(new Set(doc.results.map((x) => x.pid)).size).toBeGreaterThan(1);
      // The worker process is the job's parent: the greeting names the pid the result reports.
      for (const x of doc.results) expect(x.stdout).toContain(`process ${x.pid}`);
    } else {
      // One process; a slot's first jobs start from its main thread until the slot's thread is ready (README:
      // threadId 0), so the slots are the workers above, not threads.
      expect(new Set(doc.results.map((x) => x.pid)).size).toBe(1);
    }
  });

  it('a slow 5th job: jobs 6-10 finish before it, output stays in input order', async () => {
    const dir = temp();
    // The 5th ends only once jobs 6-10 have exited (their pids gone), not after a guessed time.
    const waitForOthers = [6, 7, 8, 9, 10]
      .map(
        (n) => `until [ -s ${dir}/p${n} ] && ! kill -0 $(cat ${dir}/p${n}) 2>/dev/null; do sleep 0.05; done`,
      )
      .join('; ');
    const jobs = Array.from({ length: 10 }, (_, i) => ({
      id: `sq${i + 1}`,
      run:
        i === 4 ? `${waitForOthers}; sleep 0.3; echo 25` : `echo $$ > ${dir}/p${i + 1}; echo ${(i + 1) ** 2}`,
    }));
    const json = join(dir, 'out.json');
    const r = await poolrun(['-w', '10', '-m', mode, '--json', json, jobFile(dir, jobs)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(Array.from({ length: 10 }, (_, i) => `${(i + 1) ** 2}\n`).join(''));
    const doc = readJson(json);
    const end = (i: number) => Date.parse(doc.results[i]!.startedAt!) + doc.results[i]!.durationMs!;
    for (let i = 5; i < 10; i++) expect(end(i)).toBeLessThan(end(4));
    // The status display saw them finish out of order.
    const finishOrder = r.stderr
      .split('\n')
      .filter((l) => / succeeded /.test(l))
      .map((l) => l.split(' ')[2]);
    expect(finishOrder.indexOf('sq5')).toBeGreaterThan(finishOrder.indexOf('sq10'));
  });
});

describe.each(modes)('process trees (%s mode)', (mode) => {
  it('--timeout kills the whole tree: sh and its grandchildren are gone, status timed-out', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const file = jobFile(dir, [
      {
        id: 'tree',
        run: `echo $$ > ${pids}; sleep 30 & echo $! >> ${pids}; sleep 30 & echo $! >> ${pids}; wait`,
      },
    ]);
    const json = join(dir, 'out.json');
    const r = await poolrun(['-m', mode, '--timeout', '1s', '--json', json, file]);
    expect(r.code).toBe(1);
    const doc = readJson(json);
    expect(doc.results[0]!.status).toBe('timed-out');
    expect(doc.results[0]!.signal).toBe('SIGTERM');
    expect(doc.results[0]!.durationMs).toBeLessThan(3000);
    const { readFileSync } = await import('node:fs');
    const list = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(list).toHaveLength(3);
    expect(await waitFor(() => list.every((p) => !pidAlive(p)), 2000)).toBe(true);
  });

  it('a job that ends normally takes its leftover background processes with it', async () => {
    const dir = temp();
    const pidFile = join(dir, 'pid');
    // The daemonised sleep closes its stdio, so the job ends while it still runs.
    const file = jobFile(dir, [{ run: `sleep 30 </dev/null >/dev/null 2>&1 & echo $! > ${pidFile}` }]);
    const r = await poolrun(['-m', mode, '--kill-after', '1s', file]);
    expect(r.code).toBe(0);
    const { readFileSync } = await import('node:fs');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(await waitFor(() => !pidAlive(pid), 3000)).toBe(true);
  });
});

describe('exit statuses', () => {
  it('0 when every job succeeds', async () => {
    const dir = temp();
    const r = await poolrun([jobFile(dir, ['true', { run: ['echo', 'ok'] }])]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok\n');
    expect(r.stderr).toMatch(/poolrun: 2 jobs: 2 succeeded in/);
  });

  it('1 when a job fails; the summary names it and its exit status', async () => {
    const dir = temp();
    const r = await poolrun([jobFile(dir, ['true', { id: 'boom', run: 'exit 7' }])]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 succeeded, 1 failed/);
    expect(r.stderr).toMatch(/failed boom \(.*exit 7/);
  });

  it('2 for an invalid job file: a message naming job and field, no stack trace, nothing run', async () => {
    const dir = temp();
    const canary = join(dir, 'canary');
    const file = jobFile(dir, [{ run: `touch ${canary}` }, { run: 'true', timout: '1s' }, { id: 3 }]);
    const r = await poolrun([file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/jobs\[1\]\.timout: unknown key "timout" \(did you mean "timeout"\?\)/);
    expect(r.stderr).toMatch(/jobs\[2\]: a job needs exactly one of/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(canary)).toBe(false);
  });

  it('2 for invalid JSON, a missing file, a directory, and bad option values', async () => {
    const dir = temp();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[ "echo hi", ');
    for (const args of [
      [bad],
      [join(dir, 'nope.json')],
      [dir],
      ['--workers', 'lots', bad],
      ['--timeout', '5 parsecs', bad],
      ['--mode', 'fiber', bad],
      ['--bogus', bad],
    ]) {
      const r = await poolrun(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^poolrun: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await poolrun(['--workers', 'lots', bad])).stderr).toMatch(/--workers.*"lots"/);
    expect((await poolrun([join(dir, 'nope.json')])).stderr).toMatch(/not found/);
  });
});

describe('results and dry run', () => {
  it('--json writes the §5 document in input order', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const r = await poolrun([
      '-q',
      '--json',
      json,
      jobFile(dir, [
        { id: 'a', run: 'echo A' },
        { id: 'b', run: 'echo B >&2; exit 1' },
      ]),
    ]);
    expect(r.code).toBe(1);
    const doc = readJson(json);
    expect(doc.summary).toMatchObject({ total: 2, succeeded: 1, failed: 1, timedOut: 0, cancelled: 0 });
    expect(typeof doc.summary.durationMs).toBe('number');
    expect(doc.results.map((x) => x.id)).toEqual(['a', 'b']);
    const [a, b] = doc.results;
    expect(Object.keys(a!)).toEqual(
      expect.arrayContaining([
        'id',
        'index',
        'kind',
        'status',
        'exitCode',
        'signal',
        'attempts',
        'worker',
        'startedAt',
        'durationMs',
        'stdout',
        'stderr',
        'value',
        'error',
      ]),
    );
    expect(a).toMatchObject({
      index: 0,
      kind: 'run',
      status: 'succeeded',
      exitCode: 0,
      signal: null,
      attempts: 1,
      stdout: 'A\n',
      stderr: '',
    });
    expect(b).toMatchObject({ index: 1, status: 'failed', exitCode: 1, stderr: 'B\n' });
    expect(new Date(a!.startedAt!).toISOString()).toBe(a!.startedAt);
  });

  it('--json - puts the document on stdout, alone', async () => {
    const dir = temp();
    const r = await poolrun(['-q', '--json', '-', jobFile(dir, ['echo not-in-the-json-stream'])]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { results: Array<{ stdout: string }> };
    expect(doc.results[0]!.stdout).toBe('not-in-the-json-stream\n');
  });

  it('--dry-run prints each job and runs nothing', async () => {
    const dir = temp();
    const canary = join(dir, 'canary');
    const r = await poolrun(['--dry-run', jobFile(dir, [`touch ${canary}`, { run: ['echo', 'two words'] }])]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`touch ${canary}\necho 'two words'\n`);
    expect(existsSync(canary)).toBe(false);
  });
});

describe('thread and process mode agree', () => {
  it('the same job file gives the same stdout', async () => {
    const dir = temp();
    const jobs = Array.from({ length: 30 }, (_, i) => ({
      run: `printf 'line %s\\n' ${i}; sleep 0.0${i % 7}; echo end ${i}`,
    }));
    const file = jobFile(dir, jobs);
    const t = await poolrun(['-q', '-m', 'thread', '-w', '4', file]);
    const p = await poolrun(['-q', '-m', 'process', '-w', '4', file]);
    expect(t.code).toBe(0);
    expect(p.code).toBe(0);
    expect(t.stdout).toBe(p.stdout);
    expect(t.stdout.split('\n')).toHaveLength(61);
  });
});

describe('--chunksize (process mode)', () => {
  it('10 jobs in chunks of 5 touch at most 2 worker processes; chunks of 1 use more', async () => {
    const dir = temp();
    const file = jobFile(
      dir,
      Array.from({ length: 10 }, (_, i) => `sleep 0.5; echo ${i}`),
    );
    const j5 = join(dir, 'c5.json');
    const j1 = join(dir, 'c1.json');
    expect(
      (await poolrun(['-q', '-m', 'process', '-w', '10', '--chunksize', '5', '--json', j5, file])).code,
    ).toBe(0);
    expect(
      (await poolrun(['-q', '-m', 'process', '-w', '10', '--chunksize', '1', '--json', j1, file])).code,
    ).toBe(0);
    expect(new Set(readJson(j5).results.map((r) => r.pid)).size).toBeLessThanOrEqual(2);
    expect(new Set(readJson(j1).results.map((r) => r.pid)).size).toBeGreaterThan(2);
  });
});

describe('jobs.example.json', () => {
  it('runs as the README says: every job succeeds, exit 0', async () => {
    const { ROOT } = await import('../helpers.js');
    const dir = temp();
    const json = join(dir, 'out.json');
    const r = await poolrun(
      ['--workers', '10', '--mode', 'process', '--json', json, join(ROOT, 'jobs.example.json')],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = readJson(json);
    expect(doc.results.filter((x) => x.status !== 'succeeded').map((x) => x.id)).toEqual([]);
    expect(doc.results.length).toBeGreaterThan(5);
    expect(r.stdout).toContain('primes below 200000: 17984');
    expect(r.stdout).toContain('144\n');
  });

  it('examples/fails.json shows a failure: exit 1, the failed job named with its exit status', async () => {
    const { ROOT } = await import('../helpers.js');
    const r = await poolrun([join(ROOT, 'examples', 'fails.json')], { cwd: temp() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed fails-on-purpose \(worker \d, [^)]*exit 3\)/);
    expect(r.stdout).toBe('this job succeeds\n');
  });
});
