/**
 * Issue 17 items 4 and 5: `-w auto` (the controller, fed sequences of readings; a real run on fake /proc files
 * whose width grows and shrinks) and `--schedule longest-first` (start order from a joblog a first run wrote).
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import {
  decide,
  defaultMaxWorkers,
  initialWidth,
  NARROW_ABOVE,
  signals,
  step,
  windowSignals,
  WidthController,
  WINDOW_TICKS,
  WIDEN_BELOW,
  type Demand,
  type Limits,
  type Signals,
} from '../../src/sched/auto-width.js';
import {
  cpuTimes,
  loadAvg,
  memAvailable,
  psiSomeTotal,
  readMachine,
  type Reading,
} from '../../src/sched/pressure.js';
import { durationsFrom, startOrder } from '../../src/sched/longest-first.js';
import { jobHash } from '../../src/report/joblog.js';
import type { Job } from '../../src/kinds/types.js';
import { BIN, OPTION_LIKE_WORDS, poolrun, rng, track, useTempDirs, waitFor } from '../helpers.js';

const temp = useTempDirs();

// ---------------------------------------------------------------------------------------------------------
// Readings: a fake machine, advanced tick by tick.

interface Phase {
  /** Idle share of the CPU, 0-1. */
  idle: number;
  /** PSI `some` shares, 0-1. */
  cpu?: number;
  memory?: number;
  io?: number;
}

/** Readings of a machine with `cores` cores going through `phases`, one reading per 100 ms. */
function machine(cores: number, psi = true) {
  let t = 0;
  const cpu = { total: 0, idle: 0, iowait: 0 };
  const stall = { cpu: 0, memory: 0, io: 0 };
  return (p: Phase, extra: Partial<Reading> = {}): Reading => {
    t += 100;
    const ticks = 10 * cores; // 100 Hz clock ticks per core per 100 ms
    cpu.total += ticks;
    cpu.idle += Math.round(ticks * p.idle);
    for (const k of ['cpu', 'memory', 'io'] as const) stall[k] += Math.round((p[k] ?? 0) * 100_000);
    const r: Reading = { time: t, cpu: { ...cpu }, memAvailable: 0.5, runnable: 1, load1: 0 };
    if (psi) r.psi = { ...stall };
    return { ...r, ...extra };
  };
}

function run(
  limits: Limits,
  readings: Reading[],
  demand: (width: number) => Demand = () => ({ running: 1e6, waiting: 1e6 }),
): number[] {
  const c = new WidthController(limits);
  const widths: number[] = [];
  for (const r of readings) {
    const d = demand(c.width);
    widths.push(c.tick(r, { ...d, running: Math.min(c.width, d.running) }).width);
  }
  return widths;
}

