/**
 * A command of plain words runs without /bin/sh, and nothing else about it changes: the same environment
 * (PWD as dash sets it, names dash drops dropped), exit status, signal, and dash's own messages when the
 * command cannot be run. Each check runs the same command twice: as a plain command (run directly) and with a
 * trailing `;` (shell syntax, so through /bin/sh as before).
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, readJson, useTempDirs } from '../../helpers.js';

const temp = useTempDirs();
function script(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  chmodSync(file, 0o755);
  return file;
}

/** Runs jobs with --json and returns the results, in input order. */
async function runJobs(dir: string, jobs: unknown[], args: string[] = []) {
  const file = join(dir, 'jobs.json');
  writeFileSync(file, JSON.stringify(jobs));
  const json = join(dir, 'out.json');
  const r = await poolrun(['-q', '-w', '1', '--json', json, ...args, file]);
  return { code: r.code, results: readJson(json).results };
}

describe.each(['thread', 'process'])('plain commands run directly (%s mode)', (mode) => {
  it('run without a shell in between: their parent is the worker', async () => {
    const dir = temp();
    script(dir, 'parent', '#!/bin/sh\necho $PPID; cat /proc/$PPID/comm\n');
    const { results } = await runJobs(
      dir,
      [
        { run: './parent', cwd: dir },
        { run: './parent;', cwd: dir },
      ],
      ['-m', mode],
    );
    // The worker (its pid is the result's) is the parent of the program itself; a shell is for `./parent;`.
    const [ppid0, comm0] = results[0]!.stdout.split('\n');
    expect(results[0]!.pid).toBeGreaterThan(0);
    expect(ppid0).toBe(String(results[0]!.pid));
    expect(comm0).not.toBe('sh');
    const [ppid1, comm1] = results[1]!.stdout.split('\n');
    expect(comm1).toBe('sh');
    expect(ppid1).not.toBe(String(results[1]!.pid));
  });

  it('see the environment the shell would have passed on', async () => {
    const dir = temp();
    const real = join(dir, 'real');
    mkdirSync(real);
    const link = join(dir, 'link');
    symlinkSync(real, link);
    const env = { GOOD_NAME: 'kept', 'BAD-NAME': 'dropped by dash', EMPTY: '' };
    const jobs = [
      { run: 'env', env },
      { run: 'env;', env },
      // PWD inherited and naming the folder through a symlink: kept as is.
      { run: 'env', env: { ...env, PWD: link }, cwd: link },
      { run: 'env;', env: { ...env, PWD: link }, cwd: link },
      // PWD that names another folder: replaced by the real path.
      { run: 'env', env: { ...env, PWD: dir }, cwd: link },
      { run: 'env;', env: { ...env, PWD: dir }, cwd: link },
    ];
    const { code, results } = await runJobs(dir, jobs, ['-m', mode]);
    expect(code).toBe(0);
    const vars = (s: string) =>
      s
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('POOLRUN_JOB_') && !l.startsWith('PARALLEL_SEQ='))
        .sort();
    for (let i = 0; i < jobs.length; i += 2) {
      expect(vars(results[i]!.stdout)).toEqual(vars(results[i + 1]!.stdout));
    }
    expect(results[0]!.stdout).toContain('GOOD_NAME=kept\n');
    expect(results[0]!.stdout).not.toContain('BAD-NAME');
    expect(results[2]!.stdout).toContain(`PWD=${link}\n`);
    expect(results[4]!.stdout).toContain(`PWD=${real}\n`);
  });

  it('end with the same exit status, crash report and kill signal', async () => {
    const dir = temp();
    script(dir, 'exit7', '#!/bin/sh\nexit 7\n');
    script(dir, 'segv', '#!/bin/sh\nkill -SEGV $$\n');
    const jobs = [
      ...['./exit7', './exit7;', './segv', './segv;'].map((run) => ({ run, cwd: dir })),
      // Killed by poolrun's timeout: the whole group gets SIGTERM, the shell included.
      { run: 'sleep 5', timeout: '300ms' },
      { run: 'sleep 5;', timeout: '300ms' },
    ];
    const { code, results } = await runJobs(dir, jobs, ['-m', mode]);
    expect(code).toBe(1);
    const ends = results.map((r) => [r.status, r.exitCode, r.signal, r.stderr]);
    expect(ends).toEqual([
      ['failed', 7, null, ''],
      ['failed', 7, null, ''],
      // dash, whose child died of a signal, says so and exits 128 + n.
      ['failed', 139, null, 'Segmentation fault\n'],
      ['failed', 139, null, 'Segmentation fault\n'],
      ['timed-out', null, 'SIGTERM', ''],
      ['timed-out', null, 'SIGTERM', ''],
    ]);
  });

  it('say what dash says when a command cannot be run, and run scripts without #! as dash does', async () => {
    const dir = temp();
    script(dir, 'noshebang', 'echo "ran by the shell"\n');
    writeFileSync(join(dir, 'notexec'), '#!/bin/sh\necho never\n');
    const jobs = [
      'no-such-command-poolrun-test',
      'no-such-command-poolrun-test;',
      './notexec',
      './notexec;',
      './noshebang',
    ].map((run) => ({ run, cwd: dir }));
    const { results } = await runJobs(dir, jobs, ['-m', mode]);
    expect(results[0]!.exitCode).toBe(127);
    expect(results[0]!.stderr).toBe(results[1]!.stderr);
    expect(results[0]!.stderr).toContain('not found');
    expect(results[2]!.exitCode).toBe(126);
    expect(results[2]!.stderr).toBe(results[3]!.stderr);
    expect(results[4]!.stdout).toBe('ran by the shell\n');
    expect(results[4]!.exitCode).toBe(0);
  });
});

describe('what is not a plain command still goes through the shell', () => {
  it('builtins, assignments, quotes, globs and variables keep their shell meaning', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'a.txt'), '');
    const jobs = [
      { run: 'echo a\\\\tb' },
      { run: 'X=1 env' },
      { run: 'echo *.txt', cwd: dir },
      { run: 'echo $POOLRUN_JOB_INDEX' },
      { run: 'true' },
      { run: 'cd /' },
    ];
    const { code, results } = await runJobs(dir, jobs);
    expect(code).toBe(0);
    expect(results[0]!.stdout).toBe('a\tb\n'); // dash's echo reads backslash escapes; /bin/echo would not
    expect(results[1]!.stdout).toContain('X=1\n');
    expect(results[2]!.stdout).toBe('a.txt\n');
    expect(results[3]!.stdout).toBe('4\n');
  });
});
