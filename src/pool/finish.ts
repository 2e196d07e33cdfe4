/**
 * Ending an attempt: its timeout, how a running one is stopped (the way its kind is: kinds/kind.ts StopHow), the
 * status it ends with, and the errors of attempts whose worker died under them.
 */
import type { JobStatus, SerializedError } from '../kinds/types.js';
import type { Outcome } from './protocol.js';
import type { WorkerExit } from './handle.js';
import type { AttemptResult, Slot, Tracked } from './types.js';
import type { ProcessGroups } from '../proc/groups.js';
import { kindOf } from '../kinds/index.js';
import { emptyOutcome } from '../kinds/outcome.js';

/** Starts (or starts again) the attempt's timeout, if its job has one: `fire` is called when it runs out. */
export function armTimeout(t: Tracked, fire: (t: Tracked) => void): void {
  const ms = t.attempt.job.timeoutMs;
  if (ms === undefined) return;
  clearTimeout(t.timer);
  t.timer = setTimeout(() => fire(t), ms);
}

/** Stops a running attempt the way its kind is stopped (kinds/kind.ts StopHow). */
export function stopRunning(t: Tracked, groups: ProcessGroups, killAfterMs: number): void {
  const slot = t.slot;
  if (!slot) return;
  switch (kindOf(t.attempt.job).stop) {
    case 'group':
      // The worker is told too: the job is over once its group is, not when a process that left the group
      // (setsid) closes the job's pipes (kinds/run/run.ts).
      slot.handle.send({ type: 'abort', key: t.key });
      // The pid may still be on its way from the worker: 'spawned' kills it on arrival (killReason is set). A
      // job that ends before then was never touched: it ends as it would have (settle).
      if (t.pgid === undefined) return;
      // A group whose processes have all exited (its end not yet heard) is not reached by the signal: the job
      // ended by itself (`echo a` done as the --halt came; it is then printed, as GNU parallel prints it).
      if (groups.alive(t.pgid)) t.killedAt ??= Date.now();
      if (t.killNow) groups.kill(t.pgid);
      else groups.terminate(t.pgid, killAfterMs);
      return;
    case 'worker':
      t.killedAt ??= Date.now();
      endWorker(slot);
      // What the job started (a call's child processes) is in no group: found by its worker's tag.
      groups.endWorkerChildren(slot.handle.pid, slot.handle.threadId, killAfterMs, t.killNow);
      return;
    case 'abort':
      t.killedAt ??= Date.now();
      if (t.killNow) {
        endWorker(slot);
        return;
      }
      slot.handle.send({ type: 'abort', key: t.key });
      t.abortTimer ??= setTimeout(() => endWorker(slot), killAfterMs);
      return;
  }
}

/** Ends a worker to stop its job: it is given nothing more (what it held and had not begun goes back to the queue). */
function endWorker(slot: Slot): void {
  slot.state = 'closing';
  slot.handle.kill();
}

/**
 * Marks the attempt done and reports it (onDone) with its status: its timers are stopped and its process group
 * let go, its kind's finishing step runs first. The caller forgets it first (pool.ts finish).
 */
export function settle(
  t: Tracked,
  outcome: Outcome,
  slot: Slot | undefined,
  groups: ProcessGroups,
  killAfterMs: number,
): void {
  t.state = 'done';
  clearTimeout(t.timer);
  clearTimeout(t.abortTimer);
  if (t.pgid !== undefined) groups.release(t.pgid, killAfterMs, outcome.groupGone === true);
  const kind = kindOf(t.attempt.job);
  // Killed: it ended after poolrun acted to stop it — signalled its group, ended its worker, asked it to stop — (a
  // job that exits 0 on SIGTERM, or whose process had exited while a child it left held its output, is not done
  // by itself). One that ended first, or before poolrun could reach it (its group not known yet: a job of a chunk
  // its worker began before the word to skip it came), ends as it would have.
  // A job whose group had emptied but whose output a process that left the group (setsid) still held is ended by
  // the abort (outcome.aborted): it was not done either.
  const killed =
    t.killReason !== undefined &&
    ((t.killedAt !== undefined && !(outcome.startedAt + outcome.durationMs < t.killedAt)) ||
      outcome.aborted === true);
  kind.finish?.(outcome, killed);
  const naturalSuccess =
    !killed && !outcome.skipped && !outcome.error && !outcome.aborted && kind.succeeded(outcome);
  let status: JobStatus;
  if (outcome.skipped) status = 'cancelled';
  else if (naturalSuccess) status = 'succeeded';
  else if (killed && t.killReason === 'timeout') status = 'timed-out';
  else if (killed && t.killReason === 'cancel') status = 'cancelled';
  else status = 'failed';
  // Every outcome reaching here is a fresh object (deserialized, or made by the pool): completed in place.
  const result = Object.assign(outcome, {
    status,
    worker: outcome.skipped ? null : (slot?.id ?? null),
    pid: outcome.skipped ? null : (t.start?.pid ?? slot?.handle.pid ?? null),
    // Where it started (a slot's first jobs may run from the main thread while its thread starts: hybrid.ts).
    threadId: outcome.skipped ? null : (t.start?.threadId ?? slot?.handle.threadId ?? null),
  }) as AttemptResult;
  if (killed) result.killedFor = t.killReason;
  t.attempt.onDone(result);
}

/**
 * The outcome of the attempt a worker was running when it exited: killed by the pool (timeout, cancel), or a
 * BrokenWorkerError that says how the worker ended; with its exit code and signal.
 */
export function diedOutcome(current: Tracked, slot: Slot, exit: WorkerExit): Outcome {
  const error: SerializedError = current.killReason
    ? killedError(current)
    : {
        name: 'BrokenWorkerError',
        message: `worker ${slot.id} (pid ${slot.handle.pid}) died while running this job: ${describeExit(exit)}`,
      };
  if (!current.killReason && exit.error?.stack) error.stack = exit.error.stack;
  const outcome = failedOutcome(error, current.start?.startedAt);
  // A worker poolrun ended (a call's timeout, a cancel) ends as the mode ends it — a thread with code 1, a process
  // by SIGKILL — which says nothing of the job: it has neither, in either mode. A worker that died by itself says
  // how it died.
  if (current.killReason) return outcome;
  outcome.exitCode = exit.code;
  outcome.signal = exit.signal;
  return outcome;
}

function killedError(t: Tracked): SerializedError {
  return t.killReason === 'timeout'
    ? { name: 'TimeoutError', message: `timed out after ${t.attempt.job.timeoutMs}ms; its worker was ended` }
    : { name: 'CancelledError', message: 'cancelled while running; its worker was ended' };
}

export function describeExit(exit: WorkerExit): string {
  if (exit.error) return `uncaught ${exit.error.name}: ${exit.error.message}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code}`;
}

/** The outcome of an attempt that fails because workers cannot start: with how the last of them ended. */
export function brokenOutcome(error: SerializedError, exit: WorkerExit | undefined): Outcome {
  const outcome = failedOutcome(error);
  if (exit) {
    outcome.exitCode = exit.code;
    outcome.signal = exit.signal;
  }
  return outcome;
}

export function failedOutcome(error: SerializedError | undefined, startedAt?: number): Outcome {
  const now = Date.now();
  return emptyOutcome(startedAt || now, error, now);
}
