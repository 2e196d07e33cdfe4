/**
 * `-w auto`: how wide the pool should be, as a pure function of two readings of the machine (sched/pressure.ts)
 * and of the run's demand. The pool starts at the core count and
 *   widens (doubles, up to --max-workers and to what is waiting) while every slot is busy, jobs wait, at least
 *     half a core was idle and nothing is under pressure: sleep- and IO-bound jobs reach a wide pool in a few
 *     ticks;
 *   narrows (halves) under memory or IO pressure, down to 1; under CPU pressure, down to the core count only:
 *     CPU-bound jobs keep it there (fewer workers than cores would leave a core idle whenever the competing load
 *     pauses; --load is the option that yields to other programs);
 *   holds otherwise, and whenever a reading is missing (no /proc: the width stays at the core count).
 * Pressure is the share of the last WINDOW_TICKS ticks (0.5 s) during which some task stalled (PSI `some`), or
 * where the kernel has no PSI: CPU, the runnable tasks beyond the cores while no CPU is idle; memory,
 * MemAvailable under 5% of the total; IO, the CPU time spent in iowait. Over a window, so that one busy tick (an
 * fsync, a compiler starting) does not halve the pool; idle CPU is the last tick's, so widening is quick.
 * Widening asks for less pressure than narrowing needs (hysteresis). After a narrowing, the pool neither narrows
 * again nor widens until a whole fresh window (WINDOW_TICKS readings, all taken after the change) says so: the
 * window that caused a narrowing still holds that pressure for WINDOW_TICKS ticks, and without this hold one
 * burst would halve the pool on each of them (16 → 8 → 4 → 2).
 */
import type { Reading } from './pressure.js';

export interface Limits {
  cores: number;
  /** --max-workers. */
  max: number;
}

export interface Demand {
  /** Jobs running now. */
  running: number;
  /** Jobs submitted and not started. */
  waiting: number;
}

/** Rates over the interval between two readings, 0-1; undefined when a reading lacks what they need. */
export interface Signals {
  idleCores?: number;
  cpu?: number;
  memory?: number;
  io?: number;
  /** Where the pressure figures came from. */
  source: 'psi' | 'proc' | 'none';
}

/** Pressure (share of the interval) below which the pool may widen, and above which it narrows. */
export const WIDEN_BELOW = { cpu: 0.3, memory: 0.05, io: 0.15 } as const;
export const NARROW_ABOVE = { cpu: 0.7, memory: 0.1, io: 0.3 } as const;
/** Idle CPU needed to widen, in cores. */
export const IDLE_CORES_TO_WIDEN = 0.5;
/** How often the CLI takes a reading, and how many earlier readings pressure is measured over. */
export const TICK_MS = 100;
export const WINDOW_TICKS = 5;

/** The default --max-workers: 8 per core (at least 8). */
export function defaultMaxWorkers(cores: number): number {
  return Math.max(8, 8 * cores);
}

export function initialWidth(limits: Limits): number {
  return Math.max(1, Math.min(limits.cores, limits.max));
}

const clamp01 = (x: number) => Math.max(0, Math.min(1, x));

export function signals(prev: Reading, cur: Reading, cores: number): Signals {
  const s: Signals = { source: 'none' };
  const dtUs = (cur.time - prev.time) * 1000;
  let ioWaitShare: number | undefined;
  if (prev.cpu && cur.cpu) {
    const total = cur.cpu.total - prev.cpu.total;
    if (total > 0) {
      const idle = clamp01((cur.cpu.idle - prev.cpu.idle) / total);
      s.idleCores = idle * cores;
      ioWaitShare = clamp01(((cur.cpu.iowait - prev.cpu.iowait) / total) * cores);
    }
  }
  if (prev.psi && cur.psi && dtUs > 0) {
    s.source = 'psi';
    for (const kind of ['cpu', 'memory', 'io'] as const) {
      const a = prev.psi[kind];
      const b = cur.psi[kind];
      if (a !== undefined && b !== undefined) s[kind] = clamp01((b - a) / dtUs);
    }
  }
  // What PSI did not give, from the older files.
  if (s.cpu === undefined && s.idleCores !== undefined) {
    const queue = cur.runnable !== undefined ? cur.runnable - 1 : cur.load1; // less this reader itself
    if (queue !== undefined) {
      s.cpu = s.idleCores < 0.05 * cores ? clamp01((queue - cores) / cores) : 0;
      if (s.source === 'none') s.source = 'proc';
    }
  }
  if (s.memory === undefined && cur.memAvailable !== undefined) {
    s.memory = cur.memAvailable < 0.05 ? 1 : cur.memAvailable < 0.15 ? NARROW_ABOVE.memory : 0;
    if (s.source === 'none') s.source = 'proc';
  }
  if (s.io === undefined && ioWaitShare !== undefined) {
    s.io = ioWaitShare;
    if (s.source === 'none') s.source = 'proc';
  }
  return s;
}

