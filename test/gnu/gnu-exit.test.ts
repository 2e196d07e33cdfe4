/**
 * Exit statuses and --halt in GNU parallel's form (contract §1a), compared with GNU parallel 20221122 on the same
 * argv: 0 all ok, 1-100 the number of failed (or timed-out) jobs, 101 more; with --halt, the status of the job
 * that halted the run. poolrun's own forms (--each, job files) keep §6: 1 when any job failed.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, GENERATED_TIMEOUT_MS, rng, useTempDirs } from '../helpers.js';
import { runTool, type Out } from './run-tool.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

async function both(args: string[], input = '', files: Record<string, string> = {}): Promise<[Out, Out]> {
  const dir = temp();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Promise.all([
    runTool(GNU, ['--will-cite', '-k', ...args], dir, input),
    runTool(process.execPath, [BIN, '-q', ...args], dir, input),
  ]);
}

async function same(args: string[], input = '', files: Record<string, string> = {}): Promise<number> {
  const [g, p] = await both(args, input, files);
  const what = `${JSON.stringify(args)}\npoolrun stderr: ${p.stderr}\nGNU stderr: ${g.stderr}`;
  expect(p.stdout, what).toBe(g.stdout);
  expect(p.code, what).toBe(g.code);
  return g.code;
}

/** n exit codes, `failures` of them not 0, in a seeded order. */
function codes(seed: number, n: number, failures: number): string[] {
  const r = rng(seed);
  const out = Array.from({ length: n }, (_, i) => (i < failures ? String(1 + Math.floor(r() * 254)) : '0'));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe.skipIf(!existsSync(GNU))('exit status in GNU parallel form, against GNU parallel', () => {
  it(
    'the number of failed jobs, generated sets of exit codes (0..7 failures), every input form',
    async () => {
      for (let seed = 1; seed <= 8; seed++) {
        const set = codes(seed, 8, seed - 1);
        const lines = set.join('\n') + '\n';
        const form = seed % 4;
        const cmd = ['echo', 'x{}x;', 'exit', '{}'];
        const status =
          form === 0
            ? await same([...cmd, ':::', ...set])
            : form === 1
              ? await same([...cmd, '::::', 'codes'], '', { codes: lines })
              : form === 2
                ? await same(['-a', 'codes', ...cmd], '', { codes: lines })
                : await same(cmd, lines);
        expect(status).toBe(seed - 1);
      }
    },
    GENERATED_TIMEOUT_MS,
  );

  it('100 failures exit 100, 101 and 150 exit 101; -N counts jobs, not arguments', async () => {
    for (const n of [100, 101, 150]) {
      const status = await same(['-j', '8', 'exit 1', ':::', ...codes(n, n, n)]);
      expect(status).toBe(Math.min(n, 101));
    }
    expect(await same(['-N', '2', 'exit {1}', ':::', '3', '0', '0', '4', '5', '6'])).toBe(2);
  });

  it('--pipe: the number of blocks whose job failed', async () => {
    const input = Array.from({ length: 10 }, (_, i) => `${i}\n`).join('');
    expect(await same(['--pipe', '-N', '2', 'wc -l; exit 1'], input)).toBe(5);
  });

  it('a timed-out job counts as failed', async () => {
    expect(await same(['--timeout', '3', 'sleep', '{}', ':::', '0', '30', '0', '30'])).toBe(2);
  });

  it('--each and job files keep poolrun exit status 1', async () => {
    const dir = temp();
    const e = await runTool(process.execPath, [BIN, '-q', '--each', 'exit {}', ':::', '0', '2', '3'], dir);
    expect(e.code).toBe(1);
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify(['exit 2', 'exit 3', 'true']));
    const j = await runTool(process.execPath, [BIN, '-q', 'jobs.json'], dir);
    expect(j.code).toBe(1);
  });
});

