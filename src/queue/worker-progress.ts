/**
 * What a queue worker tells the producer about a job it runs: the local Executor's events (started, retry,
 * output, finished) become BullMQ progress messages, sent in order, with streamed output gathered into pieces;
 * and the attempts made before this worker took the job (queue/worker.ts takes jobs and stops).
 */
import type { Job as BullJob } from 'bullmq';
import type { ExecutorEvent, JobOutput } from '../executor/executor.js';
import type { Future } from '../executor/future.js';
import type { JobResult } from '../kinds/types.js';
import { describeEnd } from '../results/describe.js';
import { redactError } from '../results/redacted.js';
import { clock, printable } from '../util/text.js';
import { redactId } from '../util/redact.js';
import type { CaptureRequest, Progress } from './protocol.js';

/** Streamed output is sent in pieces of at most this size, at most this often. */
const OUTPUT_CHUNK = 16 * 1024;
const OUTPUT_EVERY_MS = 50;

/** A job this worker runs. */
export interface Tracked {
  bullJob: BullJob;
  runId: string;
  capture: CaptureRequest;
  /** Attempts made, and failed, before this worker took the job (by workers that died or gave it back). */
  prior: { attempts: number; failures: number };
  failures: number;
  future?: Future<JobResult>;
  result?: JobResult;
  /** The bytes of the result's output, as the local Executor kept them. */
  output?: JobOutput;
  /** Progress messages, sent in order; the result waits for them. */
  chain: Promise<void>;
  /** Killed to be handed back to the queue (second signal), not cancelled. */
  returning: boolean;
  out: { stdout: Buffer[]; stderr: Buffer[]; size: number; attempt: number; timer?: NodeJS.Timeout };
}

/** Where the worker runs, and how it logs (a line to stderr, unless quiet). */
export interface Reporter {
  host: string;
  quiet: boolean;
  log(line: string): void;
}

/** Reports one event of the local Executor about the job `t`. */
export function reportEvent(t: Tracked, e: ExecutorEvent, r: Reporter): void {
  const totals = () => ({ attempts: t.prior.attempts + t.out.attempt, failures: t.failures });
  switch (e.event) {
    case 'started':
      flushOutput(t);
      t.out.attempt = e.attempt;
      sendProgress(t, {
        t: 'started',
        attempt: t.prior.attempts + e.attempt,
        worker: e.worker,
        pid: e.pid,
        threadId: e.threadId,
        host: r.host,
        time: e.time,
        ...totals(),
      });
      if (!r.quiet)
        r.log(
          `${clock(e.time)} started ${t.runId}/${printable(redactId(e.job.id))} (worker ${e.worker}` +
            `${t.prior.attempts + e.attempt > 1 ? `, attempt ${t.prior.attempts + e.attempt}` : ''})`,
        );
      return;
    case 'retry': {
      flushOutput(t);
      t.failures++;
      const attempt = t.prior.attempts + e.attempt;
      // Only the final attempt's output is printed: a failed attempt's result goes without it.
      const result: JobResult = {
        ...e.result,
        attempts: attempt,
        host: r.host,
        stdout: '',
        stderr: '',
      };
      // Stored by BullMQ (the job's progress, its event stream) as a results file holds it: an error masked.
      if (result.error) result.error = redactError(result.error);
      sendProgress(t, { t: 'retry', attempt, result, delayMs: e.delayMs, time: e.time, ...totals() });
      r.log(
        `${clock(e.time)} ${e.result.status} ${t.runId}/${printable(redactId(e.job.id))}${describeEnd(result)}; retrying`,
      );
      return;
    }
    case 'output':
      if (!t.capture.stream) return;
      t.out[e.stream].push(e.data);
      t.out.size += e.data.length;
      if (t.out.size >= OUTPUT_CHUNK) flushOutput(t);
      else t.out.timer ??= setTimeout(() => flushOutput(t), OUTPUT_EVERY_MS);
      return;
    case 'finished': {
      t.result = e.result;
      t.output = e.output;
      if (!r.quiet) {
        const done = { ...e.result, attempts: t.prior.attempts + e.result.attempts };
        r.log(
          `${clock(e.time)} ${done.status} ${t.runId}/${printable(redactId(e.job.id))}${describeEnd(done)}`,
        );
      }
      return;
    }
    default:
      return;
  }
}

/** Sends the output held for the job, in pieces of at most OUTPUT_CHUNK. */
export function flushOutput(t: Tracked): void {
  clearTimeout(t.out.timer);
  delete t.out.timer;
  if (t.out.size === 0) return; // started, retried or finished with nothing held
  for (const stream of ['stdout', 'stderr'] as const) {
    const all = Buffer.concat(t.out[stream]);
    t.out[stream] = [];
    for (let at = 0; at < all.length; at += OUTPUT_CHUNK) {
      sendProgress(t, {
        t: 'output',
        attempt: t.prior.attempts + t.out.attempt,
        stream,
        data: all.subarray(at, at + OUTPUT_CHUNK).toString('base64'),
        time: Date.now(),
        attempts: t.prior.attempts + t.out.attempt,
        failures: t.failures,
      });
    }
  }
  t.out.size = 0;
}

function sendProgress(t: Tracked, p: Progress): void {
  t.chain = t.chain.then(() => t.bullJob.updateProgress(p)).catch(() => {});
}

/** Attempts made before this delivery: from the totals the last worker reported, or BullMQ's own count. */
export function priorAttempts(job: BullJob): { attempts: number; failures: number } {
  // The progress is in Redis, written by whoever could write there: only counts are taken from it.
  const p = job.progress as Partial<Progress> | number | undefined;
  const reported = typeof p === 'object' && p !== null ? p : {};
  const count = (n: unknown) => (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < 1e6 ? n : 0);
  return {
    attempts: Math.max(count(reported.attempts), count((job.attemptsStarted ?? 1) - 1)),
    failures: count(reported.failures),
  };
}