describe('-w auto: the controller', () => {
  it('widens fast on an idle machine, narrows under CPU pressure to the cores, under memory pressure to 1', () => {
    const limits = { cores: 2, max: 16 };
    const m = machine(2);
    const idle = { idle: 0.9 };
    const readings = [
      ...Array.from({ length: 6 }, () => m(idle)),
      ...Array.from({ length: 5 }, () => m({ idle: 0, cpu: 1 })),
      ...Array.from({ length: 12 }, () => m({ idle: 0.9, memory: 0.5 })),
      ...Array.from({ length: 3 }, () => m({ idle: 0.9, io: 0.8 })),
      ...Array.from({ length: 10 }, () => m(idle)),
    ];
    expect(run(limits, readings)).toEqual([
      // first reading: a baseline; then doubling up to --max-workers
      2, 4, 8, 16, 16, 16,
      // CPU pressure, measured over the last 5 ticks: once it passes 70% of them, halves once
      16, 16, 16, 8, 8,
      // memory pressure: each halving waits for a whole window taken after the one before (down to 1)
      8, 8, 8, 8, 4, 4, 4, 4, 4, 4, 2, 2,
      // IO pressure
      2, 2, 2,
      // idle again: the IO pressure narrows once more, then a fresh window without pressure widens
      2, 1, 1, 1, 1, 1, 1, 2, 4, 8,
    ]);
  });

  it('one burst of pressure halves the pool once, not on every tick the window still holds it', () => {
    const limits = { cores: 2, max: 16 };
    const m = machine(2);
    const readings = [
      ...Array.from({ length: 4 }, () => m({ idle: 0.9 })),
      ...Array.from({ length: 5 }, () => m({ idle: 0, cpu: 1 })),
      ...Array.from({ length: 12 }, () => m({ idle: 0.9 })),
    ];
    const widths = run(limits, readings);
    expect(widths.slice(0, 4)).toEqual([2, 4, 8, 16]);
    // 16 → 8 and no further: the window keeps the burst for 5 more ticks, and a window taken after the change
    // has none of it.
    expect(Math.min(...widths.slice(4))).toBe(8);
    expect(widths.at(-1)).toBe(16);
  });

  it('does not widen what is not saturated, nor past what waits', () => {
    const limits = { cores: 2, max: 64 };
    const m = machine(2);
    const readings = Array.from({ length: 8 }, () => m({ idle: 1 }));
    // Nothing waits: it holds at the cores.
    expect(run(limits, readings, () => ({ running: 2, waiting: 0 }))).toEqual(Array(8).fill(2));
    // 5 jobs in all: it stops at 5.
    expect(run(limits, readings, (w) => ({ running: Math.min(w, 5), waiting: Math.max(0, 5 - w) }))).toEqual([
      2, 4, 5, 5, 5, 5, 5, 5,
    ]);
  });

  it('keeps CPU-bound work at the core count: no idle time, no widening', () => {
    const limits = { cores: 4, max: 32 };
    const m = machine(4);
    const readings = Array.from({ length: 20 }, () => m({ idle: 0.02, cpu: 0.1 }));
    expect(run(limits, readings)).toEqual(Array(20).fill(4));
  });

  it('holds without readings (no /proc) and between the thresholds', () => {
    const limits = { cores: 2, max: 16 };
    const none = Array.from({ length: 5 }, (_, i) => ({ time: i * 100 }));
    expect(run(limits, none)).toEqual(Array(5).fill(2));
    const m = machine(2);
    // Pressure between "may widen" and "narrows": neither.
    const between = { idle: 0.9, cpu: (WIDEN_BELOW.cpu + NARROW_ABOVE.cpu) / 2 };
    expect(
      run(
        limits,
        Array.from({ length: 5 }, () => m(between)),
      ),
    ).toEqual(Array(5).fill(2));
  });

  it('without PSI: the run queue, MemAvailable and iowait stand in for it', () => {
    const limits = { cores: 2, max: 16 };
    const m = machine(2, false);
    const widths = run(limits, [
      m({ idle: 0.9 }),
      m({ idle: 0.9 }),
      m({ idle: 0.9 }),
      m({ idle: 0.9 }), // 16
      // 8 runnable beyond 2 cores and, once the window holds only these ticks, nothing idle: CPU pressure
      ...Array.from({ length: 5 }, () => m({ idle: 0 }, { runnable: 9 })),
      ...Array.from({ length: 14 }, () => m({ idle: 0.9 }, { memAvailable: 0.02 })),
    ]);
    // Each halving after the first waits for a window of readings taken after it.
    expect(widths).toEqual([2, 4, 8, 16, 16, 16, 16, 16, 8, 8, 8, 8, 8, 8, 4, 4, 4, 4, 4, 4, 2, 2, 2]);
    const s = signals(m({ idle: 0.5 }), m({ idle: 0.5 }), 2);
    expect(s.source).toBe('proc');
  });

  it('generated sequences: the width stays within 1..max and moves only as the rules allow', () => {
    const next = rng(17);
    for (let c = 0; c < 300; c++) {
      const cores = 1 + Math.floor(next() * 16);
      const max = 1 + Math.floor(next() * 100);
      const limits = { cores, max };
      const m = machine(cores, next() < 0.7);
      let width = initialWidth(limits);
      const history: Reading[] = [];
      for (let k = 0; k < 40; k++) {
        const p: Phase = { idle: next() };
        for (const kind of ['cpu', 'memory', 'io'] as const) if (next() < 0.3) p[kind] = next();
        const r = m(p, next() < 0.2 ? { memAvailable: next() * 0.2, runnable: Math.floor(next() * 40) } : {});
        const running = Math.floor(next() * (width + 1));
        const demand = { running, waiting: next() < 0.2 ? 0 : Math.floor(next() * 200) };
        const d = step(width, history, r, demand, limits);
        const s: Signals | undefined = windowSignals(history, r, cores);
        expect(d.width).toBeGreaterThanOrEqual(1);
        expect(d.width).toBeLessThanOrEqual(Math.max(max, width));
        if (d.width > width) {
          // Widening: saturated, jobs waiting, idle CPU and no pressure.
          expect(demand.waiting).toBeGreaterThan(0);
          expect(demand.running).toBeGreaterThanOrEqual(width);
          expect(s!.idleCores!).toBeGreaterThanOrEqual(0.5);
          for (const kind of ['cpu', 'memory', 'io'] as const)
            expect(s![kind]!).toBeLessThan(WIDEN_BELOW[kind]);
          expect(d.width).toBeLessThanOrEqual(Math.min(max, 2 * width, running + demand.waiting));
        }
        if (d.width < width) {
          const memIo = s!.memory! > NARROW_ABOVE.memory || s!.io! > NARROW_ABOVE.io;
          expect(memIo || s!.cpu! > NARROW_ABOVE.cpu).toBe(true);
          // CPU pressure alone never takes it below the cores.
          if (!memIo) expect(d.width).toBeGreaterThanOrEqual(Math.min(cores, max));
        }
        width = d.width;
        history.push(r);
        if (history.length > WINDOW_TICKS) history.shift();
      }
    }
  });

  it('decide() with missing signals holds', () => {
    expect(decide(4, { source: 'none' }, { running: 4, waiting: 9 }, { cores: 2, max: 8 }).width).toBe(4);
    expect(defaultMaxWorkers(2)).toBe(16);
    expect(defaultMaxWorkers(1)).toBe(8);
  });
});