describe.skipIf(!existsSync(GNU))('--halt in GNU parallel spellings, against GNU parallel (-j1)', () => {
  it(
    'generated job sets: the same output and the halting job exit status',
    async () => {
      const spellings = ['now,fail=1', 'soon,fail=1', '0', '1', '2', 'never'];
      for (let seed = 1; seed <= 12; seed++) {
        const set = codes(seed * 7, 6, seed % 4);
        const halt = spellings[seed % spellings.length]!;
        await same(['-j1', '--halt', halt, 'echo {}; exit {}', ':::', ...set]);
      }
    },
    GENERATED_TIMEOUT_MS,
  );

  it('a job killed by a signal halts with 128+n; a timed-out one with 255', async () => {
    expect(await same(['-j1', '--halt', 'now,fail=1', 'echo {}; kill -9 $$', ':::', 'a', 'b'])).toBe(137);
    expect(
      await same(['-j1', '--halt', '2', '--timeout', '2', 'echo {}; sleep {}', ':::', '0', '30', '0']),
    ).toBe(255);
  });

  it("poolrun's words soon/now halt as soon,fail=1/now,fail=1 do", async () => {
    const dir = temp();
    for (const [ours, gnus] of [
      ['soon', 'soon,fail=1'],
      ['now', 'now,fail=1'],
    ]) {
      const args = ['-j1', 'echo {}; exit {}', ':::', '0', '4', '0'];
      const [g, p] = await Promise.all([
        runTool(GNU, ['--will-cite', '-k', '--halt', gnus!, ...args], dir),
        runTool(process.execPath, [BIN, '-q', '--halt', ours!, ...args], dir),
      ]);
      expect(p.stdout).toBe(g.stdout);
      expect(p.code).toBe(g.code);
    }
  });

  it('--halt now: what the jobs it kills had printed is dropped, as GNU drops it; the others print', async () => {
    // Job 1 fails once job 3 has printed and runs on; job 2 is done by then. Each tool in a folder of its own.
    const cmd =
      'case {} in 1) until [ -e m3 ]; do sleep 0.02; done; echo one; exit 1;; 2) echo two;; ' +
      '3) echo three; echo err3 >&2; touch m3; sleep 20;; esac';
    for (const form of [
      ['-j3', '--halt', 'now,fail=1', cmd, ':::', '1', '2', '3'],
      ['-j3', '--halt', 'now,fail=1', '--tag', cmd, ':::', '1', '2', '3'],
    ]) {
      const g = await runTool(GNU, ['--will-cite', '-k', ...form], temp());
      const p = await runTool(process.execPath, [BIN, '-q', ...form], temp());
      expect(g.stdout, 'the oracle').not.toContain('three');
      expect(p.stdout, JSON.stringify(form)).toBe(g.stdout);
      expect(p.stderr).not.toContain('err3');
      expect(p.code).toBe(g.code);
    }
  });

  it('--halt now: nothing after a killed job prints, in input order, as parallel -k holds it back and never prints it', async () => {
    // a and c print and end; k runs until killed; f fails once a, c and k have started (marker files).
    const cmd =
      'case {} in a) echo a; touch ma;; c) echo c; touch mc;; k) touch mk; sleep 20;; ' +
      'f) until [ -e ma ] && [ -e mc ] && [ -e mk ]; do sleep 0.02; done; echo f; exit 1;; esac';
    for (const values of [
      ['a', 'k', 'c', 'f'],
      ['a', 'f', 'k', 'c'],
      ['k', 'a', 'f', 'c'],
    ]) {
      const form = ['-j4', '--halt', 'now,fail=1', cmd, ':::', ...values];
      const g = await runTool(GNU, ['--will-cite', '-k', ...form], temp());
      const p = await runTool(process.execPath, [BIN, '-q', ...form], temp());
      expect([values, p.stdout]).toEqual([values, g.stdout]);
      expect(p.code).toBe(g.code);
    }
  });

  it('GNU conditions poolrun cannot do: exit 2 naming the nearest poolrun way', async () => {
    const dir = temp();
    for (const v of ['now,fail=2', 'soon,fail=30%', 'now,success=1', 'soon,done=3', '-1', '-2', 'later']) {
      const r = await runTool(process.execPath, [BIN, '--halt', v, 'echo {}', ':::', 'a'], dir);
      expect(r.code, v).toBe(2);
      expect(r.stderr, v).toContain(`--halt: "${v}" is not supported`);
      expect(r.stderr, v).not.toMatch(/Allowed choices/);
      expect(r.stdout, v).toBe('');
    }
  });
});

