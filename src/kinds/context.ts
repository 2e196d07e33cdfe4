import type { Job } from './types.js';
import type { CaptureOptions } from './outcome.js';

/** What a job runner inside a worker gets from the worker loop. */
export interface JobContext {
  key: number;
  job: Job;
  /** Worker slot, 1..n. */
  worker: number;
  capture: CaptureOptions;
  /**
   * It runs on the main thread (pool/local.ts), which must never wait: no brief wait inside the spawn for the job
   * to end (proc/spawn-types.ts `brief`).
   */
  mainThread?: boolean;
  /** Aborted when the main thread asks this job to stop (timeout, halt) — for cooperative kinds. */
  signal: AbortSignal;
  /**
   * Tell the main thread a process group now exists, so it can kill it. `leaderStart`: its leader's start time
   * when the spawner read it (proc/spawn-types.ts); otherwise the worker reads it, before it can reap the child.
   */
  spawned(pid: number, leaderStart?: string): void;
  /**
   * Sends a piece of output on to the main thread (`--output stream`). False once more of this job's output
   * than the main thread should hold is still unprinted: stop producing, and go on when `whenOutputTaken` says.
   */
  output(stream: 'stdout' | 'stderr', data: Buffer): boolean;
  /** Calls `fn` once the main thread has printed enough of what was sent (after output() returned false). */
  whenOutputTaken(fn: () => void): void;
  /**
   * The same for code that cannot be paused (a call's synchronous writes): blocks until enough is printed.
   * Only a worker thread can wait so (it reads its messages synchronously); in a worker process it returns at once.
   */
  waitForOutputTaken(): void;
}
