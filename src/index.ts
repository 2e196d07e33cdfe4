export { Future, type FutureState, type WaitOptions, type DoneCallback } from './executor/future.js';
export { ThreadPoolExecutor, ProcessPoolExecutor } from './executor/pools.js';
export {
  Executor,
  type ExecutorOptions,
  type ExecutorEvent,
  type JobInput,
  type JobOutput,
  type MapOptions,
  type ShutdownOptions,
} from './executor/executor.js';
export { task, type Task, type TaskOptions } from './executor/task.js';
export {
  asCompleted,
  wait,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
  type ReturnWhen,
  type WaitResult,
} from './executor/wait.js';
export {
  PoolrunError,
  TimeoutError,
  CancelledError,
  InvalidStateError,
  BrokenWorkerError,
  ShutdownError,
  RemoteError,
  JobFileError,
  UsageError,
} from './errors.js';
export type { Job, JobResult, JobStatus, JobKind, SerializedError, Usage } from './kinds/types.js';
export { parseJobText, readJobFile } from './jobs/parse.js';
