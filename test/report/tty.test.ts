/* eslint-disable no-control-regex -- these tests look for terminal escape codes */
/**
 * The live view under real pseudo-terminals: tmux renders the screen as a person sees it (capture-pane), and
 * `script` records the raw bytes poolrun wrote to its terminal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BIN, tempDir, writeJobs } from '../helpers.js';

let cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
function temp(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
const jobFile = writeJobs;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A clean environment for a terminal: no colour overrides unless a test sets them. Passed with extendEnv: false,
 * or execa merges process.env back in, and CI=true (set by CI runners) makes Node report 2 colours.
 */
function termEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'GITHUB_ACTIONS', 'CI', 'TMUX']) delete env[k];
  return { ...env, TERM: 'xterm-256color', LANG: 'C.UTF-8', ...extra };
}

interface TmuxRun {
  screen: string;
  code: number;
}

/** Runs `args` in a detached tmux pane of the given size; returns everything the pane shows (with history). */
async function inTmux(
  args: string[],
  size: { cols: number; rows: number },
  during?: (tmux: (...a: string[]) => Promise<{ stdout: unknown }>) => Promise<void>,
  first = 'true',
): Promise<TmuxRun> {
  const dir = temp();
  // A server of our own, its socket in the test's temp folder (removed with it).
  const sock = join(dir, `tmux-${randomBytes(4).toString('hex')}`);
  const conf = join(dir, 'tmux.conf');
  writeFileSync(conf, 'set -g history-limit 20000\nset -g status off\n');
  const tmux = (...a: string[]) =>
    execa('tmux', ['-S', sock, '-f', conf, ...a], { env: termEnv(), extendEnv: false });
  const cmd = `${first}; ${[process.execPath, BIN, ...args].map(q).join(' ')}; echo "EXIT=$?"; sleep 600`;
  await tmux('new-session', '-d', '-x', String(size.cols), '-y', String(size.rows), cmd);
  cleanups.push(() =>
    tmux('kill-server').then(
      () => undefined,
      () => undefined,
    ),
  );
  const capture = async () =>
    String((await tmux('capture-pane', '-p', '-J', '-S', '-', '-E', '-', '-t', '0')).stdout);
  const work = during?.(tmux);
  const deadline = Date.now() + 60_000;
  let screen = await capture();
  while (!/EXIT=\d+/.test(screen) && Date.now() < deadline) {
    await sleep(100);
    screen = await capture();
  }
  await work;
  const code = Number(/EXIT=(\d+)/.exec(screen)?.[1] ?? -1);
  return { screen: screen.replace(/\n+$/, '\n'), code };
}