describe('-w auto: readings from /proc files', () => {
  it('parses PSI, /proc/stat, /proc/loadavg, /proc/meminfo; leaves out what is missing or malformed', () => {
    expect(psiSomeTotal('some avg10=1.00 avg60=0.00 avg300=0.00 total=123\nfull avg10=0 total=9\n')).toBe(
      123,
    );
    expect(psiSomeTotal('full avg10=0 total=9\n')).toBeUndefined();
    expect(cpuTimes('cpu  10 0 5 100 7 1 1 0 3 0\ncpu0 1 1 1 1\n')).toEqual({
      total: 124,
      idle: 100,
      iowait: 7,
    });
    expect(cpuTimes('cpu x y\n')).toBeUndefined();
    expect(loadAvg('3.50 1.00 0.50 7/300 1234\n')).toEqual({ load1: 3.5, runnable: 7 });
    expect(loadAvg('garbage')).toEqual({});
    expect(memAvailable('MemTotal:  1000 kB\nMemFree: 10 kB\nMemAvailable:   250 kB\n')).toBe(0.25);
    expect(memAvailable('MemTotal: 0 kB\nMemAvailable: 1 kB\n')).toBeUndefined();
  });

  it('reads a folder laid out like /proc (real files), and an empty one as no readings', () => {
    const root = temp();
    expect(readMachine(root, 5)).toEqual({ time: 5 });
    writeProc(root, { cpuTotal: 400, idle: 300, psi: { cpu: 1, memory: 2, io: 3 } });
    expect(readMachine(root, 7)).toEqual({
      time: 7,
      cpu: { total: 400, idle: 300, iowait: 0 },
      psi: { cpu: 1, memory: 2, io: 3 },
      load1: 0.5,
      runnable: 1,
      memAvailable: 0.5,
    });
  });
});

/** Writes a /proc-like folder, each file replaced whole (rename), as the kernel's files read. */
function writeProc(
  root: string,
  s: { cpuTotal: number; idle: number; psi: { cpu: number; memory: number; io: number } },
): void {
  mkdirSync(join(root, 'pressure'), { recursive: true });
  const put = (name: string, text: string) => {
    writeFileSync(join(root, `${name}.tmp`), text);
    renameSync(join(root, `${name}.tmp`), join(root, name));
  };
  const user = s.cpuTotal - s.idle;
  put('stat', `cpu  ${user} 0 0 ${s.idle} 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n`);
  for (const k of ['cpu', 'memory', 'io'] as const)
    put(
      join('pressure', k),
      `some avg10=0.00 avg60=0.00 avg300=0.00 total=${s.psi[k]}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`,
    );
  put('loadavg', '0.50 0.40 0.30 1/200 999\n');
  put('meminfo', 'MemTotal: 1000000 kB\nMemFree: 500000 kB\nMemAvailable: 500000 kB\n');
}

