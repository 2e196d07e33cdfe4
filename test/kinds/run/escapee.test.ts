/**
 * A job poolrun kills (its timeout, a cancel, Ctrl-C) is over when its process group is: a process that left the
 * group (`setsid`) and still holds the job's stdout is not waited for. It dies at the run's end (it carries the
 * run's token). Before, the timeout or the Ctrl-C lasted as long as that process did.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, pidAlive, poolrun, readJson, type ResultsDoc, useTempDirs, waitFor } from '../../helpers.js';
import { execa } from 'execa';
import { modes, readNumbers, startPoolrun, writeJobs } from '../../cli/failure-helpers.js';

const temp = useTempDirs();

/** Job `esc`: leaves a `sleep 60` outside its group holding its stdout, says so, prints, and sleeps itself. */
function escJobs(dir: string, extra: object = {}) {
  const pids = join(dir, 'pids');
  const file = writeJobs(dir, [
    {
      id: 'esc',
      run: `setsid sleep 60 & echo $! >> ${pids}; echo $$ >> ${pids}; echo before; touch ${dir}/ready; sleep 61`,
      ...extra,
    },
  ]);
  return { file, pids };
}

describe.each(modes)('%s mode: a killed job whose escaped process holds its pipes', (mode) => {
  it('a timeout ends it once its group is dead, with what it printed; the escapee dies at the run end', async () => {
    const dir = temp();
    const { file, pids } = escJobs(dir, { timeout: '1s' });
    const out = join(dir, 'out.json');
    const r = await poolrun(['-m', mode, '--kill-after', '1s', '--json', out, file]);
    expect(r.code, r.stderr).toBe(1);
    const [res] = readJson<ResultsDoc>(out).results;
    expect(res!.status).toBe('timed-out');
    // 1 s, plus the grace: never the escapee's 60 s.
    expect(res!.durationMs).toBeLessThan(20_000);
    expect(r.stdout).toContain('before');
    const [escapee] = readNumbers(pids);
    expect(await waitFor(() => !pidAlive(escapee!), 10_000)).toBe(true);
  });

  it('Ctrl-C: poolrun exits 130 once the group is dead, and the escapee is gone', async () => {
    const dir = temp();
    const { file, pids } = escJobs(dir);
    const run = startPoolrun(['-m', mode, '--kill-after', '1s', '--json', join(dir, 'out.json'), file]);
    expect(await waitFor(() => existsSync(join(dir, 'ready')), 20_000)).toBe(true);
    const t0 = Date.now();
    run.kill('SIGINT');
    const r = await run;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(readFileSync(join(dir, 'out.json'), 'utf8')).toContain('"cancelled"');
    const [escapee, job] = readNumbers(pids);
    expect(await waitFor(() => !pidAlive(escapee!) && !pidAlive(job!), 10_000)).toBe(true);
  });
});

/** A new PID namespace, where poolrun is PID 1 (as in a container run without an init): root and util-linux. */
const pidNamespace = spawnSync('unshare', ['--fork', '--pid', '--mount-proc', 'true']).status === 0;

describe.skipIf(!pidNamespace).each(modes)('%s mode: poolrun as PID 1 (no init reaps orphans)', (mode) => {
  it('a timed-out job is over once its group has only zombies left, not when the escapee ends', async () => {
    // Fresh-eyes probe: the job's `sleep 100`, orphaned and killed, stays a zombie in the job's group (its new
    // parent, poolrun, reaps only its own children), so the group never looked empty: the job lasted as long as
    // the escaped `sleep 8` held its stdout.
    const dir = temp();
    const out = join(dir, 'out.json');
    const t0 = Date.now();
    const r = await execa(
      'unshare',
      [
        '--fork',
        '--pid',
        '--mount-proc',
        process.execPath,
        BIN,
        '-q',
        '-m',
        mode,
        '--timeout',
        '300ms',
      ].concat(['--kill-after', '300ms', '--json', out, '--each', 'setsid sleep 8 & sleep 100; : {}', 'x']),
      { cwd: dir, reject: false, timeout: 30_000 },
    );
    expect(r.exitCode, r.stderr).toBe(1);
    const [res] = readJson<ResultsDoc>(out).results;
    expect(res!.status).toBe('timed-out');
    expect(res!.durationMs, 'the job waited for the escapee').toBeLessThan(5000);
    expect(Date.now() - t0).toBeLessThan(7500);
  });
});

