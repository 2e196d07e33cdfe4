/**
 * -w/--workers and -j/--jobs are one setting and take every form (contract §1): N, N% of cores, +N/-N (cores
 * plus or minus N, at least 1), 0 (as many as possible) and auto. The width a run used is read from its --report
 * page (the "workers" figure), so nothing here depends on timing.
 */
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs, writeJobs } from '../helpers.js';
import { parseWorkers } from '../../src/cli/options.js';
import { JOBS_ZERO } from '../../src/gnu/jobs.js';
import { UsageError } from '../../src/errors.js';

const temp = useTempDirs();
const cores = availableParallelism();

async function width(flagWords: string[]): Promise<number> {
  const dir = temp();
  const jobs = writeJobs(dir, ['true']);
  const report = join(dir, 'r.html');
  const r = await poolrun(['-q', ...flagWords, '--report', report, jobs]);
  expect(r.code, `${flagWords.join(' ')}: ${r.stderr}`).toBe(0);
  const m = /data-figure="workers">(\d+)</.exec(readFileSync(report, 'utf8'));
  expect(m, 'the report names the width').not.toBeNull();
  return Number(m![1]);
}

describe('-w and -j: one setting, every form', () => {
  it('parseWorkers reads N, N%, +N, -N and 0', () => {
    expect(parseWorkers('3', 4)).toBe(3);
    expect(parseWorkers(' 3 ', 4)).toBe(3);
    expect(parseWorkers('50%', 4)).toBe(2);
    expect(parseWorkers('150%', 2)).toBe(3);
    expect(parseWorkers('10%', 2)).toBe(1);
    expect(parseWorkers('+2', 4)).toBe(6);
    expect(parseWorkers('-1', 4)).toBe(3);
    expect(parseWorkers('-10', 4)).toBe(1);
    expect(parseWorkers('0', 4)).toBe(JOBS_ZERO);
    expect(parseWorkers(undefined, 4)).toBe(4);
    for (const bad of ['', 'x', '1.5', '+', '-', '+-1', '0%', '10001', '1e3', '--1', 'auto']) {
      expect(() => parseWorkers(bad, 4), bad).toThrow(UsageError);
    }
  });

  const forms: Array<[string, number]> = [
    ['2', 2],
    ['+1', cores + 1],
    ['-1', Math.max(1, cores - 1)],
    ['-1000', 1],
    ['100%', cores],
    ['0', JOBS_ZERO],
  ];
  for (const [value, expected] of forms) {
    it(`-w ${value}, --workers=${value}, -j ${value} and -j${value} all give ${expected}`, async () => {
      const got = await Promise.all([
        width(['-w', value]),
        width([`--workers=${value}`]),
        width(['-j', value]),
        width([`-j${value}`]),
        width([`--jobs=${value}`]),
      ]);
      expect(got).toEqual([expected, expected, expected, expected, expected]);
    });
  }

  it('-j auto is -w auto (the width is bounded by --max-workers)', async () => {
    expect(await width(['-j', 'auto', '--max-workers', '5'])).toBe(5);
    expect(await width(['-w', 'auto', '--max-workers', '5'])).toBe(5);
  });

  it('bad values and both options: exit 2 naming the option as written', async () => {
    const dir = temp();
    const jobs = writeJobs(dir, ['true']);
    const cases: Array<[string[], RegExp]> = [
      [['-w', 'x'], /^poolrun: --workers: expected .*"x"/m],
      [['-j', 'x'], /^poolrun: -j\/--jobs: expected .*"x"/m],
      [['-j', 'auto5'], /-j\/--jobs: expected .*"auto5"/],
      [['-j', '2', '-w', '3'], /both set the pool size/],
      [['-j', '-1', '-w', '-1'], /both set the pool size/],
      [['-j', 'auto', '--queue', 'redis://127.0.0.1:1/0'], /-j\/--jobs auto is for a local pool/],
    ];
    for (const [words, msg] of cases) {
      const r = await poolrun([...words, jobs]);
      expect(r.code, words.join(' ')).toBe(2);
      expect(r.stderr, words.join(' ')).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('poolrun worker -w takes N, N%, +N, -N; auto is exit 2', async () => {
    // A queue nobody serves: the options are checked before any connection, so a bad -w is exit 2 at once.
    const r = await poolrun(['worker', '--queue', 'redis://127.0.0.1:1/0', '-w', 'auto']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--workers: auto is for a local run; poolrun worker takes N/);
    const bad = await poolrun(['worker', '--queue', 'redis://127.0.0.1:1/0', '-w', '1x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--workers: expected .*"1x"/);
  });

  it('poolrun worker --lock-duration below 1s is exit 2 with one message, 0 and 1ms alike', async () => {
    for (const v of ['0', '1ms', '999ms']) {
      const r = await poolrun(['worker', '--queue', 'redis://127.0.0.1:1/0', '--lock-duration', v]);
      expect(r.code, v).toBe(2);
      expect(r.stderr, v).toMatch(new RegExp(`^poolrun: --lock-duration: expected at least 1s, got "${v}"`));
    }
  });
});
