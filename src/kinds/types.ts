/** What each job kind carries, after parsing (paths absolute): each kind's spec.ts. */
import type { RunAction } from './run/spec.js';
import type { CopyAction } from './copy/spec.js';
import type { DownloadAction } from './download/spec.js';
import type { CallAction } from './call/spec.js';

export type { CopySpec } from './copy/spec.js';
export type { DownloadSpec } from './download/spec.js';
export type { CallSpec } from './call/spec.js';

/** The type half of the registry of job kinds (kinds/index.ts holds the other): one line per kind. */
export type JobAction = RunAction | CopyAction | DownloadAction | CallAction;

export type JobKind = JobAction['kind'];

export interface JobCommon {
  /** Unique in a run; defaults to the 1-based position. */
  id: string;
  /** 0-based position in the input: the order results are printed in. */
  index: number;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /**
   * `"timeout": null` in the job or the file's defaults: no limit, whatever `--timeout` says. Read (and removed)
   * where the CLI fills in its options (cli/run.ts applyCliDefaults); a job without timeoutMs has no limit anyway.
   */
  noTimeout?: true;
  retries?: number;
  /** Wait before the first retry (doubling after); set by a queue producer for its workers, not by job files. */
  retryDelayMs?: number;
  /** Ids of the jobs this one starts after, once each has succeeded (src/sched/). */
  after?: string[];
  /**
   * What `--dry-run`, the joblog's Command and `--resume`'s hash take the job to be, where that is not its action:
   * a `--pipe` job's command, without the redirect that feeds it its block from a temp file.
   */
  shown?: string;
}

export type Job = JobCommon & JobAction;

export type JobStatus = 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  /** The error's own plain properties (an errno, a path…), as thrown; the library's RemoteError has them. */
  props?: Record<string, string | number | boolean | null>;
  /** The thrown error's `cause`, as its own error (Python's `__cause__`): at most MAX_CAUSES deep. */
  cause?: SerializedError;
}

/** What a job's process tree cost, from wait4's rusage (proc/spawn.ts); maxRssKiB null when not known. */
export type { Usage } from '../proc/spawn-types.js';
import type { Usage } from '../proc/spawn-types.js';

/** One finished job, as in the `--json` document (contract §5). */
export interface JobResult {
  id: string;
  index: number;
  kind: JobKind;
  status: JobStatus;
  exitCode: number | null;
  signal: string | null;
  attempts: number;
  /** Worker slot, 1..n; null when the job never started. */
  worker: number | null;
  /** OS process id of the worker (the poolrun process itself in thread mode). */
  pid: number | null;
  /** worker_threads id of the worker in thread mode; 0 in process mode. */
  threadId: number | null;
  /** Host name of the machine that ran the job (queue mode only; null when it ran nowhere). */
  host?: string | null;
  startedAt: string | null;
  durationMs: number | null;
  /** CPU time and peak memory of a shell job on the native spawn path; null elsewhere (README: what each job cost). */
  usage?: Usage | null;
  stdout: string;
  stderr: string;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  /** Bytes moved by copy and download jobs. */
  bytes?: number;
  /** A call job's return value. */
  value: unknown;
  error: SerializedError | null;
}
