/**
 * Durations as GNU parallel takes them (`man parallel`, --delay/--timeout: s m h d, compounded as 1d2h3m4s),
 * plus ms; everywhere durations are read: options and the job file's `timeout`. Garbage: exit 2 naming where.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DURATION, parseDuration } from '../../src/util/duration.js';
import { poolrun, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();

describe('parseDuration', () => {
  it.each([
    ['1d', 86_400_000],
    ['2m0s', 120_000],
    ['1d2h3m4s', 93_784_000],
    ['1h30m', 5_400_000],
    ['2m30', 150_000],
    ['500ms', 500],
    ['1.5', 1500],
    ['.5h', 1_800_000],
    [' 3 s ', 3000],
    ['24d', 2_073_600_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(DURATION.test(text)).toBe(true);
  });

  it.each(['', ' ', 'x', '1 2', '1dd', '-1', '1e3', 'd', '1w', '25d'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('the job file schema takes the same texts', () => {
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../schema/jobs.schema.json'), 'utf8'),
    ) as {
      $defs?: Record<string, { pattern?: string }>;
    };
    expect(JSON.stringify(schema)).toContain(JSON.stringify(DURATION.source));
  });
});

describe('durations on the command line and in the job file', () => {
  it('takes d and compound forms for --delay, --timeout and a job timeout', async () => {
    const cwd = temp();
    const file = writeJobs(cwd, [
      { id: 'a', run: 'echo a', timeout: '1d2h3m4s' },
      { id: 'b', run: 'echo b', timeout: '2m0s' },
    ]);
    for (const args of [
      ['--delay', '2m0s'],
      ['--timeout', '1d'],
      ['--timeout', '24d'],
      ['--delay', '0d0s'],
    ]) {
      const r = await poolrun(['-q', ...args.slice(0, 2), '--dry-run', file], { cwd });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const r = await poolrun(['-q', '--timeout', '1d', file], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('a\nb\n');
  });

  it('refuses garbage and past-the-limit values, naming the option or field', async () => {
    const cwd = temp();
    const file = writeJobs(cwd, [{ run: 'true' }]);
    for (const opt of ['--delay', '--timeout', '--deadline', '--kill-after', '--retry-delay']) {
      const r = await poolrun([opt, '1dx', file], { cwd });
      expect(r.code, opt).toBe(2);
      expect(r.stderr).toContain(`${opt}: expected a duration`);
      expect(r.stderr).toContain('1d');
    }
    const long = await poolrun(['--timeout', '25d', file], { cwd });
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('--timeout: expected a duration from 1ms to 24.8 days');
    const delay = await poolrun(['--delay', '30d', file], { cwd });
    expect(delay.code).toBe(2);
    expect(delay.stderr).toContain('--delay: expected a duration from 0 to 24.8 days');
    const bad = writeJobs(cwd, [{ run: 'true', timeout: '1d2x' }]);
    const f = await poolrun([bad], { cwd });
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/timeout/);
    const far = writeJobs(cwd, [{ run: 'true', timeout: '25d' }]);
    const g = await poolrun([far], { cwd });
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('expected a duration from 1ms to 24.8 days, got "25d"');
    expect(g.stderr).not.toMatch(/\n\s+at /);
  });
});
