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
