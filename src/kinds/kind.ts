/**
 * What a job kind is, in one place: the main-thread half (how a job as written becomes a Job, how it is shown,
 * hashed, stopped, judged) and, loaded on first use inside a worker, the half that runs it. The pool, the worker
 * loop, normalize, describe and the joblog ask the kind (kinds/index.ts); none of them branches on `job.kind`.
 */
import type { JobContext } from './context.js';
import type { Outcome } from './outcome.js';
import type { Job, JobAction, JobKind } from './types.js';

export type JobOf<K extends JobKind> = Extract<Job, { kind: K }>;
export type ActionOf<K extends JobKind> = Extract<JobAction, { kind: K }>;

/** A problem the schema cannot express, at a JSON path below the job. */
export interface KindIssue {
  at: (string | number)[];
  message: string;
}

/**
 * How the pool stops a running job of this kind (timeout, halt, deadline, signals):
 * - `group`: its process group is sent SIGTERM, then SIGKILL after the grace (the worker reports `spawned`);
 * - `worker`: its worker is ended (and replaced): code that cannot be interrupted from outside;
 * - `abort`: its worker is told `abort` (the job's AbortSignal), and ended if the job is still running after the
 *   grace; with no grace (a second Ctrl-C) the worker is ended at once.
 */
export type StopHow = 'group' | 'worker' | 'abort';

/** The half of a kind that runs inside a worker. */
export interface WorkerHalf<K extends JobKind = JobKind> {
  execute(job: JobOf<K>, ctx: JobContext): Promise<Outcome>;
  /** Runs in the worker after each job of this kind, whatever its outcome. */
  after?(): void;
}

export interface Kind<K extends JobKind = JobKind> {
  readonly name: K;
  /**
   * The job's action from its value as written (`job[name]`, already checked by the schema and by `issues`);
   * relative paths go through `resolve` (against the job file's folder).
   */
  normalize(value: unknown, resolve: (path: string) => string): ActionOf<K>;
  /** Checks of the value as written that the schema cannot express; `at` is the value's path. */
  issues?(value: unknown, at: (string | number)[]): KindIssue[];
  /** One line that says what the job does (`--dry-run`, the joblog's Command): redacted by the caller. */
  describe(job: JobOf<K>): string;
  /** What the joblog hashes of this job's action (with kind, cwd and env) to match it on `--resume`. */
  hashed(job: JobOf<K>): unknown;
  readonly stop: StopHow;
  /**
   * May be sent ahead to a busy worker (as Python's process pool queues calls). A kind that is not waits for a
   * free worker, so `--halt` never finds one already handed over.
   */
  readonly sendAhead: boolean;
  /** The file or folder the job writes, absolute, if it writes one of its own (two jobs must not share one). */
  destination?(job: JobOf<K>): string | undefined;
  /** The action's paths that normalize resolved, with their place in the value: a queue worker checks them. */
  paths?(job: JobOf<K>): Array<[(string | number)[], string]>;
  /** Its result's `exitCode` is a process's exit status, which says why it failed better than its error does. */
  readonly exitStatus?: boolean;
  /** Its result carries a JS value (printed after its output) and an error whose stack is the job's own code's. */
  readonly returnsValue?: boolean;
  /** Whether an outcome with no error, not skipped and not aborted is a success (a shell job: exit 0). */
  succeeded(outcome: Outcome): boolean;
  /** A finishing step in the main thread, before the status is judged; `killed`: the pool stopped it. */
  finish?(outcome: Outcome, killed: boolean): void;
  /**
   * What a `cwd` of the job's own would be ignored for (its paths resolve against the job file's folder): such a
   * job is refused, with this said. `defaults.cwd` is for the kinds that use one.
   */
  readonly noCwd?: string;
  /** Its worker half is loaded before a worker says it is ready (kinds most runs use), not on first use. */
  readonly preload?: boolean;
  /** Loads the worker half (inside a worker). */
  worker(): Promise<WorkerHalf<K>>;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