/**
 * -j N starts N jobs at once, as GNU parallel does: in thread mode a slot's thread is ready 30-100 ms after it is
 * started, and the jobs of the slots after the first waited for theirs. With `--halt soon`, a first job failing in
 * that gap cancelled the second, which GNU starts with the first and lets finish (fresh-eyes probe: 2 of 3 runs).
 * GNU itself is no oracle here: it forks the second job after the first, and under load (CI) the first can fail
 * before it does. poolrun starts both before it can hear of either's end.
 */
describe('-j N starts N jobs at once', () => {
  it('-j2 --halt soon,fail=1: the job started beside the one failing at once runs to its end', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'se.sh'), 'sleep "$1"; echo "done $1"; exit "$2"\n');
    for (let round = 0; round < 4; round++) {
      const args = [
        '-q',
        '-k',
        '-j2',
        '--halt',
        'soon,fail=1',
        'sh',
        'se.sh',
        ':::',
        '0',
        '0.5',
        ':::+',
        '3',
        '0',
      ];
      const r = await runTool(process.execPath, [BIN, ...args], dir);
      expect([r.stdout, r.code], r.stderr).toEqual(['done 0\ndone 0.5\n', 3]);
    }
  });
});

/**
 * A retry runs next, before the jobs queued behind it, as GNU parallel retries (its queue's `unget`): poolrun put
 * it at the back, so `--halt` with `--retries` ran every other job first, and `-k` printed what GNU never ran
 * (fresh-eyes probe: `1 2 3 4 1 1` against GNU's `1 1 1`).
 */
describe.skipIf(!existsSync(GNU))('--retries: a retry runs next, against GNU parallel', () => {
  it.each([
    [['-j1', '--retries', '3']],
    [['-j1', '--retries', '3', '--halt', 'soon,fail=1']],
    [['-j1', '--retries', '2', '--halt', 'now,fail=1']],
  ])('%j: the order jobs start in, stdout and exit status', async (opts) => {
    const run = async (file: string, args: string[]) => {
      const dir = temp();
      const out = await runTool(
        file,
        [...args, ...opts, 'echo {} >> log; echo out{}; test {} != 2', ':::', '1', '2', '3', '4'],
        dir,
      );
      return { ...out, stderr: '', log: readFileSync(join(dir, 'log'), 'utf8') };
    };
    const [g, p] = await Promise.all([
      run(GNU, ['--will-cite', '-k']),
      run(process.execPath, [BIN, '-q', '-k']),
    ]);
    expect(p).toEqual(g);
  });
});

/**
 * `--halt soon` with `--retries`: a job still running when the halt comes and then fails is not retried, printed
 * or logged, as GNU parallel does (a retry is a start, and the halt starts none). poolrun ran it to its last
 * attempt, printed it and logged it (probe: stdout `0.1 0.5` and a joblog line for job 2, against GNU's `0.1`).
 */
describe.skipIf(!existsSync(GNU))(
  '--halt soon with --retries: a running job that fails is not retried',
  () => {
    it.each([
      [
        ['-j2', '--halt', 'soon,fail=1', '--retries', '3'],
        ['0.1', '0.5', '0'],
      ],
      [
        ['-j3', '--halt', 'soon,fail=1', '--retries', '2'],
        ['0.1', '0.6', '0.4', '0'],
      ],
      [
        ['-j2', '--halt', 'soon,fail=1', '--retries', '1'],
        ['0.4', '0.1', '0'],
      ],
    ])('%j over %j: stdout, exit status, joblog Seq and Exitval as GNU', async (opts, values) => {
      const run = async (file: string, args: string[]) => {
        const dir = temp();
        const out = await runTool(
          file,
          [...args, '--joblog', 'jl', ...opts, 'echo {}; sleep {}; exit {#}', ':::', ...values],
          dir,
        );
        const log = readFileSync(join(dir, 'jl'), 'utf8')
          .split('\n')
          .slice(1)
          .filter(Boolean)
          .map((l) => `${l.split('\t')[0]} ${l.split('\t')[6]}`)
          .sort();
        return { code: out.code, stdout: out.stdout, log };
      };
      const [g, p] = await Promise.all([
        run(GNU, ['--will-cite', '-k']),
        run(process.execPath, [BIN, '-q', '-k']),
      ]);
      expect(p).toEqual(g);
    });
  },
);
