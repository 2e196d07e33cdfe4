import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { serializeError } from './protocol.js';
import type { WorkerExit, WorkerHandle } from './handle.js';
import { WORKER_ENTRY, WORKER_YOUNG_GENERATION_MB } from './handle.js';

/** What a worker thread is given at start (worker-main.ts reads it). */
export interface ThreadWorkerData {
  init?: WorkerInit;
  /** The run token its jobs carry (POOLRUN_RUN_ID), for a thread started before the run set it (prestart.ts). */
  runToken?: string;
}

export class ThreadWorker implements WorkerHandle {
  readonly pid = process.pid;
  readonly threadId: number;
  private readonly worker: Worker;
  private lastError: Error | undefined;
  // A thread started ahead of its pool (prestart.ts) may speak before anyone listens: kept until someone does.
  private listener: ((msg: FromWorker) => void) | undefined;
  private early: FromWorker[] = [];
  private exitListener: ((exit: WorkerExit) => void) | undefined;
  private exited: WorkerExit | undefined;

  constructor(init?: WorkerInit, runToken?: string) {
    const workerData: ThreadWorkerData = { init };
    if (runToken !== undefined) workerData.runToken = runToken;
    this.worker = new Worker(WORKER_ENTRY, {
      workerData,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    this.threadId = this.worker.threadId;
    this.worker.on('error', (e) => {
      this.lastError = e;
    });
    this.worker.on('message', (m: FromWorker) => {
      if (this.listener && !this.early.length) this.listener(m);
      else this.early.push(m);
    });
    this.worker.once('exit', (code) => {
      const exit: WorkerExit = { code, signal: null };
      if (this.lastError) exit.error = serializeError(this.lastError);
      if (this.exitListener && !this.early.length) this.exitListener(exit);
      else this.exited = exit;
    });
  }

  send(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }
  onMessage(fn: (msg: FromWorker) => void): void {
    this.listener = fn;
    // What came before is handed over on a microtask: in order, before any later message (those come as
    // macrotasks), and not from inside the caller (the pool is in the middle of setting the worker up).
    if (this.early.length) queueMicrotask(() => this.flushEarly());
  }
  onExit(fn: (exit: WorkerExit) => void): void {
    this.exitListener = fn;
    if (this.exited && !this.early.length) queueMicrotask(() => this.flushEarly());
  }
  close(): void {
    this.worker.postMessage({ type: 'exit' } satisfies ToWorker);
  }
  kill(): void {
    void this.worker.terminate();
  }
  ref(): void {
    this.worker.ref();
  }
  unref(): void {
    this.worker.unref();
  }

  private flushEarly(): void {
    if (this.listener) for (let m = this.early.shift(); m; m = this.early.shift()) this.listener(m);
    const exit = this.exited;
    if (exit && this.exitListener && !this.early.length) {
      this.exited = undefined;
      this.exitListener(exit);
    }
  }
}
