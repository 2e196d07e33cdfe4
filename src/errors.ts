/** Base of every error poolrun throws on purpose; `exitCode` is what the CLI exits with. */
export class PoolrunError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line, or a bad option or argument given to the library: nothing ran. */
export class UsageError extends PoolrunError {
  override readonly exitCode = 2;
}

/**
 * The `code` of a job's error when the job could not be copied to a worker (a call's argument is a function, a
 * symbol, a WeakMap…): it never ran, is not retried, and its future rejects with a UsageError.
 */
export const NOT_SENDABLE = 'ERR_POOLRUN_NOT_SENDABLE';

export interface JobFileProblem {
  /** `file:line:col` when known, else the file name. */
  where: string;
  /** JSON path such as `jobs[3].download.url`, when known. */
  path?: string;
  message: string;
}

/** The job file (or a job given to the library) is invalid: nothing ran. */
export class JobFileError extends PoolrunError {
  override readonly exitCode = 2;
  readonly problems: JobFileProblem[];
  /** The message is safe to show as it is (jobs/issues.ts made each line so). */
  shownSafe = false;
  constructor(problems: JobFileProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

export function formatProblem(p: JobFileProblem): string {
  return `${p.where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** `Future.result({timeout})` or `map({timeout})` gave up waiting; the work itself goes on (as in Python). */
export class TimeoutError extends PoolrunError {}

/** The future was cancelled before it ran. */
export class CancelledError extends PoolrunError {}

/** A worker died (exit, signal, uncaught error) while it held this job, or the pool could not start workers. */
export class BrokenWorkerError extends PoolrunError {
  /** The dead worker's exit code, or null when a signal ended it. */
  readonly workerExitCode: number | null;
  readonly signal: string | null;
  /** The worker slot (1..n) that died. */
  readonly worker: number | null;
  constructor(
    message: string,
    info: { exitCode?: number | null; signal?: string | null; worker?: number | null },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.workerExitCode = info.exitCode ?? null;
    this.signal = info.signal ?? null;
    this.worker = info.worker ?? null;
  }
}

/** A Future asked for a transition it cannot make: a result for a finished one, running for a running one (Python's). */
export class InvalidStateError extends PoolrunError {}

/** Executor.submit after shutdown. */
export class ShutdownError extends PoolrunError {}

/** The error of a `call` job whose function threw, rebuilt in the main thread with the original name and stack. */
export class RemoteError extends PoolrunError {
  /** The thrown error's `code` (`ENOENT`, or a task's own): a string, or a plain number or boolean as it was. */
  declare readonly code?: string | number | boolean;

  constructor(
    name: string,
    message: string,
    stack?: string,
    extra: { code?: string; props?: Record<string, string | number | boolean | null>; cause?: Error } = {},
  ) {
    super(message, extra.cause ? { cause: extra.cause } : undefined);
    this.name = name;
    if (stack) this.stack = stack;
    // Only the thrown error's own properties are listed, as on the error itself.
    Object.defineProperty(this, 'exitCode', { enumerable: false });
    for (const [k, v] of Object.entries(extra.props ?? {}))
      if (!(k in this))
        Object.defineProperty(this, k, { value: v, enumerable: true, writable: true, configurable: true });
    if (extra.code !== undefined)
      Object.defineProperty(this, 'code', {
        value: extra.code,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
}
