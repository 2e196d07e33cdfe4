/**
 * `--joblog -` writes the joblog on stdout, as GNU parallel does (`parallel -k --joblog - CMD ::: A B`): the header
 * first, then each job's output followed by its line. Nothing named `-` is created. What would read the log back
 * (--resume, --schedule longest-first) or also take stdout (--json -, NDJSON, --junit -) is exit 2, as is an empty
 * --junit.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from '../gnu/run-tool.js';
import { BIN, poolrun, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();
const GNU = '/usr/bin/parallel';

/** Timing columns (Starttime, JobRuntime) blanked; poolrun's JobId and JobHash columns dropped. */
function untimed(stdout: string): string {
  return stdout
    .split('\n')
    .map((line) => {
      const f = line.split('\t');
      if (f.length < 9) return line;
      if (f[0] !== 'Seq') [f[2], f[3]] = ['T', 'T'];
      return f.slice(0, 9).join('\t');
    })
    .join('\n');
}

describe('--joblog - (stdout)', () => {
  it('prints the header, then each job output followed by its line, in input order', async () => {
    const dir = temp();
    const r = await poolrun(['-q', '--joblog', '-', "sleep 0.{}; printf '%s\\n' {}", ':::', '3', '1', '2'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.replace(/\n$/, '').split('\n');
    expect(lines[0]!.split('\t').slice(0, 9)).toEqual([
      'Seq',
      'Host',
      'Starttime',
      'JobRuntime',
      'Send',
      'Receive',
      'Exitval',
      'Signal',
      'Command',
    ]);
    expect(lines.filter((_, i) => i % 2 === 1)).toEqual(['3', '1', '2']);
    expect(lines.filter((_, i) => i > 0 && i % 2 === 0 && i < 7).map((l) => l.split('\t')[0])).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!existsSync(GNU))(
    'the same bytes as GNU parallel -k --joblog -, timing columns aside',
    async () => {
      const dir = temp();
      const args = ['--joblog', '-', 'echo', ':::', 'a', 'b'];
      const [p, g] = await Promise.all([
        runTool(BIN, ['-q', '-j', '2', ...args], dir),
        runTool(GNU, ['--will-cite', '-k', '-j', '2', ...args], dir),
      ]);
      expect(p.code).toBe(g.code);
      expect(untimed(p.stdout)).toBe(untimed(g.stdout));
      expect(existsSync(join(dir, '-'))).toBe(false);
    },
  );

  it('a job file run: a failed job has its line too, and the summary offers no --resume of "-"', async () => {
    const dir = temp();
    const jobs = writeJobs(dir, ['echo one', 'echo two; exit 3']);
    const r = await poolrun(['--reporter', 'plain', '--joblog', '-', jobs], { cwd: dir });
    expect(r.code).toBe(1);
    const rows = r.stdout.split('\n').filter((l) => /^\d+\t/.test(l));
    expect(rows.map((l) => l.split('\t')[6])).toEqual(['0', '3']);
    expect(r.stderr).not.toMatch(/--joblog -/);
    expect(existsSync(join(dir, '-'))).toBe(false);
  });

  it('with what reads the log or takes stdout: exit 2, nothing run, no file named -', async () => {
    const dir = temp();
    const jobs = writeJobs(dir, ['touch ran']);
    const cases: Array<[string[], RegExp]> = [
      [['--joblog', '-', '--resume'], /--resume reads the earlier run's log: give --joblog a file name/],
      [['--joblog', '-', '--resume-failed'], /--resume-failed reads/],
      [['--joblog', '-', '--schedule', 'longest-first'], /--schedule longest-first reads durations/],
      [['--joblog', '-', '--json', '-'], /--joblog - and --json - both write to stdout/],
      [['--joblog', '-', '--reporter', 'ndjson'], /--joblog - and --reporter ndjson/],
      [['--joblog', '-', '--junit', '-'], /--joblog - and --junit - both write to stdout/],
      [['--junit='], /--junit: expected a file name/],
      [['--json='], /--json: expected a file name/],
      [['--joblog='], /--joblog: expected a file name/],
      [['--json', ''], /--json: expected a file name/],
      [['--joblog', ''], /--joblog: expected a file name/],
      [['--junit', ''], /--junit: expected a file name/],
      [['--report='], /--report: expected a file name/],
    ];
    for (const [words, msg] of cases) {
      const r = await poolrun([...words, jobs], { cwd: dir });
      expect(r.code, words.join(' ')).toBe(2);
      expect(r.stderr, words.join(' ')).toMatch(msg);
    }
    expect(readdirSync(dir)).toEqual(['jobs.json']);
  });
});
