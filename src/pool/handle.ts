import type { FromWorker, ToWorker } from './protocol.js';
import type { Job, SerializedError } from '../kinds/types.js';

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
  /**
   * Whether it takes these jobs now (when it does not, the pool keeps them for another worker, or until this one
   * says `ready` again). Absent: it takes anything. Only the CLI's first thread, while it starts, refuses some
   * (hybrid.ts).
   */
  takes?(jobs: readonly Job[]): boolean;
  /** Keep (or stop keeping) the event loop alive: idle workers must not hold a library user's process open. */
  ref(): void;
  unref(): void;
}

/**
 * What a worker says, and how it ended, kept until someone listens: a worker started ahead of its pool
 * (prestart.ts) may be ready before the pool has set it up. Kept messages are handed over on a microtask, in
 * order and before any later one (those come as macrotasks), and not from inside the caller's own setting-up.
 */
export class Mailbox {
  private listener: ((msg: FromWorker) => void) | undefined;
  private early: FromWorker[] = [];
  private exitListener: ((exit: WorkerExit) => void) | undefined;
  private exited: WorkerExit | undefined;

  message(m: FromWorker): void {
    if (this.listener && !this.early.length) this.listener(m);
    else this.early.push(m);
  }
  exit(e: WorkerExit): void {
    if (this.exitListener && !this.early.length) this.exitListener(e);
    else this.exited = e;
  }
  onMessage(fn: (msg: FromWorker) => void): void {
    this.listener = fn;
    if (this.early.length) queueMicrotask(() => this.flush());
  }
  onExit(fn: (exit: WorkerExit) => void): void {
    this.exitListener = fn;
    if (this.exited && !this.early.length) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    if (this.listener) for (let m = this.early.shift(); m; m = this.early.shift()) this.listener(m);
    const exit = this.exited;
    if (exit && this.exitListener && !this.early.length) {
      this.exited = undefined;
      this.exitListener(exit);
    }
  }
}

/**
 * The worker's entry beside this module: in the CLI's bundle (dist/bundle/, CommonJS: scripts/build-bundle.mjs)
 * worker-main.cjs, which starts ~6 ms sooner than an ES module entry; elsewhere worker-main.js.
 */
export const WORKER_ENTRY = new URL(
  import.meta.url.endsWith('.cjs') ? './worker-main.cjs' : './worker-main.js',
  import.meta.url,
);

/**
 * The young generation of a worker thread's heap, in MB: 4 MB semi-spaces instead of V8's 16. V8 grows the
 * young generation to its maximum in any long run, and sizes the old generation's next limit with it, so at the
 * default a worker running a million tiny calls held ~45 MB of heap for ~4 MB of live objects. Measured on an
 * allocation-heavy call (a 50,000-entry Map, rebuilt 60 times): within a few % of the default's time. Worker
 * processes keep V8's default: the only way to set it there is a V8 flag, and any V8 flag makes Node compile its
 * built-in modules without their code cache (+13 ms to start each worker process).
 */
export const WORKER_YOUNG_GENERATION_MB = 12;
