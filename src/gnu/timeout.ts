/**
 * GNU parallel's `--timeout N%` (issue 16, item 6): a job is timed out (its process tree killed, status
 * timed-out) once it has run longer than N% of the median runtime of the jobs that have succeeded so far.
 * As GNU parallel (its TimeoutQueue): only jobs that exit 0 count; until one has, no job is timed out; the limit
 * moves with every job that succeeds, and applies to the jobs already running too.
 */
import type { ExecutorEvent } from '../executor/executor.js';
import type { Job } from '../kinds/types.js';

export interface TimeoutPercentOptions {
  /** The percentage: 200 is twice the median. */
  percent: number;
  /** Times a running job out now (Executor.timeOut); false when it is no longer running. */
  timeOut: (job: Job) => boolean;
  now?: () => number;
}

/** The lower median, as GNU's remedian takes it (element ($#/2) of the sorted runtimes). */
export function lowerMedian(sorted: readonly number[]): number {
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

export class TimeoutPercent {
  readonly #o: TimeoutPercentOptions;
  readonly #running = new Map<number, { job: Job; start: number }>();
  /** Runtimes of the jobs that succeeded, sorted. */
  readonly #runtimes: number[] = [];
  readonly #killed = new Map<number, number>();
  #limitMs: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(o: TimeoutPercentOptions) {
    this.#o = o;
  }

  /** The current limit in ms, once a job has succeeded. */
  get limitMs(): number | undefined {
    return this.#limitMs;
  }

  /** Called with every executor event, before anyone else sees it (it fills in a timed-out job's error). */
  event(e: ExecutorEvent): void {
    if (e.event === 'started') {
      this.#running.set(e.job.index, { job: e.job, start: this.#now() });
      this.#schedule();
    } else if (e.event === 'retry' || e.event === 'requeued') {
      this.#running.delete(e.job.index);
    } else if (e.event === 'finished') {
      this.#running.delete(e.job.index);
      const r = e.result;
      const limit = this.#killed.get(e.job.index);
      this.#killed.delete(e.job.index);
      if (r.status === 'timed-out' && limit !== undefined && e.job.timeoutMs === undefined)
        r.error = {
          name: 'TimeoutError',
          message: `timed out after ${Math.round(limit)}ms (--timeout ${this.#o.percent}% of the median runtime of the jobs that succeeded)`,
        };
      if (r.status === 'succeeded' && r.durationMs !== null) {
        const at = this.#runtimes.findIndex((x) => x > r.durationMs!);
        this.#runtimes.splice(at === -1 ? this.#runtimes.length : at, 0, r.durationMs);
        this.#limitMs = (this.#o.percent / 100) * lowerMedian(this.#runtimes);
      }
      this.#schedule();
    }
  }

  /** Stops the timer (the run is over). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #schedule(): void {
    this.stop();
    const limit = this.#limitMs;
    if (limit === undefined || this.#running.size === 0) return;
    const now = this.#now();
    let next = Infinity;
    for (const [index, r] of this.#running) {
      if (now - r.start > limit) {
        this.#running.delete(index);
        if (this.#o.timeOut(r.job)) this.#killed.set(index, limit);
      } else next = Math.min(next, r.start + limit);
    }
    if (next === Infinity) return;
    // Just past the limit: GNU's rule is "runtime > limit".
    this.#timer = setTimeout(() => this.#schedule(), Math.max(1, Math.ceil(next - now) + 1));
    this.#timer.unref();
  }
}
