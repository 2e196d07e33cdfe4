/**
 * Readings of the machine for `-w auto` (sched/auto-width.ts): cumulative counters, read from /proc, that the
 * controller turns into rates between two readings. Linux PSI (/proc/pressure/{cpu,memory,io}: the `some` line's
 * `total`, µs during which at least one task stalled) where the kernel has it; CPU time by state from /proc/stat;
 * the run queue and load average from /proc/loadavg; available memory from /proc/meminfo. A file that is missing
 * or unreadable leaves its fields out (macOS has none of them: the controller then holds the width).
 *
 * POOLRUN_TEST_PROC_ROOT points the reader at another folder laid out like /proc. It is for poolrun's own tests
 * (fake readings from real files); it is not a user setting and may change.
 */
import { readText } from './machine.js';
import { join } from 'node:path';

export const PROC_ROOT_VAR = 'POOLRUN_TEST_PROC_ROOT';

export interface Reading {
  /** When it was taken: ms on a monotonic clock. */
  time: number;
  /** /proc/stat's `cpu` line, in clock ticks: all states summed, idle (without iowait), iowait. */
  cpu?: { total: number; idle: number; iowait: number };
  /** PSI `some` totals in µs, each present when its file is. */
  psi?: { cpu?: number; memory?: number; io?: number };
  /** /proc/loadavg: the 1-minute load and the number of runnable tasks now. */
  load1?: number;
  runnable?: number;
  /** /proc/meminfo: MemAvailable / MemTotal. */
  memAvailable?: number;
}

export function procRoot(env: NodeJS.ProcessEnv = process.env): string {
  const root = env[PROC_ROOT_VAR];
  return root !== undefined && root !== '' ? root : '/proc';
}

/** `some avg10=0.00 avg60=0.00 avg300=0.00 total=12345` → 12345. */
export function psiSomeTotal(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^some\b[^\n]*\btotal=(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** /proc/stat's aggregate line: `cpu user nice system idle iowait irq softirq steal guest guest_nice`. */
export function cpuTimes(text: string | undefined): Reading['cpu'] {
  if (text === undefined) return undefined;
  const m = /^cpu +([\d ]+)$/m.exec(text);
  if (!m) return undefined;
  const f = m[1]!.trim().split(/ +/).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  // guest and guest_nice are already counted in user and nice.
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: f[3]!, iowait: f[4] ?? 0 };
}

export function loadAvg(text: string | undefined): { load1?: number; runnable?: number } {
  const m = text === undefined ? null : /^(\d+(?:\.\d+)?) \S+ \S+ (\d+)\/\d+/.exec(text);
  return m ? { load1: Number(m[1]), runnable: Number(m[2]) } : {};
}

export function memAvailable(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const total = /^MemTotal:\s+(\d+)/m.exec(text);
  const avail = /^MemAvailable:\s+(\d+)/m.exec(text);
  if (!total || !avail || Number(total[1]) <= 0) return undefined;
  return Math.min(1, Number(avail[1]) / Number(total[1]));
}

/** One reading of the machine, from `root` (default /proc, or POOLRUN_TEST_PROC_ROOT). */
export function readMachine(root = procRoot(), now = performance.now()): Reading {
  const r: Reading = { time: now };
  const cpu = cpuTimes(readText(join(root, 'stat')));
  if (cpu) r.cpu = cpu;
  const psi: NonNullable<Reading['psi']> = {};
  for (const kind of ['cpu', 'memory', 'io'] as const) {
    const total = psiSomeTotal(readText(join(root, 'pressure', kind)));
    if (total !== undefined) psi[kind] = total;
  }
  if (Object.keys(psi).length) r.psi = psi;
  Object.assign(r, loadAvg(readText(join(root, 'loadavg'))));
  const mem = memAvailable(readText(join(root, 'meminfo')));
  if (mem !== undefined) r.memAvailable = mem;
  return r;
}
