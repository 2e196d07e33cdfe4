/**
 * What a CLI run needs from whatever runs its jobs: the local Executor (a pool on this machine) or the
 * QueueExecutor (workers on other machines, through BullMQ). Ordering, halt, deadline, signals, observers and
 * exit statuses live in cli/run.ts above this surface, so they behave the same whichever runner is below it.
 */
import type { Job, JobResult } from '../kinds/types.js';
import type { Future } from './future.js';
import type { ShutdownOptions } from './executor.js';

export interface JobRunner {
  /** Jobs submitted and not yet finished. */
  readonly pending: number;
  /**
   * Submits parsed jobs, in input order. Every job gets a `queued` event now and exactly one `finished` event
   * (through the runner's `onEvent`) when it ends; its future resolves to the same result.
   */
  submitJobs(jobs: Job[]): Future<JobResult>[];
  /** Cancels every job that has not started (halt, deadline, signals); each reports `finished`, cancelled. */
  cancelPending(): void;
  /**
   * Kills every running job's process tree; each reports `finished` (cancelled) once it is gone. With `now`, no
   * grace between SIGTERM and SIGKILL (a second Ctrl-C).
   */
  killRunning(opts?: { now?: boolean }): void;
  /** Kills a running job to run it again later, not as a retry (--memfree; local runs only). */
  evict?(job: Job, reason: string, parked: (again: () => void) => void): boolean;
  /** Stops taking work; with `wait`, resolves once every submitted job has finished and resources are freed. */
  shutdown(opts?: ShutdownOptions): Promise<void>;
}
