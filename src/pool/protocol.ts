/**
 * Messages between the main thread and a worker (thread or process). Kept small and flat: every job costs
 * one `batch` entry out and one `done` back; `spawned` exists so the main thread can own every process group.
 */
import type { Job, SerializedError } from '../kinds/types.js';
import type { CaptureOptions, Outcome } from '../kinds/outcome.js';

export { serializeError } from '../kinds/outcome.js';
export type { CaptureOptions, Outcome } from '../kinds/outcome.js';

/** A function every worker runs once before it takes work (Python's `initializer`/`initargs`). */
export interface WorkerInit {
  module: string;
  export: string;
  args: unknown[];
}

export interface WireJob {
  key: number;
  job: Job;
}

/** A worker process started with this argument waits for an `init` message before it starts. */
export const INIT_FLAG = '--poolrun-init';

export type ToWorker =
  /** A process's initializer, the first message it gets (a thread has it in its workerData). */
  | { type: 'init'; init: WorkerInit }
  /** `worker` is the slot (1..n) the jobs run on: shell jobs see it as POOLRUN_WORKER (GNU parallel's {%}). */
  | { type: 'batch'; worker: number; capture: CaptureOptions; jobs: WireJob[] }
  /** Skip a job of a batch that has not started yet (one that has is said with `began`). */
  | { type: 'skip'; key: number }
  /**
   * Give back a job of a batch that has not started (another worker is idle): `given` if it was, `began` if it
   * runs now; nothing if it is over (its `done` came first).
   */
  | { type: 'take'; key: number }
  /** Stop a running copy/download/call cooperatively (timeouts, halt). */
  | { type: 'abort'; key: number }
  /** `bytes` more of the job's streamed output have been printed (flow control: see OUTPUT_CREDIT). */
  | { type: 'ack'; key: number; bytes: number }
  | { type: 'exit' };

/**
 * Flow control of streamed output (`--output stream`): a worker stops reading a job's output once more than
 * OUTPUT_CREDIT bytes it sent are not yet printed, and reads on when the main thread's acks bring that down to
 * OUTPUT_RESUME. The main thread acks in steps of at least OUTPUT_ACK_STEP (so a job printing a line at a time
 * does not cost a message back per line), which must stay below OUTPUT_RESUME. Each worker then has at most
 * about OUTPUT_CREDIT bytes of output on their way through poolrun, however slowly stdout is read. Measured
 * with a job printing 200 MB (process mode, poolrun's own process): 83–99 MB peak at a 1 MiB credit, 77–80 MB at
 * 256 KiB; about 8 % more wall time to /dev/null.
 */
export const OUTPUT_CREDIT = 256 * 1024;
export const OUTPUT_RESUME = 128 * 1024;
export const OUTPUT_ACK_STEP = 32 * 1024;

/** An Outcome as it crosses to the main thread: empty output is left out (cloning an empty buffer still costs). */
export type WireOutcome = Omit<Outcome, 'stdout' | 'stderr'> & {
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  /** A thread's call value: where it held Buffers, which the clone made Uint8Arrays (pool/buffers.ts). */
  bufferPaths?: Array<Array<string | number>>;
};

export type FromWorker =
  /**
   * `provisional`: said by a slot whose thread is not ready (pool/hybrid.ts), which takes shell jobs already: its
   * thread dying before it is ready is a worker that could not start.
   */
  | { type: 'ready'; provisional?: true }
  /** `leader`: the leader's start time as the worker read it before reaping (proc/owner.ts); null: not readable. */
  | { type: 'spawned'; key: number; pid: number; leader?: string | null }
  | { type: 'output'; key: number; stream: 'stdout' | 'stderr'; data: Uint8Array }
  /** A `skip` or `take` came for the job this worker is running: it had begun it (it runs on, and reports as it ends). */
  | { type: 'began'; key: number }
  /** Said to `take`: the job was taken out of this worker's queue unstarted; it never runs here. */
  | { type: 'given'; key: number }
  /**
   * `spawned`: the job's process, for a worker that names it only here (none does today: worker-main.ts posts
   * `spawned` at once, so that a worker dying mid-job cannot leave the group unknown); taken as that message first.
   */
  | { type: 'done'; key: number; outcome: WireOutcome; spawned?: { pid: number; leader: string | null } }
  /** Sent by a process worker on an uncaught error, just before it exits, so the main thread can say why. */
  | { type: 'fatal'; error: SerializedError };
