import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { serializeError } from './protocol.js';
import type { WorkerExit, WorkerHandle } from './handle.js';
import { Mailbox, WORKER_ENTRY, WORKER_YOUNG_GENERATION_MB } from './handle.js';

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
  private readonly mailbox = new Mailbox();

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
    this.worker.on('message', (m: FromWorker) => this.mailbox.message(m));
    // A message that cannot be read here is lost: the worker is ended, so the jobs it held fail instead of
    // waiting for it for good.
    this.worker.on('messageerror', (e) => {
      this.lastError ??= new Error(`a message from the worker could not be read: ${e.message}`);
      void this.worker.terminate();
    });
    this.worker.once('exit', (code) => {
      const exit: WorkerExit = { code, signal: null };
      if (this.lastError) exit.error = serializeError(this.lastError);
      this.mailbox.exit(exit);
    });
  }

  send(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }
  onMessage(fn: (msg: FromWorker) => void): void {
    this.mailbox.onMessage(fn);
  }
  onExit(fn: (exit: WorkerExit) => void): void {
    this.mailbox.onExit(fn);
  }
  close(): void {
    this.worker.postMessage({ type: 'exit' } satisfies ToWorker);
    // A thread that does not leave within a second of being asked is held by what a call left behind (a child
    // process, a timer, a server): ended, as a worker process is (process.ts). Its children are the pool's to end.
    setTimeout(() => void this.worker.terminate(), 1000).unref();
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
}
