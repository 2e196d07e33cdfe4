/**
 * What every benchmark shares: options (--quick / --full), A B A B … alternation of the sides, medians, peak RSS
 * of the measured process tree, the table, and bench/results.json. Each side is a fresh process tree, measured
 * from spawn to exit by this (otherwise idle) process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setInterval, clearInterval } from 'node:timers';

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH, '..');
export const BIN = join(ROOT, 'bin', 'poolrun.js');
export const NODE = process.execPath;
export const RESULTS = join(BENCH, 'results.json');
/** Scratch files (job files, a 1 GiB blob): outside the repository, reused between runs. */
export const SCRATCH = join(process.env.TMPDIR ?? '/tmp', 'poolrun-bench');

/**
 * `--quick` (CI-sized work) or `--full` (the figures; the default); `--runs N` (at least 5 unless asked);
 * `--no-install` never installs GNU parallel.
 */
export function benchOptions(argv = process.argv.slice(2)) {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--runs');
  const runs = at >= 0 ? Number(argv[at + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a positive integer`);
  return { quick, full: !quick, runs, install: !argv.includes('--no-install') };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------------------------------------
// Peak RSS of a process tree: sampled every 20 ms. The root's VmHWM is its exact peak (the kernel keeps it);
// descendants add their VmRSS at the sampling moment (short-lived ones may be missed between samples).

function readStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

function children(pid) {
  const out = [];
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' '))
        if (c) out.push(+c);
    } catch {
      /* the thread or process is gone */
    }
  }
  return out;
}

function treeRss(root) {
  const top = readStatus(root);
  if (!top) return 0;
  let sum = top.hwm;
  const stack = children(root);
  while (stack.length) {
    const pid = stack.pop();
    const st = readStatus(pid);
    if (st) sum += st.rss;
    stack.push(...children(pid));
  }
  return sum;
}

/**
 * Runs one side once. `cmd` is [file, ...args]; `stdin` a file path piped in (through a pipe, as `cat f | x`
 * would), `stdout: 'capture'` keeps what it prints (sides that report ops/s print a JSON line).
 */
export function measure({ cmd, stdin, stdout = 'ignore', env, cwd }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // Through dash, whose `times` then reports the CPU the whole tree used (children it waited for, and theirs):
    // a figure that the load of a shared machine disturbs far less than wall time.
    const wrapped = ['/bin/sh', '-c', '"$@"; s=$?; times >&2; exit $s', 'sh', ...cmd];
    const child = spawn(wrapped[0], wrapped.slice(1), {
      stdio: [stdin ? 'pipe' : 'ignore', stdout === 'capture' ? 'pipe' : 'ignore', 'pipe'],
      env: env ? { ...process.env, ...env } : process.env,
      cwd: cwd ?? ROOT,
    });
    let peak = 0;
    const sample = () => {
      if (child.pid) peak = Math.max(peak, treeRss(child.pid));
    };
    const timer = setInterval(sample, 20);
    let out = '';
    let err = '';
    child.stdout?.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => {
      err = (err + b).slice(-4000);
    });
    if (stdin) {
      const src = createReadStream(stdin);
      src.pipe(child.stdin);
      // The side may stop reading early (an error): that is reported by its exit status, not by EPIPE here.
      child.stdin.on('error', () => {});
    }
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    // 'exit', not 'close': a side's own wall ends when its process does.
    child.on('exit', (code, signal) => {
      const wallMs = performance.now() - t0;
      clearInterval(timer);
      child.stdout?.once('end', finish);
      if (!child.stdout || child.stdout.readableEnded) finish();
      function finish() {
        if (code !== 0) {
          reject(new Error(`${cmd.join(' ')} exited ${code ?? signal}\n${err.trim()}`));
          return;
        }
        resolve({ wallMs, peakRss: peak, cpuMs: cpuOf(err), stdout: out });
      }
    });
  });
}

/** The children's line of dash's `times` (the last line: `0m1.230000s 0m0.450000s`), user + sys in ms. */
function cpuOf(stderr) {
  const lines = stderr.trim().split('\n');
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1] ?? '');
  if (!m) return undefined;
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

/**
 * Runs every side `runs` times in alternation (A B C A B C …), after one discarded warm-up round unless
 * `warmup: false`. A side is { name, cmd, stdin?, stdout?, ops?, parse? }: `ops` is the work count when the
 * figure is ops/s from wall; `parse(stdout)` returns { ops, ms } measured inside the side.
 */
export async function alternate(sides, { runs, warmup = true, log = true }) {
  const samples = new Map(sides.map((s) => [s.name, []]));
  for (let round = warmup ? -1 : 0; round < runs; round++) {
    for (const side of sides) {
      const r = await measure(side);
      let opsPerSec;
      if (side.parse) {
        const { ops, ms } = side.parse(r.stdout);
        opsPerSec = (ops / ms) * 1000;
      } else if (side.ops !== undefined) opsPerSec = (side.ops / r.wallMs) * 1000;
      if (round >= 0)
        samples.get(side.name).push({ wallMs: r.wallMs, cpuMs: r.cpuMs, peakRss: r.peakRss, opsPerSec });
      if (log) {
        const what = opsPerSec !== undefined ? `${fmtOps(opsPerSec)} ops/s` : fmtMs(r.wallMs);
        process.stderr.write(
          `  ${round < 0 ? 'warm-up' : `run ${round + 1}/${runs}`}  ${side.name}: ${what}, cpu ${fmtMs(r.cpuMs ?? NaN)}, ${fmtMB(r.peakRss)}\n`,
        );
      }
    }
  }
  return sides.map((s) => summarize(s, samples.get(s.name)));
}

function summarize(side, xs) {
  const row = {
    tool: side.name,
    runs: xs.length,
    medianWallMs: round1(median(xs.map((x) => x.wallMs))),
    medianCpuMs: round1(median(xs.map((x) => x.cpuMs ?? NaN))),
    peakRssMB: round1(Math.max(...xs.map((x) => x.peakRss)) / 2 ** 20),
    medianPeakRssMB: round1(median(xs.map((x) => x.peakRss)) / 2 ** 20),
    wallMs: xs.map((x) => round1(x.wallMs)),
  };
  if (xs[0]?.opsPerSec !== undefined) {
    row.medianOpsPerSec = Math.round(median(xs.map((x) => x.opsPerSec)));
    row.opsPerSec = xs.map((x) => Math.round(x.opsPerSec));
  }
  return row;
}

/**
 * Ratio of each row to the reference row: for ops/s benchmarks row/ref (higher is better), for wall
 * benchmarks row/ref (lower is better). Adds `ratio` to each row.
 */
export function withRatios(rows, reference) {
  const ref = rows.find((r) => r.tool === reference);
  for (const r of rows) {
    if (!ref) r.ratio = null;
    else if (r.medianOpsPerSec !== undefined && ref.medianOpsPerSec !== undefined)
      r.ratio = round2(r.medianOpsPerSec / ref.medianOpsPerSec);
    else r.ratio = round2(r.medianWallMs / ref.medianWallMs);
  }
  return rows;
}

/** A goal: `value` (already a ratio, ms or MB) compared with `limit`. */
export function goal(text, value, op, limit, unit = '×') {
  const met = value !== null && value !== undefined && (op === '<=' ? value <= limit : value >= limit);
  return { goal: text, value, unit, met };
}

export function rowOf(rows, tool) {
  const r = rows.find((x) => x.tool === tool);
  if (!r) throw new Error(`no row ${tool}`);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// Output

export function printTable({ id, title, reference, rows, goals, notes = [] }) {
  const ops = rows.some((r) => r.medianOpsPerSec !== undefined);
  const head = [
    'tool',
    ops ? 'median ops/s' : 'median wall',
    'CPU',
    'peak RSS',
    `ratio to ${reference ?? '—'}`,
  ];
  const body = rows.map((r) => [
    r.tool + (r.tool === reference ? ' (reference)' : ''),
    ops && r.medianOpsPerSec !== undefined ? fmtOps(r.medianOpsPerSec) : fmtMs(r.medianWallMs),
    fmtMs(r.medianCpuMs),
    fmtMB(r.peakRssMB * 2 ** 20),
    r.ratio === null || r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [
    `\n${id} — ${title}`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
  ];
  for (const g of goals) out.push(`goal ${g.met ? 'MET   ' : 'MISSED'} ${g.goal}: ${fmtGoal(g)}`);
  for (const n of notes) out.push(`note: ${n}`);
  process.stdout.write(out.join('\n') + '\n');
}

function fmtGoal(g) {
  if (g.value === null || g.value === undefined) return 'not measured';
  if (g.unit === '×') return `${g.value.toFixed(2)}×`;
  return `${Math.round(g.value)} ${g.unit}`;
}

/** Stores one benchmark's figures in bench/results.json, next to the others' (written whole, then renamed). */
export function saveResult(entry, opts) {
  let doc = {};
  if (existsSync(RESULTS)) {
    try {
      doc = JSON.parse(readFileSync(RESULTS, 'utf8'));
    } catch {
      doc = {};
    }
  }
  doc.machine = machine();
  doc.benchmarks ??= {};
  doc.benchmarks[entry.id] = { ...entry, mode: opts.quick ? 'quick' : 'full', at: new Date().toISOString() };
  const tmp = `${RESULTS}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n');
  renameSync(tmp, RESULTS);
}

export function machine() {
  const parallel = spawnSync('parallel', ['--version'], { encoding: 'utf8' });
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    gnuParallel: parallel.status === 0 ? parallel.stdout.split('\n')[0] : null,
  };
}

export function fmtMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}
export function fmtMB(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}
export function fmtOps(n) {
  return Math.round(n).toLocaleString('en-US');
}
const round1 = (x) => Math.round(x * 10) / 10;
export const round2 = (x) => Math.round(x * 100) / 100;

// ---------------------------------------------------------------------------------------------------------
// Peers

/** GNU parallel, installed with apt-get where missing (we run as root on these machines); false if impossible. */
export function ensureParallel(opts) {
  const has = () => spawnSync('parallel', ['--version'], { stdio: 'ignore' }).status === 0;
  if (has()) return true;
  if (!opts.install) return false;
  process.stderr.write('bench: installing GNU parallel (apt-get install -y parallel)\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => spawnSync('apt-get', args, { stdio: 'ignore', env }).status === 0;
  if (!apt(['install', '-y', '-qq', 'parallel'])) {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', 'parallel']);
  }
  return has();
}

/** poolrun's CLI as a side's command. */
export function poolrunCmd(...args) {
  return [NODE, BIN, ...args];
}

/** Writes a scratch file once (same name, same content ⇒ reused). */
export function scratchFile(name, make) {
  const path = join(SCRATCH, name);
  if (!existsSync(path)) {
    spawnSync('mkdir', ['-p', SCRATCH]);
    const tmp = `${path}.tmp`;
    make(tmp);
    renameSync(tmp, path);
  }
  return path;
}