describe('-w auto: a run on fake /proc readings', () => {
  for (const mode of ['thread', 'process'] as const) {
    it(`${mode} mode: the width grows while idle, shrinks under memory pressure (NDJSON and --report)`, async () => {
      const dir = temp();
      const root = join(dir, 'proc');
      const stop = join(dir, 'stop');
      const report = join(dir, 'run.html');
      // The fake machine: idle, until the test says memory pressure.
      let phase: 'idle' | 'memory' = 'idle';
      const st = { cpuTotal: 0, idle: 0, psi: { cpu: 0, memory: 0, io: 0 } };
      const advance = () => {
        st.cpuTotal += 200;
        st.idle += phase === 'idle' ? 180 : 100;
        if (phase === 'memory') st.psi.memory += 50_000; // all of a 50 ms step
        writeProc(root, st);
      };
      advance();
      const writer = setInterval(advance, 50);
      const events: Array<Record<string, unknown>> = [];
      // From the core count, doubling to 8 while idle, then halving to 1.
      const expected = { w: [Math.min(8, availableParallelism())], why: ['start'] };
      while (expected.w.at(-1)! < 8) {
        expected.w.push(Math.min(8, expected.w.at(-1)! * 2));
        expected.why.push('idle');
      }
      while (expected.w.at(-1)! > 1) {
        expected.w.push(Math.floor(expected.w.at(-1)! / 2));
        expected.why.push('memory');
      }
      try {
        const child = track(
          execa(
            process.execPath,
            [
              BIN,
              '-w',
              'auto',
              '--max-workers',
              '8',
              '-m',
              mode,
              '--reporter',
              'ndjson',
              '--report',
              report,
              '--each',
              `: {}; while [ ! -e '${stop}' ]; do sleep 0.05; done`,
              ...Array.from({ length: 30 }, (_, i) => String(i)),
            ],
            { reject: false, env: { POOLRUN_TEST_PROC_ROOT: root }, timeout: 50_000 },
          ),
        );
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
            events.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
            buf = buf.slice(i + 1);
          }
        });
        const widths = () => events.filter((e) => e.event === 'width').map((e) => e.width as number);
        expect(await waitFor(() => widths().includes(8), 30_000)).toBe(true);
        // 8 jobs run at once: the pool is 8 wide.
        expect(await waitFor(() => events.filter((e) => e.event === 'started').length === 8, 30_000)).toBe(
          true,
        );
        phase = 'memory';
        expect(await waitFor(() => widths().at(-1) === 1, 30_000)).toBe(true);
        writeFileSync(stop, '');
        const r = await child;
        expect(r.exitCode).toBe(0);
        expect(widths()).toEqual(expected.w);
        const whys = events.filter((e) => e.event === 'width').map((e) => e.why);
        expect(whys).toEqual(expected.why);
        // Once it is 1 wide, each job starts only when none runs.
        const narrowAt = events.findIndex((e) => e.event === 'width' && e.width === 1);
        let running = 0;
        events.forEach((e, k) => {
          if (e.event === 'started') {
            if (k > narrowAt) expect(running).toBe(0);
            running++;
          }
          if (e.event === 'finished') running--;
        });
        expect(events.filter((e) => e.event === 'finished')).toHaveLength(30);
        // The report carries the same steps.
        const html = readFileSync(report, 'utf8');
        const data = JSON.parse(
          /<script type="application\/json" id="poolrun-data">(.*?)<\/script>/s.exec(html)![1]!,
        ) as { width: { t: number[]; w: number[] } };
        expect(data.width.w).toEqual(expected.w);
        expect([...data.width.t].sort((a, b) => a - b)).toEqual(data.width.t);
        expect(html).toContain('data-figure="width-chart"');
        expect(html).toMatch(/data-figure="width">1–8 \(auto\)/);
      } finally {
        clearInterval(writer);
        writeFileSync(stop, '');
      }
    });
  }
});

