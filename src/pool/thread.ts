import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { serializeError } from './protocol.js';
import type { WorkerExit, WorkerHandle } from './handle.js';
import { WORKER_ENTRY, WORKER_YOUNG_GENERATION_MB } from './handle.js';

export class ThreadWorker implements WorkerHandle {
  readonly pid = process.pid;
  readonly threadId: number;
  private readonly worker: Worker;
  private lastError: Error | undefined;

  constructor(init?: WorkerInit) {
    this.worker = new Worker(WORKER_ENTRY, {
      workerData: { init },
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    this.threadId = this.worker.threadId;
    this.worker.on('error', (e) => {
      this.lastError = e;
    });
  }

  send(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }
  onMessage(fn: (msg: FromWorker) => void): void {
    this.worker.on('message', fn);
  }
  onExit(fn: (exit: WorkerExit) => void): void {
    this.worker.once('exit', (code) => {
      const exit: WorkerExit = { code, signal: null };
      if (this.lastError) exit.error = serializeError(this.lastError);
      fn(exit);
    });
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
}
