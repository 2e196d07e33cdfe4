/** What `--queue` runs are configured with: the Redis and the run's limits, and the runner's options. */
import type { ExecutorOptions } from '../executor/executor.js';

export interface QueueSettings {
  /** redis:// or rediss:// URL of the Redis that the workers serve. */
  url: string;
  /** How long a run's jobs and results stay in Redis once finished. */
  ttlMs: number;
  /** How long to keep retrying an unreachable Redis before giving up. */
  timeoutMs: number;
}

export interface QueueRunnerOptions extends ExecutorOptions {
  /** No notices on stderr (the "no worker" hint). */
  quiet?: boolean;
  /** --halt: travels with every job, so that the worker that ran a failing job stops the run at once. */
  halt?: 'never' | 'soon' | 'now';
  /** --deadline: no worker starts a job of the run after it (measured by the Redis server's clock). */
  deadlineMs?: number;
}

/** Jobs per addBulk call. */
export const ADD_BATCH = 500;
/** An unfinished job that has been quiet this long is looked up in Redis (an event may have been trimmed). */
export const SWEEP_AFTER_MS = 10_000;
/** After a kill request, how long to wait (beyond --kill-after) for workers to report the killed jobs. */
export const KILL_GRACE_MS = 15_000;
/** When no job of a run has started for this long, say that no worker may be serving the queue. */
export const NO_WORKER_HINT_MS = 10_000;
