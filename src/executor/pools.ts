/** Python's two executors: an Executor of worker threads, and one of worker processes. */
import { Executor } from './executor.js';
import type { ExecutorOptions } from './types.js';

export class ThreadPoolExecutor extends Executor {
  constructor(opts: ExecutorOptions = {}) {
    super('thread', opts);
  }
}

export class ProcessPoolExecutor extends Executor {
  constructor(opts: ExecutorOptions = {}) {
    super('process', opts);
  }
}