export interface Decision {
  width: number;
  change: 'widen' | 'narrow' | 'hold';
  /** Why, for the events: `idle`, `cpu`, `memory`, `io`, or why it held. */
  why: string;
}

export function decide(width: number, s: Signals, demand: Demand, limits: Limits): Decision {
  const hold = (why: string): Decision => ({ width, change: 'hold', why });
  const half = (floor: number) => Math.max(floor, Math.floor(width / 2));
  for (const kind of ['memory', 'io'] as const) {
    const p = s[kind];
    if (p !== undefined && p > NARROW_ABOVE[kind]) {
      const w = half(1);
      return w < width ? { width: w, change: 'narrow', why: kind } : hold(kind);
    }
  }
  if (s.cpu !== undefined && s.cpu > NARROW_ABOVE.cpu) {
    const w = Math.min(width, half(initialWidth(limits)));
    return w < width ? { width: w, change: 'narrow', why: 'cpu' } : hold('cpu');
  }
  if (demand.waiting <= 0 || demand.running < width) return hold('not saturated');
  if (s.idleCores === undefined || s.cpu === undefined || s.memory === undefined || s.io === undefined)
    return hold('no reading');
  if (s.idleCores < IDLE_CORES_TO_WIDEN) return hold('no idle cpu');
  for (const kind of ['cpu', 'memory', 'io'] as const) if (s[kind]! >= WIDEN_BELOW[kind]) return hold(kind);
  const w = Math.min(limits.max, width * 2, demand.running + demand.waiting);
  return w > width ? { width: w, change: 'widen', why: 'idle' } : hold('at max');
}

/**
 * Signals for a tick: pressure over the window (from the oldest reading of `history` to `cur`), idle CPU over the
 * last tick (from its newest). Undefined before there is an earlier reading.
 */
export function windowSignals(history: readonly Reading[], cur: Reading, cores: number): Signals | undefined {
  const oldest = history[0];
  const prev = history.at(-1);
  if (!oldest || !prev) return undefined;
  const s = signals(oldest, cur, cores);
  const idleCores = signals(prev, cur, cores).idleCores;
  if (idleCores === undefined) delete s.idleCores;
  else s.idleCores = idleCores;
  return s;
}

/**
 * One tick: the next width from the readings of the last WINDOW_TICKS ticks (oldest first), this one and the
 * demand now.
 */
export function step(
  width: number,
  history: readonly Reading[],
  cur: Reading,
  demand: Demand,
  limits: Limits,
): Decision {
  const s = windowSignals(history, cur, limits.cores);
  if (!s) return { width, change: 'hold', why: 'first reading' };
  return decide(width, s, demand, limits);
}

/**
 * The controller with its memory: the last WINDOW_TICKS readings and how many of them were taken since the last
 * narrowing (the hold above). AutoWidth drives it, a reading per tick.
 */
export class WidthController {
  /** The last WINDOW_TICKS readings, oldest first. */
  private readonly history: Reading[] = [];
  /** Readings in `history` taken after the last narrowing; undefined before any. */
  private fresh: number | undefined;

  constructor(
    private readonly limits: Limits,
    public width = initialWidth(limits),
  ) {}

  /** A reading, taken now, and the demand now: the decision (already applied to `width`). */
  tick(cur: Reading, demand: Demand): Decision {
    let d = step(this.width, this.history, cur, demand, this.limits);
    // Nor widens: a window that still holds the ticks before the change would flip it back and forth.
    if (d.change !== 'hold' && this.fresh !== undefined && this.fresh < WINDOW_TICKS)
      d = { width: this.width, change: 'hold', why: `settling after narrowing (${d.why})` };
    this.history.push(cur);
    if (this.history.length > WINDOW_TICKS) this.history.shift();
    // This reading was taken before the change it led to: the fresh ones start with the next.
    if (d.change === 'narrow') this.fresh = 0;
    else if (this.fresh !== undefined) this.fresh = Math.min(WINDOW_TICKS, this.fresh + 1);
    this.width = d.width;
    return d;
  }
}
