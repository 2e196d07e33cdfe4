/** The executor's public option, event and result shapes, shared by the Executor, the queue producer and the tracker. */
import type { Job, JobResult } from '../kinds/types.js';
import type { ProcessGroups } from '../proc/groups.js';
import type { AnyTask } from './task.js';

export interface ExecutorOptions {
  /** Pool size; default (or null, Python's None): available cores. */
  maxWorkers?: number | null;
  /** Grace between SIGTERM and SIGKILL when a job is killed, in ms. Default 5000. */
  killAfter?: number;
  /** Retries for jobs that do not set their own. Default 0. */
  retries?: number;
  /** Wait before the first retry in ms; doubles for each further attempt. Default 0. */
  retryDelay?: number;
  /** Bytes of each output stream kept per job; past it the result is truncated. Default 1 MiB. */
  captureLimit?: number;
  /** Keep output for results (default true); stream it as `output` events; spill past the limit to a file. */
  capture?: { keep?: boolean; stream?: boolean; spill?: boolean };
  /**
   * Where spilled output goes. Given, it is the caller's: the executor leaves it for the caller to remove once it
   * has read the files (the CLI prints after shutdown). Default: a temp folder the executor removes at shutdown.
   */
  spillDir?: string;
  /**
   * Sees every job's life: queued, started, output, retry, finished. For an `output` event it may return a
   * promise: the job's further output is held back (its worker stops reading the job's pipes once about 1 MiB
   * is outstanding) until such promises settle — how a consumer that writes the output somewhere slow keeps
   * memory bounded.
   */
  onEvent?: (e: ExecutorEvent) => unknown;
  /** Shares one process-group registry (the CLI kills everything from it on exit). */
  groups?: ProcessGroups;
  /**
   * @internal Where a worker process's own stdout goes (what a task writes past `process.stdout`: a child with
   * `stdio: 'inherit'`, `fs.writeSync(1)`): the program's stdout, as a thread's (default), or its stderr (the
   * CLI, whose stdout is ordered job output).
   */
  workerStdout?: 'stdout' | 'stderr';
  /** Runs once in every worker before it takes work (Python's initializer); a worker whose initializer throws
   * never takes work, and after three such workers in a row every pending future fails with BrokenWorkerError. */
  initializer?: AnyTask;
  initargs?: unknown[];
}

export interface JobOutput {
  stdout: Buffer;
  stderr: Buffer;
  /** Everything the job printed, when it outgrew the capture limit (delete it when done with it). */
  stdoutFile?: string;
  stderrFile?: string;
}

export type ExecutorEvent =
  | { event: 'queued'; job: Job; time: number }
  /** The job waits for the jobs it runs `after` (src/sched/dispatch.ts); `queued` follows once they succeeded. */
  | { event: 'waiting'; job: Job; after: string[]; time: number }
  | {
      event: 'started';
      job: Job;
      attempt: number;
      worker: number;
      pid: number;
      threadId: number;
      /** The host the job runs on, when it is not this one (queue mode). */
      host?: string;
      time: number;
    }
  | { event: 'output'; job: Job; attempt: number; stream: 'stdout' | 'stderr'; data: Buffer; time: number }
  | { event: 'retry'; job: Job; attempt: number; result: JobResult; delayMs: number; time: number }
  /** Killed while running, to run again later (--memfree: memory below half of it); not a retry. */
  | { event: 'requeued'; job: Job; attempt: number; reason: string; time: number }
  | { event: 'finished'; job: Job; result: JobResult; output: JobOutput | undefined; time: number };

export interface MapOptions {
  /** One deadline in ms from the call, for the whole iteration (Python's semantics). */
  timeout?: number;
  /** Items per message to a worker process; no effect in a thread pool. */
  chunksize?: number;
  /** Submit at most this many items ahead of what has been yielded (bounded memory for long inputs). */
  buffersize?: number;
}

export interface ShutdownOptions {
  /** Wait for submitted work to finish and the workers to exit. Default true. */
  wait?: boolean;
  /** Cancel futures that have not started. Default false. */
  cancelFutures?: boolean;
  /** poolrun's addition: also kill running jobs (their process trees; a call's worker). Default false. */
  kill?: boolean;
}

/** A job as the library accepts it: the job file's shape (`{ run: 'echo hi', timeout: '2s' }`) or a command string. */
export type JobInput = string | Record<string, unknown>;