describe.each(modes)(
  '%s mode: a job whose own processes have exited, its output held by an escapee',
  (mode) => {
    it('is timed-out, not succeeded, when its timeout ends the wait; one whose escapee lets go in time succeeds', async () => {
      // Fresh-eyes probe: `setsid sleep 30 & echo started` with a 500ms timeout was `succeeded`, exit 0. Its shell had
      // exited 0, so the group poolrun signalled was empty, and the job counted as one that ended by itself; but its
      // output was still open: it was not done.
      const dir = temp();
      const out = join(dir, 'out.json');
      const file = writeJobs(dir, [
        {
          id: 'held',
          run: `setsid sleep 30 & echo $! > ${join(dir, 'held.pid')}; echo started`,
          timeout: '500ms',
        },
        { id: 'lets-go', run: 'setsid sleep 0.2 & echo started', timeout: '5s' },
        { id: 'closes', run: 'setsid sleep 30 >/dev/null 2>&1 </dev/null & echo started', timeout: '500ms' },
      ]);
      const r = await poolrun(['-m', mode, '-w', '3', '--kill-after', '1s', '--json', out, file]);
      expect(r.code, r.stderr).toBe(1);
      const byId = Object.fromEntries(readJson<ResultsDoc>(out).results.map((x) => [x.id, x]));
      expect(byId.held!.status).toBe('timed-out');
      expect(byId.held!.exitCode).toBe(0);
      expect(byId['lets-go']!.status).toBe('succeeded');
      expect(byId.closes!.status).toBe('succeeded');
      expect(r.stderr).toMatch(/timed-out held .*timed out after 500ms/);
      const [escapee] = readNumbers(join(dir, 'held.pid'));
      expect(await waitFor(() => !pidAlive(escapee!), 10_000)).toBe(true);
    });
  },
);

describe('a job done before its timeout whose output poolrun held back (a slow reader)', () => {
  it('keeps its own status when the timeout comes while its output waits to be read', async () => {
    // A review: under --output stream into a reader that waits, poolrun stops reading a job's pipes (flow
    // control); the job ended in ~200 ms, the timeout then found its pipes open and it was reported timed-out.
    const dir = temp();
    const out = join(dir, 'out.json');
    const r = await execa(
      'sh',
      [
        '-c',
        `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --output stream --timeout 1s --json ${out} --each 'head -c 350000 /dev/zero | tr "\\0" a | fold -w 99; : {}' x | (sleep 3; wc -c)`,
      ],
      { cwd: dir, reject: false, timeout: 30_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const [res] = readJson<ResultsDoc>(out).results;
    expect(res!.status).toBe('succeeded');
    // All of it (a second review: the pipes were let go unread, and a tenth of the output was lost): 350,000
    // bytes in 3536 lines of fold's, the last without a newline, each printed after `[1] ` and ended by one.
    expect(res!.stdout).toHaveLength(353_535);
    expect(r.stdout.trim()).toBe(String(353_536 + 3536 * 4));
  });

  it('an escapee holding its output is still timed-out once the held-back output is read', async () => {
    const dir = temp();
    const out = join(dir, 'out.json');
    const r = await execa(
      'sh',
      [
        '-c',
        `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} -q --output stream --timeout 1s --json ${out} --each 'setsid sleep 4 & head -c 400000 /dev/zero; : {}' x | (sleep 2.5; wc -c)`,
      ],
      { cwd: dir, reject: false, timeout: 30_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const [res] = readJson<ResultsDoc>(out).results;
    expect(res!.status).toBe('timed-out');
  });
});

describe('an escapee that writes as fast as a slow reader takes', () => {
  it.each(['timeout', 'SIGINT'])(
    'does not keep the run from ending (%s): held-back output is read only as far as pipes hold',
    async (how) => {
      // A third review: `setsid yes` refilled the held-back credit as each piece was read, so the wait for
      // held-back output never ended, through two Ctrl-Cs. The escapee carries the run's token: gone at the end.
      const dir = temp();
      const out = join(dir, 'out.json');
      const pid = join(dir, 'esc.pid');
      const opts = how === 'timeout' ? '--timeout 1s' : '';
      const child = execa(
        'sh',
        [
          '-c',
          `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} -q --output stream ${opts} --kill-after 1s --json ${out} --each 'setsid timeout 40 yes & echo $! > ${pid}; sleep 100; : {}' x | { while [ "$(head -c 20000 | wc -c)" -gt 0 ]; do sleep 0.05; done; }`,
        ],
        { cwd: dir, reject: false, timeout: 80_000 },
      );
      if (how === 'SIGINT') {
        expect(await waitFor(() => existsSync(pid), 10_000)).toBe(true);
        await new Promise((r) => setTimeout(r, 1000));
        // poolrun itself (node), not the sh around it; `--` before a pattern that begins with `-`.
        const pids = spawnSync('pgrep', ['-f', '--', `--json ${out}`])
          .stdout.toString()
          .trim()
          .split('\n');
        const node = pids.filter((p) => p && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'node');
        expect(node).toHaveLength(1);
        process.kill(Number(node[0]), 'SIGINT');
      }
      const r = await child;
      expect(r.timedOut, 'the run did not end').toBe(false);
      const [res] = readJson<ResultsDoc>(out).results;
      expect(res!.status).toBe(how === 'timeout' ? 'timed-out' : 'cancelled');
      const [escapee] = readNumbers(pid);
      expect(await waitFor(() => !pidAlive(escapee!), 10_000)).toBe(true);
    },
    90_000,
  );
});
