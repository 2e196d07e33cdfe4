/**
 * The pool's types: what the executor hands it (an Attempt) and gets back (a Ticket, an AttemptResult), and how
 * the pool's parts (pool.ts, dispatch.ts, slots.ts, finish.ts) keep each attempt and each worker.
 */
import type { Job, JobStatus } from '../kinds/types.js';
import type { CaptureOptions, Outcome, WorkerInit } from './protocol.js';
import type { PoolMode, WorkerHandle } from './handle.js';
import type { ProcessGroups } from '../proc/groups.js';
import type { Deque } from '../util/deque.js';

export interface StartInfo {
  worker: number;
  pid: number;
  threadId: number;
  startedAt: number;
}

export interface AttemptResult extends Outcome {
  status: JobStatus;
  worker: number | null;
  pid: number | null;
  threadId: number | null;
  /** The pool killed it: `timeout` for --timeout, `cancel` for halt/deadline/signals. */
  killedFor?: KillReason;
}

/** One attempt of one job, as the executor hands it to the pool. */
export interface Attempt {
  readonly job: Job;
  onStart(info: StartInfo): void;
  /**
   * A piece of streamed output. A returned promise says it is not printed yet: the worker is told it may send
   * more (flow control) once it settles.
   */
  onOutput(stream: 'stdout' | 'stderr', data: Buffer): PromiseLike<unknown> | undefined;
  onDone(result: AttemptResult): void;
}

export type KillReason = 'timeout' | 'cancel';

/** The pool's handle on a submitted attempt. */
export interface Ticket {
  readonly attempt: Attempt;
}

export interface PoolOptions {
  mode: PoolMode;
  size: number;
  killAfterMs: number;
  groups?: ProcessGroups;
  /** Where a worker process's own stdout goes (ExecutorOptions.workerStdout); default stderr. */
  workerStdout?: 'stdout' | 'stderr';
  init?: WorkerInit;
  /** How workers keep the output of the jobs they run: the same for every job, so sent once per batch. */
  capture: CaptureOptions;
  /**
   * Makes the worker of slot `id` (1..size). By default a thread or a process as `mode` says (or the CLI's
   * pre-started one); the pool's unit tests give fake ones.
   */
  startWorker?: (id: number) => WorkerHandle;
}

export type TicketState = 'queued' | 'sent' | 'running' | 'done' | 'cancelled';

/** A Ticket as the pool keeps it. */
export interface Tracked extends Ticket {
  key: number;
  state: TicketState;
  slot?: Slot;
  pgid?: number;
  killReason?: KillReason;
  /**
   * When poolrun first acted to stop it (Date.now()): signalled its group, ended its worker, asked it to stop. An
   * attempt that ended before it ended as it would have.
   */
  killedAt?: number;
  /** Killed with no grace (a second Ctrl-C): SIGKILL, and a worker ended rather than asked. */
  killNow?: boolean;
  /**
   * Withdrawn while sent ahead (halt, deadline, signals): its worker skips it unless it has begun it already; its
   * start is then known only from its worker (`spawned`, or its outcome), not from its turn coming here.
   */
  withdrawn?: boolean;
  /**
   * Asked back from the worker holding it ahead (dispatch.ts rebalance): until that worker says
   * `given` (it goes back to the queue) or `began`, its start is known only from its worker, as a withdrawn one's.
   */
  reclaiming?: boolean;
  /** Sent ahead alone (not in a chunk) to a busy worker: it may be taken back (reclaiming). */
  ahead?: boolean;
  timer?: NodeJS.Timeout;
  abortTimer?: NodeJS.Timeout;
  start?: StartInfo;
  /** Streamed output bytes printed and not yet acknowledged to the worker. */
  taken?: number;
}

/** A worker and what it holds. */
export interface Slot {
  id: number;
  handle: WorkerHandle;
  state: 'starting' | 'idle' | 'busy' | 'closing';
  /** Every job sent to this worker and not yet reported, in the order it runs them; the first runs now. */
  jobs: Deque<Tracked>;
  everReady: boolean;
  /** Moving average of how long this worker's jobs take (ms, as the worker measured them); unset until one ends. */
  avgMs?: number;
}
