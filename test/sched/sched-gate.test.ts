/**
 * Issue 17 items 2 and 3: --delay, --memfree, --load. The machine's readings come from real files a test writes
 * (POOLRUN_TEST_MACHINE_DIR, test-only), not from mocks.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, pidAlive, poolrun, rng, track, useTempDirs, waitFor, writeJobs } from '../helpers.js';
import { parseLoad, parseSize, StartGate, POLL_MS } from '../../src/sched/gate.js';
import { loadAverage, memAvailable } from '../../src/sched/machine.js';

const temp = useTempDirs();

describe('sizes and loads (pure)', () => {
  it('parseSize: GNU parallel suffixes, upper case ×1024ⁿ, lower case ×1000ⁿ, on random values', () => {
    const r = rng(7);
    const units: Array<[string, number]> = [
      ['', 1],
      ['K', 2 ** 10],
      ['M', 2 ** 20],
      ['G', 2 ** 30],
      ['T', 2 ** 40],
      ['k', 1e3],
      ['m', 1e6],
      ['g', 1e9],
      ['t', 1e12],
    ];
    for (let i = 0; i < 500; i++) {
      const [u, mult] = units[Math.floor(r() * units.length)]!;
      const n = r() < 0.5 ? 1 + Math.floor(r() * 5000) : Math.round(r() * 5000 * 100) / 100 + 0.01;
      const text = `${n}${r() < 0.2 ? ' ' : ''}${u}`;
      expect(parseSize(text), text).toBe(Math.round(n * mult));
    }
    for (const bad of [
      '',
      ' ',
      '-1',
      '0',
      '0K',
      '1X',
      '1KB',
      '1e3',
      'M',
      '1..2',
      '--x=y',
      '1\n2',
      'Infinity',
      '9'.repeat(30),
    ])
      expect(parseSize(bad), JSON.stringify(bad)).toBeUndefined();
  });

  it('parseLoad: a number above 0, or a percentage of cores', () => {
    expect(parseLoad('4', 8)).toBe(4);
    expect(parseLoad('2.5', 8)).toBe(2.5);
    expect(parseLoad('50%', 8)).toBe(4);
    expect(parseLoad('100%', 3)).toBe(3);
    for (const bad of ['', '0', '0%', '-1', 'x', '1e3', '5%%', '--load', '1 2'])
      expect(parseLoad(bad, 8), JSON.stringify(bad)).toBeUndefined();
  });

  it('/proc formats: MemAvailable in bytes (MemFree+Buffers+Cached without it), the 1-minute load', () => {
    expect(memAvailable('MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable:   2048 kB\n')).toBe(2048 * 1024);
    expect(memAvailable('MemFree: 10 kB\nBuffers: 1 kB\nCached: 2 kB\n')).toBe(13 * 1024);
    expect(memAvailable('garbage')).toBeUndefined();
    expect(loadAverage('0.52 0.40 0.31 1/234 5678\n')).toBe(0.52);
    expect(loadAverage('')).toBeUndefined();
  });

  it('StartGate: random reading sequences; a start waits for delay, memory at least memfree, load below the limit', () => {
    const r = rng(3);
    for (let i = 0; i < 300; i++) {
      const memfree = r() < 0.5 ? 1000 : undefined;
      const load = r() < 0.5 ? 2 : undefined;
      const delayMs = r() < 0.5 ? 100 : undefined;
      let reading = { memAvailable: 0, load1: 0 };
      const gate = new StartGate({ memfree, load, delayMs }, () => reading);
      let now = 1000;
      let last = -Infinity;
      for (let step = 0; step < 30; step++) {
        now += Math.floor(r() * 80);
        reading = { memAvailable: Math.floor(r() * 2000), load1: r() * 4 };
        const w = gate.wait(now);
        const memOk = memfree === undefined || reading.memAvailable >= memfree;
        const loadOk = load === undefined || reading.load1 < load;
        const delayOk = delayMs === undefined || now - last >= delayMs;
        expect(w === undefined, JSON.stringify({ memfree, load, delayMs, reading, now, last })).toBe(
          memOk && loadOk && delayOk,
        );
        if (!delayOk) expect(w).toBe(last + delayMs - now);
        else if (w !== undefined) expect(w).toBe(POLL_MS);
        if (w === undefined && r() < 0.7) {
          gate.started(now);
          last = now;
        }
        expect(gate.mustEvict()).toBe(memfree !== undefined && reading.memAvailable < memfree / 2);
      }
    }
  });
});

type Event = { event: string; id: string; time: string; status?: string };
const events = (out: string): Event[] =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);

describe('--delay', () => {
  it.each(['thread', 'process'])(
    '%s mode: starts are at least DUR apart, even with free workers',
    async (mode) => {
      const cwd = temp();
      const r = await poolrun(
        [
          '--reporter',
          'ndjson',
          '-m',
          mode,
          '-w',
          '4',
          '--delay',
          '150ms',
          '--each',
          'true',
          '1',
          '2',
          '3',
          '4',
          '5',
        ],
        { cwd },
      );
      expect(r.code, r.stderr).toBe(0);
      const starts = events(r.stdout)
        .filter((e) => e.event === 'started')
        .map((e) => Date.parse(e.time));
      expect(starts).toHaveLength(5);
      for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(150);
    },
  );
});

/** A run with the machine read from `dir`, its NDJSON collected as it comes. */
function watched(args: string[], dir: string, cwd: string) {
  const child = track(
    execa(process.execPath, [BIN, '--reporter', 'ndjson', ...args], {
      cwd,
      reject: false,
      env: { NO_COLOR: '1', POOLRUN_TEST_MACHINE_DIR: dir },
    }),
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

const meminfo = (kb: number) => `MemTotal: 16000000 kB\nMemFree: 1000 kB\nMemAvailable: ${kb} kB\n`;

describe('--memfree and --load (readings from files the test writes)', () => {
  it('--memfree: nothing starts while MemAvailable is below SIZE; everything runs once it is above', async () => {
    const cwd = temp();
    const dir = temp();
    writeFileSync(join(dir, 'meminfo'), meminfo(500)); // 500 kB
    const file = writeJobs(cwd, ['touch a', 'touch b', 'touch c']);
    const run = watched(['--memfree', '1M', file], dir, cwd);
    // The machine is looked at every 200 ms: several looks, and still nothing started.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(events(run.out()).filter((e) => e.event === 'started')).toEqual([]);
    writeFileSync(join(dir, 'meminfo'), meminfo(4 * 1024 * 1024));
    const r = await run.child;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(events(run.out()).filter((e) => e.event === 'finished' && e.status === 'succeeded')).toHaveLength(
      3,
    );
  });

  it('--load: nothing starts while the load average is at or above N; N% is of the cores', async () => {
    const cwd = temp();
    const dir = temp();
    const cores = availableParallelism();
    writeFileSync(join(dir, 'loadavg'), `${cores} 0.1 0.1 1/100 1234\n`);
    const file = writeJobs(cwd, ['touch a', 'touch b']);
    const run = watched(['--load', '100%', file], dir, cwd);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(events(run.out()).filter((e) => e.event === 'started')).toEqual([]);
    writeFileSync(join(dir, 'loadavg'), `${cores - 0.01} 0.1 0.1 1/100 1234\n`);
    const r = await run.child;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(events(run.out()).filter((e) => e.event === 'started')).toHaveLength(2);
  });
});

describe('--memfree: below half of SIZE, the youngest running job is killed and put back', () => {
  it.each(['thread', 'process'])(
    '%s mode: killed (its process tree), requeued once memory allows, not a retry',
    async (mode) => {
      const cwd = temp();
      const dir = temp();
      writeFileSync(join(dir, 'meminfo'), meminfo(4 * 1024 * 1024));
      // Each job notes its shell's pid (one line per attempt) and waits for `go`.
      const job = (name: string) => ({
        id: name,
        run: `echo $$ >> ${name}.pids; until [ -e go ]; do sleep 0.02; done`,
      });
      const file = writeJobs(cwd, [job('old'), job('young')]);
      const run = watched(['-m', mode, '-w', '2', '--memfree', '1M', file], dir, cwd);
      const started = (id: string) =>
        events(run.out()).filter((e) => e.event === 'started' && e.id === id).length;
      expect(await waitFor(() => started('old') === 1 && started('young') === 1, 20_000)).toBe(true);
      // Below half of 1M: one job is put back; then between half and all of it: no start, no kill.
      writeFileSync(join(dir, 'meminfo'), meminfo(100));
      expect(await waitFor(() => events(run.out()).some((e) => e.event === 'requeued'), 20_000)).toBe(true);
      writeFileSync(join(dir, 'meminfo'), meminfo(800));
      // The youngest goes first. Memory is looked at every 200 ms: on a loaded machine this test may write the
      // 800 only after the next look, which (still below half) rightly puts `old` back too.
      const requeued = events(run.out()).filter((e) => e.event === 'requeued');
      expect(requeued[0]!.id).toBe('young');
      const also = requeued.slice(1).map((e) => e.id);
      expect(also.length === 0 || (also.length === 1 && also[0] === 'old'), also.join()).toBe(true);
      for (const e of requeued) expect(JSON.stringify(e)).toMatch(/memfree.*not a retry/);
      const pid = Number(readFileSync(join(cwd, 'young.pids'), 'utf8').trim());
      expect(await waitFor(() => !pidAlive(pid), 20_000)).toBe(true);
      writeFileSync(join(dir, 'meminfo'), meminfo(4 * 1024 * 1024));
      expect(await waitFor(() => started('young') === 2, 20_000)).toBe(true);
      const oldBack = events(run.out()).some((e) => e.event === 'requeued' && e.id === 'old');
      if (oldBack) expect(await waitFor(() => started('old') === 2, 20_000)).toBe(true);
      writeFileSync(join(cwd, 'go'), '');
      const r = await run.child;
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const fin = events(run.out()).filter((e) => e.event === 'finished') as Array<
        Event & { attempts: number }
      >;
      expect(fin.map((e) => [e.id, e.status, e.attempts]).sort()).toEqual([
        ['old', 'succeeded', 1],
        ['young', 'succeeded', 1],
      ]);
      expect(readFileSync(join(cwd, 'young.pids'), 'utf8').trim().split('\n')).toHaveLength(2);
      expect(readFileSync(join(cwd, 'old.pids'), 'utf8').trim().split('\n')).toHaveLength(oldBack ? 2 : 1);
    },
  );
});

describe('bad values: exit 2 naming the option', () => {
  it.each([
    ['--delay', 'soon'],
    ['--delay', '-1s'],
    ['--delay', '--x=y'],
    ['--memfree', '0'],
    ['--memfree', '1X'],
    ['--memfree', '-rf'],
    ['--memfree', '1e9'],
    ['--memfree', '1\n2'],
    ['--load', '0'],
    ['--load', 'high'],
    ['--load', '-2'],
    ['--load', '1e3'],
  ])('%s %j', async (opt, value) => {
    const cwd = temp();
    const file = writeJobs(cwd, ['touch ran']);
    const r = await poolrun([opt, value, file], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${opt}: expected`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--memfree and --load with --queue: exit 2 (they measure this machine, the jobs run elsewhere)', async () => {
    const cwd = temp();
    const file = writeJobs(cwd, ['touch ran']);
    const r = await poolrun(['--queue', 'redis://127.0.0.1:1/0', '--memfree', '1G', file], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--memfree cannot be used with --queue/);
  });

  it("--memfree past the machine's memory: exit 2, not a wait for good (a probe: no output until killed)", async () => {
    const cwd = temp();
    const file = writeJobs(cwd, ['touch ran']);
    const r = await poolrun(['--memfree', '1P', file], { cwd });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /--memfree 1P is more than this machine's memory \(\d+ MiB\): no job could ever start/,
    );
    expect(existsSync(join(cwd, 'ran'))).toBe(false);
  });
});
