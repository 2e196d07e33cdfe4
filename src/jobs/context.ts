import type { Job } from './types.js';
import type { CaptureOptions } from '../pool/protocol.js';

/** What a job runner inside a worker gets from the worker loop. */
export interface JobContext {
  key: number;
  job: Job;
  /** Worker slot, 1..n. */
  worker: number;
  capture: CaptureOptions;
  /** Aborted when the main thread asks this job to stop (timeout, halt) — for cooperative kinds. */
  signal: AbortSignal;
  /** Tell the main thread a process group now exists, so it can kill it. */
  spawned(pid: number): void;
  output(stream: 'stdout' | 'stderr', data: Buffer): void;
}
