import type { FromWorker, ToWorker } from './protocol.js';
import type { SerializedError } from '../jobs/types.js';

export type PoolMode = 'thread' | 'process';

export interface WorkerExit {
  code: number | null;
  signal: string | null;
  /** The uncaught error that ended the worker, when it reported one. */
  error?: SerializedError;
}

/**
 * One worker, whatever runs it: the pool sees only this. A thread backend and a process backend implement it
 * (as tinypool does), so scheduling, crash handling and timeouts are written once.
 */
export interface WorkerHandle {
  readonly pid: number;
  readonly threadId: number;
  send(msg: ToWorker): void;
  onMessage(fn: (msg: FromWorker) => void): void;
  /** Called once, however the worker ended. */
  onExit(fn: (exit: WorkerExit) => void): void;
  /** Ask the worker to exit when idle. */
  close(): void;
  /** End it now: terminate the thread, or SIGKILL the process. */
  kill(): void;
  /** Keep (or stop keeping) the event loop alive: idle workers must not hold a library user's process open. */
  ref(): void;
  unref(): void;
}

export type WorkerFactory = () => WorkerHandle;

export const WORKER_ENTRY = new URL('./worker-main.js', import.meta.url);

/**
 * The young generation of a worker's heap, in MB: 4 MB semi-spaces instead of V8's 16. V8 grows the young
 * generation to its maximum in any long run, and each worker's old-generation limit is sized with it, so at
 * the default a worker running a million tiny calls held ~45 MB of heap for ~4 MB of live objects. Measured on
 * an allocation-heavy call (a 50,000-entry Map, rebuilt 60 times): within a few % of the default's time.
 */
export const WORKER_YOUNG_GENERATION_MB = 12;
/** The same for a worker process, as V8's flag says it (a young generation is two semi-spaces and a third). */
export const WORKER_SEMI_SPACE_MB = WORKER_YOUNG_GENERATION_MB / 3;
