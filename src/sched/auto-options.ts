/** The command line's scheduling options of sched/: `-w auto`, `--max-workers`, `--schedule`. */
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import { defaultMaxWorkers } from './auto-width.js';
import { SCHEDULES, type Schedule } from './longest-first.js';

export interface SchedRaw {
  workers?: string;
  /** How the pool size was given, for messages: `-w/--workers` (the default) or `-j/--jobs`. */
  workersFlag?: string;
  maxWorkers?: string;
  schedule?: string;
  joblog?: string;
  queue?: string;
  /** --shuf (GNU's): a start order of its own, which longest-first would override. */
  shuf?: boolean;
}

export interface SchedOptions {
  /** `-w auto`: the pool's width moves between 1 and `max` (then RunOptions.workers is `max` too). */
  auto?: { max: number; cores: number };
  schedule: Schedule;
}

/** `-w auto`: the pool's size (its bound, --max-workers); undefined for any other -w, which parseWorkers reads. */
export function autoWorkers(raw: SchedRaw, cores = availableParallelism()): number | undefined {
  const w = raw.workers?.trim();
  if (w === undefined || !/^auto/i.test(w)) return undefined;
  if (w !== 'auto')
    throw new UsageError(
      `${raw.workersFlag ?? '--workers'}: expected N, N%, +N, -N or auto, got "${raw.workers}"`,
    );
  return maxWorkers(raw, cores);
}

function maxWorkers(raw: SchedRaw, cores: number): number {
  const v = raw.maxWorkers;
  if (v === undefined) return Math.min(10_000, defaultMaxWorkers(cores));
  if (/^\s*\d+\s*$/.test(v)) {
    const n = Number(v);
    if (n >= 1 && n <= 10_000) return n;
  }
  throw new UsageError(`--max-workers: expected an integer from 1 to 10000, got "${v}"`);
}

export function autoSchedOptions(raw: SchedRaw, cores = availableParallelism()): SchedOptions {
  const out: SchedOptions = { schedule: 'input' };
  if (raw.schedule !== undefined) {
    if (!(SCHEDULES as readonly string[]).includes(raw.schedule))
      throw new UsageError(`--schedule: expected one of ${SCHEDULES.join(', ')}, got "${raw.schedule}"`);
    out.schedule = raw.schedule as Schedule;
  }
  if (out.schedule === 'longest-first' && raw.joblog === undefined)
    throw new UsageError(
      '--schedule longest-first needs --joblog FILE: the durations come from the runs that log records',
    );
  if (out.schedule === 'longest-first' && raw.shuf)
    throw new UsageError(
      '--shuf and --schedule longest-first cannot be combined: each chooses the order jobs start in (pick one)',
    );
  const max = autoWorkers(raw, cores);
  if (max !== undefined) {
    if (raw.queue !== undefined)
      throw new UsageError(
        `${raw.workersFlag ?? '--workers'} auto is for a local pool; with --queue the workers serving the queue set their own -w`,
      );
    out.auto = { max, cores };
  } else if (raw.maxWorkers !== undefined) {
    // Checked first, so that a bad value is named as such.
    maxWorkers(raw, cores);
    throw new UsageError('--max-workers goes with --workers auto (it bounds the width auto chooses)');
  }
  return out;
}
