/**
 * Every shape of a job's result, built in one place: from a pool attempt, cancelled, failed without an attempt,
 * and the value or error its future settles with. The executor and the queue producer both build them here.
 */
import type { Job, JobResult, SerializedError } from '../kinds/types.js';
import type { AttemptResult } from '../pool/pool.js';
import type { Future } from './future.js';
import type { JobOutput } from './types.js';
import { rmSync } from 'node:fs';
import {
  BrokenWorkerError,
  CancelledError,
  NOT_SENDABLE,
  RemoteError,
  TimeoutError,
  UsageError,
} from '../errors.js';

export function settleJob(future: Future<unknown>, result: JobResult): void {
  if (settledElsewhere(future, result)) return;
  future.setResult(result);
}

/**
 * A task's future carries the function's value, or the error it raised (as Python's does). `returned`: what the function returned, as the worker sent it. The JobResult's `value` is null for `undefined`
 * (results are JSON), but a task that returns nothing resolves to `undefined`, as Python's gives `None`.
 */
export function settleTask(future: Future<unknown>, r: JobResult, returned?: { value: unknown }): void {
  if (settledElsewhere(future, r)) return;
  if (r.status === 'succeeded') future.setResult(returned ? returned.value : r.value);
  else if (r.status === 'cancelled' && !r.error) {
    // A running future is never marked cancelled (cancel() of a running one is false, as in Python).
    if (!future.forceCancel()) future.setException(new CancelledError('cancelled after it started'));
  } else future.setException(toError(r));
}

/**
 * What a task (`submit(task, …)`, `map()`) prints reaches the program's own stdout or stderr as it comes, as
 * Python's print in a pool's worker does; a job's output stays in its JobResult.
 */
export function echo(stream: 'stdout' | 'stderr', data: Buffer): Promise<void> | undefined {
  const out = stream === 'stdout' ? process.stdout : process.stderr;
  if (out.destroyed) return undefined;
  // A reader gone (`node app.mjs | head`) is no crash, as console.log's own writes are not: the error a failed
  // write emits next is taken when nobody else listens.
  const written = out.write(data, (err) => {
    if (err && out.listenerCount('error') === 0) out.once('error', () => {});
  });
  if (written) return undefined;
  // A full pipe holds the task back (its worker waits for the output to be taken), as a full pipe holds a print.
  // One wait per stream, however many chunks are on their way.
  let wait = drained.get(out);
  if (!wait) {
    wait = new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        out.off('error', done);
        drained.delete(out);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
      out.on('error', done);
    });
    drained.set(out, wait);
  }
  return wait;
}

const drained = new Map<NodeJS.WriteStream, Promise<void>>();

/**
 * A future finished by someone other than its executor (setResult()/setException() are not public, yet callable
 * from JavaScript): its outcome stays what they set, and the executor's own result is dropped with a warning
 * instead of an InvalidStateError thrown where nobody can catch it (the pool's message handler).
 */
function settledElsewhere(future: Future<unknown>, r: JobResult): boolean {
  if (!future.done()) return false;
  // Cancelled by the executor itself (the future marks itself): nothing to tell.
  if (future.cancelled()) return true;
  process.emitWarning(
    `job ${r.id} ${r.status}, but its future was already finished by other code ` +
      '(setResult/setException called from outside the executor): that outcome stands, this one is dropped',
    { type: 'PoolrunWarning' },
  );
  return true;
}

/** An attempt's output as an event gives it: the bytes kept, and the files spilled past the capture limit. */
export function outputOf(r: AttemptResult): JobOutput {
  const output: JobOutput = { stdout: toBuffer(r.stdout), stderr: toBuffer(r.stderr) };
  if (r.stdoutFile) output.stdoutFile = r.stdoutFile;
  if (r.stderrFile) output.stderrFile = r.stderrFile;
  return output;
}

/** Removes the files an attempt spilled its output to (an attempt that is not the job's last). */
export function removeSpills(r: AttemptResult): void {
  for (const f of [r.stdoutFile, r.stderrFile]) if (f) rmSync(f, { force: true });
}

export function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export function toResult(job: Job, r: AttemptResult, attempts: number): JobResult {
  const result: JobResult = {
    id: job.id,
    index: job.index,
    kind: job.kind,
    status: r.status,
    exitCode: r.exitCode,
    signal: r.signal,
    attempts,
    worker: r.worker,
    pid: r.pid,
    threadId: r.threadId,
    startedAt: new Date(r.startedAt).toISOString(),
    durationMs: r.durationMs,
    usage: r.usage ?? null,
    stdout: r.stdout.byteLength ? toBuffer(r.stdout).toString('utf8') : '',
    stderr: r.stderr.byteLength ? toBuffer(r.stderr).toString('utf8') : '',
    value: r.value === undefined ? null : r.value,
    error: r.error ?? null,
  };
  if (r.stdoutTruncated) result.stdoutTruncated = true;
  if (r.stderrTruncated) result.stderrTruncated = true;
  if (r.bytes !== undefined) result.bytes = r.bytes;
  if (r.status === 'timed-out' && !result.error) {
    result.error = { name: 'TimeoutError', message: `timed out after ${job.timeoutMs}ms` };
  }
  return result;
}

/**
 * A cancelled job's result. `failed`: the attempt that failed last while the job waited for its retry, whose
 * facts (worker, start, duration, exit status, usage, output) it keeps; without it the job never ran. Its error
 * is not kept: a cancelled task's future fails with CancelledError, as in Python.
 */
export function cancelledResult(job: Job, attempts: number, failed?: JobResult): JobResult {
  if (failed) return { ...failed, status: 'cancelled', attempts, error: null };
  return {
    id: job.id,
    index: job.index,
    kind: job.kind,
    status: 'cancelled',
    exitCode: null,
    signal: null,
    attempts,
    worker: null,
    pid: null,
    threadId: null,
    startedAt: null,
    durationMs: null,
    usage: null,
    stdout: '',
    stderr: '',
    value: null,
    error: null,
  };
}

export function toError(r: JobResult): Error {
  const e = r.error;
  if (!e) return new Error(`job ${r.status}`);
  if (e.name === 'BrokenWorkerError') {
    // The pool puts the dead worker's exit code and signal in the result's.
    const err = new BrokenWorkerError(e.message, {
      exitCode: r.exitCode,
      signal: r.signal,
      worker: r.worker,
    });
    if (e.stack) err.stack = e.stack;
    return err;
  }
  if (e.code === NOT_SENDABLE) return new UsageError(e.message);
  if (e.name === 'TimeoutError') return new TimeoutError(e.message);
  if (e.name === 'CancelledError') return new CancelledError(e.message);
  return remoteError(e);
}

/** A worker's error as the caller's, its causes rebuilt too (Python's `__cause__`). */
function remoteError(e: SerializedError): RemoteError {
  return new RemoteError(e.name, e.message, e.stack, {
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(e.props ? { props: e.props } : {}),
    ...(e.cause ? { cause: remoteError(e.cause) } : {}),
  });
}

/** A job that failed with no attempt result to show (the queue lost it, say): a cancelled result, failed. */
export function failedResult(job: Job, attempts: number, error: SerializedError): JobResult {
  const r = cancelledResult(job, attempts);
  r.status = 'failed';
  r.error = error;
  return r;
}
