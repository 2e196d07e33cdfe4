/** The two executors, by mode name, for tests run on both (describe.each(Object.entries(pools))). */
import { ProcessPoolExecutor, ThreadPoolExecutor, type ExecutorOptions } from '../../dist/index.js';

export const pools = {
  thread: (o?: ExecutorOptions) => new ThreadPoolExecutor(o),
  process: (o?: ExecutorOptions) => new ProcessPoolExecutor(o),
};
