import type { ExecutorEvent } from '../executor/executor.js';
import type { JobResult } from '../kinds/types.js';

export interface Summary {
  total: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  cancelled: number;
  durationMs: number;
}

export function emptySummary(): Summary {
  return { total: 0, succeeded: 0, failed: 0, timedOut: 0, cancelled: 0, durationMs: 0 };
}

export function count(summary: Summary, r: JobResult): void {
  summary.total++;
  if (r.status === 'succeeded') summary.succeeded++;
  else if (r.status === 'failed') summary.failed++;
  else if (r.status === 'timed-out') summary.timedOut++;
  else summary.cancelled++;
}

/** Why a run stopped early, if it did. */
/** `input`: a bad line of input read as it arrived (the run exits 2). */
export type StopReason = 'halt' | 'deadline' | 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'EPIPE' | 'input';

export interface RunEnd {
  summary: Summary;
  /** Jobs that did not succeed, in input order. */
  failures: JobResult[];
  stop: StopReason | undefined;
}

/**
 * Sees a run: every executor event as it happens (jobs never submitted get a `finished` event with status
 * `cancelled` too), then the end. Status displays, result files, joblogs are observers.
 */
export interface RunObserver {
  event(e: ExecutorEvent): void;
  /** May finish writing asynchronously (a large --json document to a slow pipe): the run waits for it. */
  end(run: RunEnd): void | Promise<void>;
  /** -w auto: the pool's width is now `width` (epoch ms `time`; `why`: start, idle, cpu, memory, io). */
  width?(width: number, time: number, why: string): void;
}

/** What a run knows when it starts, for the displays. */
export interface RunInfo {
  /** How many jobs, when the input is known up front; undefined for a streamed input. */
  total: number | undefined;
  workers: number;
  /** Epoch ms. */
  startedAt: number;
  /** Where the jobs come from (job file name, `<stdin>`, `--call`). */
  name: string;
}
