/**
 * --joblog (GNU parallel's columns, plus JobId and JobHash) and --resume / --resume-failed, including after
 * poolrun itself was killed with SIGKILL halfway through.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, poolrun, useTempDirs, waitFor } from '../helpers.js';
import { lines, modes, readNumbers, startPoolrun, survivors, writeJobs } from '../cli/failure-helpers.js';

const temp = useTempDirs();

const GNU_COLUMNS = [
  'Seq',
  'Host',
  'Starttime',
  'JobRuntime',
  'Send',
  'Receive',
  'Exitval',
  'Signal',
  'Command',
];

interface Row {
  seq: string;
  host: string;
  start: string;
  runtime: string;
  send: string;
  receive: string;
  exitval: string;
  signal: string;
  command: string;
  id: string;
  hash: string;
}

function rows(log: string): Row[] {
  const [header, ...rest] = readFileSync(log, 'utf8').split('\n').slice(0, -1);
  expect(header!.split('\t')).toEqual([...GNU_COLUMNS, 'JobId', 'JobHash']);
  return rest.map((l) => {
    const f = l.split('\t');
    expect(f, l).toHaveLength(11);
    const [seq, host, start, runtime, send, receive, exitval, signal, command, id, hash] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    return { seq, host, start, runtime, send, receive, exitval, signal, command, id, hash };
  });
}

describe.each(modes)('--joblog (%s mode)', (mode) => {
  it("one line per finished job in GNU parallel's columns; a killed job is Exitval -1 with its signal", async () => {
    const dir = temp();
    const log = join(dir, 'joblog');
    const file = writeJobs(dir, [
      { id: 'ok', run: 'echo hi' },
      { id: 'exit7', run: 'exit 7' },
      { id: 'self-killed', run: 'kill -9 $$' },
      { id: 'slow', run: 'sleep 10', timeout: '300ms' },
      { id: 'tab\tand\nnewline', run: "printf '%s\\n' 'a\tb'\necho two" },
    ]);
    const before = Date.now() / 1000;
    const r = await poolrun(['-q', '-m', mode, '-w', '5', '--joblog', log, file]);
    expect(r.code).toBe(1);
    const byId = new Map(rows(log).map((x) => [x.id, x]));
    expect([...byId.keys()].sort()).toEqual(['exit7', 'ok', 'self-killed', 'slow', 'tab\\tand\\nnewline']);
    const ok = byId.get('ok')!;
    expect(ok).toMatchObject({ seq: '1', host: ':', send: '0', receive: '3', exitval: '0', signal: '0' });
    expect(ok.command).toBe('echo hi');
    expect(ok.start).toMatch(/^\d+\.\d{3}$/);
    expect(Number(ok.start)).toBeGreaterThanOrEqual(Math.floor(before));
    expect(Number(ok.start)).toBeLessThan(before + 30);
    expect(ok.runtime).toMatch(/^ *\d+\.\d{3}$/);
    expect(ok.runtime).toHaveLength(10);
    expect(ok.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(byId.get('exit7')).toMatchObject({ seq: '2', exitval: '7', signal: '0' });
    expect(byId.get('self-killed')).toMatchObject({ seq: '3', exitval: '0', signal: '9' });
    expect(byId.get('slow')).toMatchObject({ seq: '4', exitval: '-1', signal: '15' });
    expect(byId.get('tab\\tand\\nnewline')!.command).toBe("printf '%s\\\\n' 'a\\tb'\\necho two");
  });

  it('jobs poolrun cancelled or killed (--halt now) are not logged: --resume runs them, not the failure', async () => {
    const dir = temp();
    const log = join(dir, 'joblog');
    const ran = join(dir, 'ran');
    const jobs = [
      { id: 'slow', run: `echo slow >> ${ran}; sleep 10` },
      { id: 'bad', run: 'sleep 0.3; exit 3' },
      { id: 'later', run: `echo later >> ${ran}` },
    ];
    const file = writeJobs(dir, jobs);
    const r1 = await poolrun(['-q', '-m', mode, '-w', '2', '--halt', 'now', '--joblog', log, file]);
    expect(r1.code).toBe(1);
    expect(rows(log).map((x) => x.id)).toEqual(['bad']);
    writeFileSync(ran, '');
    const r2 = await poolrun([
      '-q',
      '-m',
      mode,
      '-w',
      '2',
      '--joblog',
      log,
      '--resume',
      writeJobs(
        dir,
        jobs.map((j) => (j.id === 'slow' ? { ...j, run: `echo slow >> ${ran}` } : j)),
      ),
    ]);
    expect(r2.code).toBe(0);
    expect(lines(ran).sort()).toEqual(['later', 'slow']);
    const [first, ...appended] = rows(log).map((x) => x.id);
    expect(first).toBe('bad');
    expect(appended.sort()).toEqual(['later', 'slow']);
  });
});

describe('--resume and --resume-failed', () => {
  function setup() {
    const dir = temp();
    const log = join(dir, 'joblog');
    const ran = join(dir, 'ran');
    const flag = join(dir, 'flag');
    const jobs = [
      { id: 'a', run: `echo a >> ${ran}; echo out-a` },
      { id: 'b', run: `echo b >> ${ran}; echo out-b` },
      { id: 'c', run: `echo c >> ${ran}; test -e ${flag}` },
      { id: 'd', run: `echo d >> ${ran}; echo out-d` },
    ];
    return { dir, log, ran, flag, jobs, file: writeJobs(dir, jobs) };
  }

  it('--resume skips every job the log records, failed ones too; output of the rest stays in order', async () => {
    const { dir, log, ran, jobs, file } = setup();
    expect((await poolrun(['-q', '-w', '1', '--joblog', log, file])).code).toBe(1);
    expect(lines(ran).sort()).toEqual(['a', 'b', 'c', 'd']);
    writeFileSync(ran, '');
    // Nothing left: nothing runs, exit 0.
    const again = await poolrun(['--joblog', log, '--resume', file]);
    expect(again.code).toBe(0);
    expect(lines(ran)).toEqual([]);
    expect(again.stderr).toContain('--resume: 4 job(s) the joblog records as done were not run again');
    // A new job and an edited one run; output in input order around the skipped ones.
    const edited = writeJobs(dir, [
      ...jobs.slice(0, 1),
      { id: 'b', run: `echo b >> ${ran}; echo out-b-edited` },
      ...jobs.slice(2),
      { id: 'e', run: `echo e >> ${ran}; echo out-e` },
    ]);
    const r = await poolrun(['-q', '-w', '1', '--joblog', log, '--resume', edited]);
    expect(r.code).toBe(0);
    expect(lines(ran)).toEqual(['b', 'e']);
    expect(r.stdout).toBe('out-b-edited\nout-e\n');
    // Appended, not rewritten.
    expect(rows(log).map((x) => x.id)).toEqual(['a', 'b', 'c', 'd', 'b', 'e']);
  });

  it('a job after skipped ones is printed as soon as it is done, not held for them', async () => {
    const { dir, log, file } = setup();
    await poolrun(['-q', '-w', '1', '--joblog', log, file]);
    const more = writeJobs(dir, [
      { id: 'a', run: `echo a >> ${join(dir, 'ran')}; echo out-a` },
      { id: 'fresh', run: 'echo out-fresh' },
      { id: 'slow', run: 'sleep 3; echo out-slow' },
    ]);
    const child = startPoolrun(['-q', '-w', '2', '--joblog', log, '--resume', more]);
    let firstOutputAt = 0;
    const t0 = performance.now();
    child.stdout.once('data', () => (firstOutputAt = performance.now() - t0));
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('out-fresh\nout-slow\n');
    expect(firstOutputAt).toBeGreaterThan(0);
    expect(firstOutputAt).toBeLessThan(2500);
  });

  it('--resume-failed re-runs only the failed ones', async () => {
    const { log, ran, flag, file } = setup();
    expect((await poolrun(['-q', '-w', '1', '--joblog', log, file])).code).toBe(1);
    writeFileSync(ran, '');
    writeFileSync(flag, '');
    const r = await poolrun(['-q', '-w', '1', '--joblog', log, '--resume-failed', file]);
    expect(r.code).toBe(0);
    expect(lines(ran)).toEqual(['c']);
    writeFileSync(ran, '');
    expect((await poolrun(['-q', '-w', '1', '--joblog', log, '--resume-failed', file])).code).toBe(0);
    expect(lines(ran)).toEqual([]);
  });

  it('--dry-run --resume lists only the jobs that would run', async () => {
    const { log, ran, file } = setup();
    await poolrun(['-q', '-w', '1', '--joblog', log, file]);
    const r = await poolrun(['--dry-run', '--joblog', log, '--resume-failed', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`echo c >> ${ran}; test -e ${join(log, '..', 'flag')}\n`);
  });

  it('without --resume the joblog starts afresh', async () => {
    const { log, file } = setup();
    await poolrun(['-q', '-w', '1', '--joblog', log, file]);
    await poolrun(['-q', '-w', '1', '--joblog', log, file]);
    expect(rows(log)).toHaveLength(4);
  });

  it('a torn last line (poolrun killed mid-write) is ignored, and cut off before new lines are appended', async () => {
    const { log, ran, file } = setup();
    await poolrun(['-q', '-w', '1', '--joblog', log, file]);
    const text = readFileSync(log, 'utf8');
    const all = text.split('\n');
    // Keep the header and jobs a, b; then half of c's line.
    const torn = `${all.slice(0, 3).join('\n')}\n${all[3]!.slice(0, 25)}`;
    writeFileSync(log, torn);
    writeFileSync(ran, '');
    const r = await poolrun(['-q', '-w', '1', '--joblog', log, '--resume', file]);
    expect(r.code).toBe(1); // c runs again, and fails again (no flag)
    expect(r.stderr).not.toMatch(/warning|\n\s+at /);
    expect(lines(ran).sort()).toEqual(['c', 'd']);
    expect(rows(log).map((x) => x.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('--resume without --joblog, or a joblog that cannot be written: exit 2, nothing runs', async () => {
    const { dir, ran, file } = setup();
    const r1 = await poolrun(['--resume', file]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/--resume needs --joblog/);
    const r2 = await poolrun(['--joblog', join(dir, 'no', 'such', 'dir', 'log'), file]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^poolrun: --joblog: cannot write .*no\/such\/dir\/log/);
    expect(existsSync(ran)).toBe(false);
  });
});

describe('the joblog across runs', () => {
  it('--shuf: --resume runs nothing a shuffled run finished, --resume-failed only what failed, whatever the order', async () => {
    const dir = temp();
    const log = join(dir, 'log');
    const ran = join(dir, 'ran');
    const values = 'a b c d e f g h i j'.split(' ');
    // Jobs of the values c, f and i fail; every job notes its value when it runs.
    const cmd = `echo {} >> ${ran}; case {} in c|f|i) exit 1;; esac`;
    const shuffled = (...resume: string[]) =>
      poolrun(['-q', '-w', '2', '--shuf', '--joblog', log, ...resume, cmd, ':::', ...values]);
    const first = await shuffled();
    expect(first.code).toBe(3); // GNU's form: the number of jobs that failed
    expect(lines(ran).sort()).toEqual(values);
    for (let round = 0; round < 3; round++) {
      writeFileSync(ran, '');
      const again = await shuffled('--resume');
      expect(again.code).toBe(0);
      expect(lines(ran)).toEqual([]);
    }
    writeFileSync(ran, '');
    const failed = await shuffled('--resume-failed');
    expect(failed.code).toBe(3);
    expect(lines(ran).sort()).toEqual(['c', 'f', 'i']);
    // A job keeps its input position as its id, and {#}; Seq counts in the order the jobs ran.
    const r = await poolrun([
      '-q',
      '-w',
      '1',
      '--shuf',
      '--joblog',
      join(dir, 'n.log'),
      'echo {#} {}',
      ':::',
      ...values,
    ]);
    const byId = rows(join(dir, 'n.log')).map((x) => [x.id, x.command]);
    expect(byId.map(([, c]) => c)).toEqual(byId.map(([id]) => `echo ${id} ${values[Number(id) - 1]}`));
    expect(rows(join(dir, 'n.log')).map((x) => x.seq)).toEqual(values.map((_, k) => String(k + 1)));
    expect(
      r.stdout
        .split('\n')
        .slice(0, -1)
        .map((l) => l.split(' ')[0]),
    ).toEqual(byId.map(([id]) => id));
  });

  it('a run refused before any job (exit 2: a missing :::: or -a file, a NUL in the first line on stdin) leaves the earlier log as it was', async () => {
    const dir = temp();
    const log = join(dir, 'log');
    expect((await poolrun(['-q', '--joblog', log, 'exit {}', ':::', '0', '1'])).code).toBe(1);
    const before = readFileSync(log);
    expect(before.toString().split('\n')).toHaveLength(4);
    const refused = [
      await poolrun(['-q', '--joblog', log, 'echo {}', '::::', join(dir, 'no-such-file')]),
      await poolrun(['-q', '--joblog', log, '-a', join(dir, 'no-such-file'), 'echo {}']),
      await poolrun(['-q', '--joblog', log, '--each', 'echo {}'], {
        input: Buffer.from([0x61, 0x00, 0x62, 0x0a]),
      }),
    ];
    for (const r of refused) {
      expect(r.code).toBe(2);
      expect(readFileSync(log).equals(before)).toBe(true);
    }
    // A run that does begin starts the log afresh, even one of no jobs at all.
    expect((await poolrun(['-q', '--joblog', log, 'echo {}', ':::', 'x'])).code).toBe(0);
    expect(rows(log).map((x) => x.command)).toEqual(['echo x']);
    expect((await poolrun(['-q', '--joblog', log, '--each', 'echo {}'], { input: '' })).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe(`${GNU_COLUMNS.join('\t')}\tJobId\tJobHash\n`);
  });

  it('the rerun hint is one line and, typed back into bash, runs the very bytes that failed', async () => {
    const dir = temp();
    const log = join(dir, 'log');
    const ran = join(dir, 'ran');
    // Values bash makes from $'…': not UTF-8, a newline, an escape sequence, a quote.
    const script = `exec "$0" "$1" --joblog log 'printf "%s|" {} >> ran; exit 1' ::: $'caf\\xe9' $'a\\nb' $'e\\x1b[2Jf' "it's"`;
    const first = await execa('bash', ['-c', script, process.execPath, BIN], { cwd: dir, reject: false });
    expect(first.exitCode).toBe(4); // GNU's form: the number of jobs that failed
    const hint = first.stderr.split('\n').find((l) => l.includes('to rerun what did not succeed'))!;
    expect(hint).toBeDefined();
    // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
    expect(hint).not.toMatch(/[\u0000-\u001f\u007f-\u009f\ufffd]/);
    const once = readFileSync(ran);
    expect(once.includes(Buffer.from('caf\xe9|', 'latin1'))).toBe(true);
    writeFileSync(ran, '');
    const rerun = hint.replace(/^.*to rerun what did not succeed: poolrun /, 'exec "$0" "$1" ');
    const second = await execa('bash', ['-c', rerun, process.execPath, BIN], { cwd: dir, reject: false });
    expect(second.exitCode).toBe(4);
    // The same four jobs ran again, with the same bytes (a changed value would be a new job of its own).
    expect([...readFileSync(ran).toString('latin1').split('|')].sort()).toEqual(
      [...once.toString('latin1').split('|')].sort(),
    );
    expect(rows(log)).toHaveLength(8);
    const hashes = rows(log).map((x) => x.hash);
    expect(new Set(hashes).size).toBe(4);
  });
});

describe.each(modes)('crash recovery (%s mode)', (mode) => {
  it('kill -9 poolrun halfway through 40 jobs; --resume runs the rest: every id once, none twice', async () => {
    const dir = temp();
    const log = join(dir, 'joblog');
    const ids = join(dir, 'ids');
    const pids = join(dir, 'pids');
    const jobs = Array.from({ length: 40 }, (_, i) => ({
      id: `job${i + 1}`,
      run: `echo $$ >> ${pids}; sleep 0.2; echo job${i + 1} >> ${ids}`,
    }));
    const file = writeJobs(dir, jobs);
    const child = startPoolrun(['-q', '-m', mode, '-w', '4', '--kill-after', '1s', '--joblog', log, file]);
    expect(await waitFor(() => lines(ids).length >= 20, 60_000, 20)).toBe(true);
    child.kill('SIGKILL');
    await child;
    const started = readNumbers(pids);
    // The jobs it was running die with it (the watchdog, or the worker processes, kill them).
    expect(await waitFor(() => survivors(started).length === 0, 2000)).toBe(true);
    const logged = rows(log).map((x) => x.id);
    expect(logged.length).toBeGreaterThanOrEqual(15);
    expect(logged.length).toBeLessThan(40);

    const r = await poolrun(['-q', '-m', mode, '-w', '4', '--joblog', log, '--resume', file]);
    expect(r.code).toBe(0);
    const seen = lines(ids);
    expect(new Set(seen)).toEqual(new Set(jobs.map((j) => j.id)));
    const count = (id: string) => seen.filter((x) => x === id).length;
    // A job the log recorded as done never runs again. (One that finished in the instant between its last
    // write and its log line may: delivery is at least once, never zero.)
    for (const id of logged) expect(count(id), id).toBe(1);
    const twice = jobs.map((j) => j.id).filter((id) => count(id) > 1);
    expect(twice.length).toBeLessThanOrEqual(4);
    expect(
      rows(log)
        .map((x) => x.id)
        .sort(),
    ).toEqual(jobs.map((j) => j.id).sort());
  });
});