describe('-w auto: the live view', () => {
  it('shows the width on a terminal', async () => {
    const dir = temp();
    const root = join(dir, 'proc');
    const st = { cpuTotal: 0, idle: 0, psi: { cpu: 0, memory: 0, io: 0 } };
    const advance = () => {
      st.cpuTotal += 200;
      st.idle += 180;
      writeProc(root, st);
    };
    advance();
    const writer = setInterval(advance, 50);
    try {
      const log = join(dir, 'typescript');
      const args = ['-w', 'auto', '--max-workers', '8', '--each', 'sleep 1; : {}'];
      const cmd = [process.execPath, BIN, ...args, ...Array.from({ length: 24 }, (_, i) => String(i))]
        .map((a) => `'${a}'`)
        .join(' ');
      await track(
        execa('script', ['-qfec', `stty cols 120 rows 40; ${cmd}`, log], {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            TERM: 'xterm-256color',
            POOLRUN_TEST_PROC_ROOT: root,
          },
          extendEnv: false,
          reject: false,
          timeout: 50_000,
        }),
      );
      const raw = readFileSync(log, 'utf8');
      expect(raw).toMatch(/width 2/);
      expect(raw).toMatch(/width 8/);
    } finally {
      clearInterval(writer);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

function job(index: number, run: string): Job {
  return { id: String(index + 1), index, kind: 'run', run };
}

describe('--schedule longest-first: the order', () => {
  it('generated: unknown jobs first in input order, then the longest first, ties in input order', () => {
    const next = rng(5);
    for (let c = 0; c < 200; c++) {
      const n = Math.floor(next() * 30);
      const jobs = Array.from({ length: n }, (_, i) => job(i, `cmd ${Math.floor(next() * 12)}`));
      const durations = new Map<string, number>();
      for (const j of jobs) if (next() < 0.7) durations.set(jobHash(j), Math.floor(next() * 5) * 100);
      const order = startOrder(jobs, durations);
      expect([...order].sort((a, b) => a.index - b.index)).toEqual(jobs);
      const key = (j: Job) => durations.get(jobHash(j)) ?? Infinity;
      for (let k = 1; k < order.length; k++) {
        const a = order[k - 1]!;
        const b = order[k]!;
        expect(key(a)).toBeGreaterThanOrEqual(key(b));
        if (key(a) === key(b)) expect(a.index).toBeLessThan(b.index);
      }
    }
  });

  it('reads JobRuntime by JobHash from joblog text; the last line of a hash counts; junk is skipped', () => {
    const line = (seq: number, runtime: string, hash: string) =>
      [seq, ':', '1.000', runtime, '0', '0', '0', '0', 'cmd', String(seq), hash].join('\t');
    const text = [
      'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\tJobId\tJobHash',
      line(1, '     1.500', 'aaaaaaaaaaaaaaaa'),
      line(2, '     0.250', 'bbbbbbbbbbbbbbbb'),
      line(3, '     2.000', 'aaaaaaaaaaaaaaaa'),
      line(4, 'x', 'cccccccccccccccc'),
      'not\ta\tjoblog',
      line(5, '1', 'ZZZZ'),
      '',
    ].join('\n');
    expect([...durationsFrom(text)]).toEqual([
      ['aaaaaaaaaaaaaaaa', 2000],
      ['bbbbbbbbbbbbbbbb', 250],
    ]);
  });
});

describe('--schedule longest-first: runs', () => {
  it('a second run starts the jobs the first found longest first, unknown ones before; output stays in input order', async () => {
    const dir = temp();
    const log = join(dir, 'log');
    const args = ['0.05', '0.4', '0.1', '0.8', '0.2'];
    const first = await poolrun(['-w', '2', '-q', '--joblog', log, '--each', 'sleep {}; echo {}', ...args]);
    expect(first.code).toBe(0);
    // What the log recorded, by job: the order the second run must take (the load can make any job slow).
    const recorded = new Map<number, number>();
    for (const l of readFileSync(log, 'utf8').trim().split('\n').slice(1)) {
      const f = l.split('\t');
      recorded.set(Number(f[0]) - 1, Number(f[3]));
    }
    const second = [...args, '0.3']; // one job the log does not know
    const r = await poolrun([
      '-w',
      '1',
      '--schedule',
      'longest-first',
      '--joblog',
      log,
      '--reporter',
      'ndjson',
      '--json',
      join(dir, 'res.json'),
      '--each',
      'sleep {}; echo {}',
      ...second,
    ]);
    expect(r.code).toBe(0);
    const started = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; index: number })
      .filter((e) => e.event === 'started')
      .map((e) => e.index);
    expect(recorded.size).toBe(5);
    const known = [0, 1, 2, 3, 4].sort((a, b) => recorded.get(b)! - recorded.get(a)! || a - b);
    expect(started).toEqual([5, ...known]);
    const res = JSON.parse(readFileSync(join(dir, 'res.json'), 'utf8')) as { results: { index: number }[] };
    expect(res.results.map((x) => x.index)).toEqual([0, 1, 2, 3, 4, 5]);
    // Output in input order, whatever the start order; --dry-run shows the start order.
    const out = await poolrun([
      '-w',
      '2',
      '-q',
      '--schedule',
      'longest-first',
      '--joblog',
      log,
      '--each',
      'sleep {}; echo {}',
      ...second,
    ]);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(second.map((a) => `${a}\n`).join(''));
    const dry = await poolrun([
      '--dry-run',
      '--schedule',
      'longest-first',
      '--joblog',
      log,
      '--each',
      'echo {}',
      '1',
    ]);
    expect(dry.code).toBe(0);
  });

  it('a stream (stdin) is ordered too', async () => {
    const dir = temp();
    const log = join(dir, 'log');
    const jobs = ['sleep 0.3; echo a', 'echo b', 'sleep 0.1; echo c'];
    expect((await poolrun(['-w', '3', '-q', '--joblog', log, '-'], { input: jobs.join('\n') })).code).toBe(0);
    const r = await poolrun(
      ['-w', '1', '--reporter', 'ndjson', '--schedule', 'longest-first', '--joblog', log, '-'],
      {
        input: [...jobs, 'echo new'].join('\n'),
      },
    );
    expect(r.code).toBe(0);
    const started = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; index: number })
      .filter((e) => e.event === 'started')
      .map((e) => e.index);
    expect(started[0]).toBe(3);
    expect(started).toHaveLength(4);
  });
});