/** Runs the CLI under `script` (a pseudo-terminal for stdin/stdout/stderr); returns the raw bytes written. */
async function inScript(args: string[], env: Record<string, string> = {}): Promise<string> {
  const dir = temp();
  const log = join(dir, 'typescript');
  const cmd = [process.execPath, BIN, ...args].map(q).join(' ');
  await execa('script', ['-qfec', `stty cols 100 rows 40; ${cmd}`, log], {
    env: termEnv(env),
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  const raw = readFileSync(log, 'utf8');
  // util-linux writes a header and a footer line around the session.
  return raw.replace(/^Script started.*\n/, '').replace(/\nScript done.*\n?$/, '');
}

const JOBS = [
  { id: 'build', run: 'echo building; sleep 1.2; echo built' },
  { id: 'unit', run: 'sleep 0.4; echo unit ok' },
  { id: 'lint', run: 'sleep 0.6; echo "lint: 2 warnings" >&2' },
  { id: 'broken', run: 'sleep 0.3; echo "assertion failed" >&2; exit 2' },
  { id: 'docs', run: "sleep 0.9; printf 'docs built, no newline'" },
  { id: 'e2e', run: 'sleep 1.6; echo e2e ok' },
  { id: 'bench', run: 'sleep 0.5; echo bench ok' },
  { id: 'pack', run: 'sleep 0.2; echo packed' },
];
const OUTPUT_LINES = [
  'building',
  'built',
  'unit ok',
  'lint: 2 warnings',
  'assertion failed',
  'docs built, no newline',
  'e2e ok',
  'bench ok',
  'packed',
];

/** Nothing of the live area or of a cursor sequence is left in what the screen shows. */
function expectClean(screen: string): void {
  expect(screen).not.toMatch(/\x1b|\[\?25|\[2K|\[1A/);
  expect(screen).not.toMatch(/[░█⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
  expect(screen).not.toMatch(/\d+ running/);
  expect(screen).not.toMatch(/ETA/);
}

function linesInOrder(screen: string, wanted: string[]): void {
  const lines = screen.split('\n');
  let at = -1;
  for (const w of wanted) {
    const i = lines.findIndex((l, k) => k > at && l === w);
    expect(i, `"${w}" after line ${at} in:\n${screen}`).toBeGreaterThan(at);
    at = i;
  }
}

describe('the TTY view (tmux)', () => {
  it('final screen: every output in input order, the summary, nothing left of the live area', async () => {
    const dir = temp();
    const r = await inTmux(['-w', '3', jobFile(dir, JOBS)], { cols: 100, rows: 40 });
    expect(r.code).toBe(1);
    expectClean(r.screen);
    linesInOrder(r.screen, OUTPUT_LINES);
    const summary = r.screen
      .split('\n')
      .findIndex((l) => /^poolrun: 8 jobs: 7 succeeded, 1 failed in /.test(l));
    expect(summary).toBeGreaterThan(r.screen.split('\n').indexOf('packed'));
    expect(r.screen).toMatch(/^ {2}slowest: e2e \d/m);
    expect(r.screen).toMatch(/^ {2}failed broken \(worker \d, \d+ms, exit 2\)$/m);
    // Exactly what was printed, each line once: no frame was left behind between outputs.
    const body = r.screen.split('\n').slice(0, summary);
    expect(body.filter((l) => l !== '')).toEqual(OUTPUT_LINES);
  });

  /** The pid of the poolrun process whose command line has `arg` (a run's unique job file). */
  function poolrunPid(arg: string): number | undefined {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        if (argv[0] === process.execPath && argv.includes(BIN) && argv.includes(arg)) return Number(d);
      } catch {
        // gone meanwhile
      }
    }
    return undefined;
  }

  /**
   * A run in a terminal that has been used (the live area at the bottom, under 50 earlier lines), resized by
   * `steps` while it goes on (each step one tmux client command, then poolrun's next frame after tmux's reflow
   * is waited for); the screen and the scrollback must hold every line once, in order, and nothing of the area.
   *
   * Each step is taken between two of poolrun's writes: poolrun is stopped (SIGSTOP) and tmux has drawn all it
   * wrote before the resize, and poolrun goes on (SIGCONT) after tmux's reflow. A frame still on its way to the
   * terminal when the terminal reflows is erased by a count made for the width it was written at; no program
   * can see that race from its side (README, "Watching a run"), so the test does not stage it.
   */
  async function resizedRun(steps: string[][]): Promise<void> {
    const dir = temp();
    const before = Array.from({ length: 50 }, (_, i) => `earlier line ${i + 1}`);
    // The run lasts until the last resize was drawn: a first job (silent) waits for this file.
    const gate = join(dir, 'gate');
    const jobs = [{ id: 'gate', run: `while [ ! -e ${gate} ]; do sleep 0.05; done` }, ...JOBS];
    const file = jobFile(dir, jobs);
    const r = await inTmux(
      ['-w', '4', file],
      { cols: 100, rows: 30 },
      async (tmux) => {
        const pane = async () => String((await tmux('capture-pane', '-p', '-t', '0')).stdout);
        // tmux has drawn everything poolrun wrote: the pane holds still while poolrun is stopped.
        const settled = async () => {
          let was = await pane();
          for (;;) {
            await sleep(100);
            const now = await pane();
            if (now === was) return;
            was = now;
          }
        };
        // The live area (its bar or spinner, at any width) redrawn since `seen`, within a generous ceiling.
        const LIVE = /[░█⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
        const redrawn = async (seen: string) => {
          const end = Date.now() + 20_000;
          let now = await pane();
          while (Date.now() < end && (now === seen || !LIVE.test(now))) {
            await sleep(50);
            now = await pane();
          }
          expect(now).toMatch(LIVE);
        };
        await redrawn('');
        const pid = poolrunPid(file);
        expect(pid).toBeGreaterThan(0);
        const resume = () => {
          try {
            process.kill(pid!, 'SIGCONT');
          } catch {
            // already gone
          }
        };
        cleanups.push(resume);
        for (const step of steps) {
          process.kill(pid!, 'SIGSTOP');
          try {
            await settled();
            await tmux(...step);
          } finally {
            resume();
          }
          // tmux has reflowed the pane by now (that change is tmux's own, not a redraw): wait for poolrun's
          // next frame after it, drawn at the new width.
          await redrawn(await pane());
        }
        writeFileSync(gate, '');
      },
      `printf 'earlier line %s\\n' $(seq 1 50)`,
    );
    expect(r.code).toBe(1);
    expectClean(r.screen);
    const lines = r.screen.split('\n');
    const summary = lines.findIndex((l) => l.startsWith('poolrun: 9 jobs'));
    expect(summary).toBeGreaterThan(0);
    expect(lines.slice(0, summary).filter((l) => l !== '')).toEqual([...before, ...OUTPUT_LINES]);
  }
  const resize = (w: number) => ['resize-window', '-t', '0', '-x', String(w)];

  it('resizing the terminal mid-run (narrower, wider, narrower) garbles neither the screen nor the scrollback', async () => {
    await resizedRun([resize(38), resize(70), resize(30)]);
  });

  it('dragging the window edge (a burst of resizes) loses no line of the scrollback', async () => {
    // A drag: many widths in a row, all applied by the tmux server in one go (one client command), so that
    // poolrun's SIGWINCH, its erase and the terminal's reflows interleave as they do under a hand.
    const drags = [
      [90, 70, 45, 30, 52, 80, 100, 60, 33, 75],
      [41, 95, 28, 64, 100, 36, 88, 47, 70, 31],
      [55, 99, 26, 72, 38, 90, 44, 100, 29, 80],
    ];
    await resizedRun(drags.map((widths) => widths.flatMap((w, i) => [...(i ? [';'] : []), ...resize(w)])));
  });

  it('the live area shows progress and the running jobs with their worker while the run goes on', async () => {
    const dir = temp();
    const jobs = [
      { id: 'long-one', run: 'sleep 3' },
      { id: 'long-two', run: 'sleep 3' },
      { id: 'quick', run: 'true' },
    ];
    let midRun = '';
    const r = await inTmux(['-w', '2', jobFile(dir, jobs)], { cols: 80, rows: 20 }, async (tmux) => {
      const end = Date.now() + 20_000;
      while (Date.now() < end && !/long-two/.test(midRun)) {
        await sleep(150);
        midRun = String((await tmux('capture-pane', '-p', '-t', '0')).stdout);
      }
    });
    expect(r.code).toBe(0);
    expect(midRun).toMatch(/0\/3 [█░]+ 0% 2 running \d+\.\ds ETA –/);
    expect(midRun).toMatch(/^ {2}\S long-one +worker \d +\d+\.\ds$/m);
    expect(midRun).toMatch(/^ {2}\S long-two +worker \d +\d+\.\ds$/m);
    expectClean(r.screen);
    expect(r.screen).toMatch(/^poolrun: 3 jobs: 3 succeeded in /m);
  });
});

describe('the TTY view (raw bytes under script)', () => {
  it('output without a final newline is ended on the terminal: the next job, status line or summary starts a line', async () => {
    const dir = temp();
    for (const [view, env] of [
      ['live', {}],
      ['plain (TERM=dumb)', { TERM: 'dumb' }],
    ] as const) {
      const raw = await inScript(
        [
          '-w',
          '1',
          jobFile(dir, [
            { id: 'a', run: "printf 'no newline'" },
            { id: 'b', run: 'echo second' },
            { id: 'c', run: "printf 'err no newline' >&2" },
            { id: 'd', run: 'echo third >&2' },
          ]),
        ],
        env,
      );
      const plain = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
      expect([view, /no newline(?!\n)/.test(plain)]).toEqual([view, false]);
      expect([view, /err no newline(?!\n)/.test(plain)]).toEqual([view, false]);
    }
  });

  it('redraws at most ~10 times a second, hides the cursor and gives it back at the end', async () => {
    const dir = temp();
    const t0 = Date.now();
    const raw = await inScript(['-w', '3', jobFile(dir, JOBS)]);
    const seconds = (Date.now() - t0) / 1000;
    expect(raw.split('\x1b[?25l')).toHaveLength(2);
    const show = raw.lastIndexOf('\x1b[?25h');
    expect(show).toBeGreaterThan(raw.lastIndexOf('\x1b[2K'));
    // Every redraw starts with a carriage return and a line clear; job output adds at most one each.
    const redraws = raw.split('\r\x1b[2K').length - 1;
    expect(redraws).toBeLessThanOrEqual(Math.ceil(seconds * 10) + JOBS.length + 2);
    expect(redraws).toBeGreaterThan(5);
    // After the cursor comes back: only the summary, no cursor movement.
    expect(raw.slice(show)).not.toMatch(/\x1b\[\d*[ABJK]/);
    expect(raw.slice(show)).toMatch(/poolrun: 8 jobs/);
  });

  it('colour on a terminal; none with NO_COLOR, --no-color or FORCE_COLOR=0; FORCE_COLOR wins over NO_COLOR', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'a', run: 'echo hi' },
      { id: 'b', run: 'exit 1' },
    ]);
    const sgr = /\x1b\[\d+(;\d+)*m/;
    expect(await inScript([file])).toMatch(sgr);
    expect(await inScript([file], { NO_COLOR: '1' })).not.toMatch(sgr);
    expect(await inScript(['--no-color', file])).not.toMatch(sgr);
    expect(await inScript([file], { FORCE_COLOR: '0' })).not.toMatch(sgr);
    expect(await inScript([file], { NO_COLOR: '1', FORCE_COLOR: '1' })).toMatch(sgr);
    // Without colour it is still the live view: the cursor is still moved.
    expect(await inScript(['--no-color', file])).toContain('\x1b[?25l');
  });

  it('--output stream on a terminal: each job prefix coloured, lines whole', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'one', run: 'printf "a"; sleep 0.3; echo "b"; echo second' },
      { id: 'two', run: 'sleep 0.1; echo "from two"' },
    ]);
    const raw = await inScript(['--output', 'stream', '-w', '2', file]);
    // Each line is written whole after the live area is erased: prefix, text, newline.
    const sgr = '(?:\\x1b\\[\\d+m)*';
    const line = (id: string, text: string) => new RegExp(`${sgr}\\[${id}\\]${sgr} ${text}\\r?\\n`);
    expect(raw).toMatch(line('one', 'ab'));
    expect(raw).toMatch(line('one', 'second'));
    expect(raw).toMatch(line('two', 'from two'));
    // One colour per job, and the two differ.
    const one = /(\x1b\[\d+m)\[one\]/.exec(raw)?.[1];
    const two = /(\x1b\[\d+m)\[two\]/.exec(raw)?.[1];
    expect(one).toBeDefined();
    expect(two).toBeDefined();
    expect(one).not.toBe(two);
  });

  it('--reporter plain on a terminal: no cursor codes', async () => {
    const dir = temp();
    const raw = await inScript(['--reporter', 'plain', jobFile(dir, [{ id: 'a', run: 'echo hi' }])]);
    expect(raw).not.toMatch(/\x1b\[(\?25|\d*[ABJK])/);
    const text = raw.replace(/\x1b\[\d+m/g, '');
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} succeeded a \(worker 1, \d+ms, exit 0\)\r?$/m);
  });

  it('TERM=dumb: the plain lines, no cursor codes; --reporter tty, asked for, still draws', async () => {
    const dir = temp();
    const jobs = jobFile(dir, [
      { id: 'a', run: 'sleep 0.5; echo A' },
      { id: 'b', run: 'exit 3' },
      { id: 'c', run: 'sleep 0.8; echo C' },
    ]);
    const raw = await inScript([jobs], { TERM: 'dumb' });
    expect(raw).not.toMatch(/\x1b\[(\?25|\d*[ABJK])/);
    expect(raw).toMatch(/^\d\d:\d\d:\d\d\.\d{3} failed b \(worker \d, \d+ms, exit 3\)\r?$/m);
    expect(raw).toMatch(/^poolrun: 3 jobs: 2 succeeded, 1 failed in /m);
    const asked = await inScript(['--reporter', 'tty', jobs], { TERM: 'dumb' });
    expect(asked).toContain('\x1b[?25l');
  });
});