describe('bad input: exit 2 naming the option', () => {
  const cases: Array<[string[], RegExp]> = [
    [['-w', 'auto5'], /--workers/],
    [['-w', 'autox'], /--workers/],
    [['-w', 'AUTO'], /--workers/],
    [['--workers', 'auto', '--max-workers', '0'], /--max-workers/],
    [['--workers', 'auto', '--max-workers', '10001'], /--max-workers/],
    [['-w', 'auto', '--max-workers', '1e3'], /--max-workers/],
    [['--max-workers', '4'], /--max-workers goes with --workers auto/],
    [['--schedule', 'x'], /--schedule/],
    [['--schedule', 'longest-first'], /--schedule longest-first needs --joblog/],
    [
      ['--shuf', '--schedule', 'longest-first', '--joblog', 'never-written.log'],
      /--shuf and --schedule longest-first/,
    ],
    [
      ['--schedule=longest-first', '--joblog=never-written.log', '--shuf'],
      /--shuf and --schedule longest-first/,
    ],
    [['-w', 'auto', '--queue', 'redis://127.0.0.1:1/0'], /--workers auto/],
    ...OPTION_LIKE_WORDS.map((w): [string[], RegExp] => [[`--schedule=${w}`], /--schedule/]),
    ...OPTION_LIKE_WORDS.map((w): [string[], RegExp] => [
      ['-w', 'auto', `--max-workers=${w}`],
      /--max-workers/,
    ]),
  ];
  it.each(cases)('%j', async (args, message) => {
    const r = await poolrun([...args, '--each', 'echo {}', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('--joblog that is a folder, with longest-first', async () => {
    const dir = temp();
    const r = await poolrun(['--schedule', 'longest-first', '--joblog', dir, '--each', 'echo {}', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--joblog/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
