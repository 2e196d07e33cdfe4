/** What the queue producer makes of what workers send: ExecutorEvents, and results for jobs the queue failed. */
import type { Job, JobResult } from '../kinds/types.js';
import type { ExecutorEvent, JobOutput } from '../executor/executor.js';
import { failedResult as failedOf } from '../executor/results.js';
import {
  WIRE_VERSION,
  unwireResult,
  type CaptureRequest,
  type Progress,
  type WireJob,
  type WireResult,
} from './protocol.js';
import { checkResult } from './validate.js';
import type { QueueRunnerOptions } from './settings.js';

/** A worker's progress message (checked) as the event a local Executor would have emitted. */
export function progressEvent(job: Job, p: Progress): ExecutorEvent {
  switch (p.t) {
    case 'started':
      return {
        event: 'started',
        job,
        attempt: p.attempt,
        worker: p.worker,
        pid: p.pid,
        threadId: p.threadId,
        host: p.host,
        time: p.time,
      };
    case 'retry':
      return { event: 'retry', job, attempt: p.attempt, result: p.result, delayMs: p.delayMs, time: p.time };
    case 'output':
      return {
        event: 'output',
        job,
        attempt: p.attempt,
        stream: p.stream,
        data: Buffer.from(p.data, 'base64'),
        time: p.time,
      };
  }
}

/** A job the queue failed (Redis lost, an entry it could not add or read back): no worker result to show. */
export function failedResult(e: { job: Job; attempts: number }, message: string): JobResult {
  return failedOf(e.job, e.attempts, { name: 'QueueError', message });
}

export function parseJson<T>(value: unknown): T | undefined {
  if (typeof value !== 'string')
    return typeof value === 'object' && value !== null ? (value as T) : undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}

/** The addBulk entries of a batch of jobs: each as a worker reads it, with the producer's defaults filled in. */
export function bulkJobs(
  batch: { job: Job; id: string }[],
  runId: string,
  capture: CaptureRequest,
  ttlMs: number,
  opts: Pick<QueueRunnerOptions, 'retries' | 'retryDelay' | 'halt' | 'deadlineMs'>,
) {
  const ttlSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return batch.map((e) => {
    const job: Job = { ...e.job, retries: e.job.retries ?? opts.retries ?? 0 };
    if (opts.retryDelay) job.retryDelayMs = opts.retryDelay;
    const data: WireJob = { v: WIRE_VERSION, runId, job, capture, ttlMs };
    if (opts.halt === 'soon' || opts.halt === 'now') data.halt = opts.halt;
    if (opts.deadlineMs !== undefined) data.deadline = true;
    return {
      name: e.job.kind,
      data,
      opts: {
        jobId: e.id,
        attempts: 1, // a failed job is retried by poolrun on the worker, which counts attempts exactly
        removeOnComplete: { age: ttlSeconds },
        removeOnFail: { age: ttlSeconds },
      },
    };
  });
}

type Read = { job: Job; attempts: number };
/** A worker's result as the producer reports it: the result, and the exact bytes of its output. */
export type Received = { result: JobResult; output?: JobOutput };

/** A worker's return value: the job's result, `stored` (read it from its own key), or failed as unreadable. */
export function readWire(e: Read, value: unknown, capture: CaptureRequest): Received | 'stored' {
  const wire = parseJson<WireResult>(value);
  if (wire && typeof wire === 'object' && wire.v === WIRE_VERSION) {
    if ('result' in wire) {
      const got = received(e, wire.result, capture);
      if (got) return got;
    } else if ('stored' in wire) return 'stored';
  }
  return { result: failedResult(e, 'the worker sent a result this poolrun cannot read (another version?)') };
}

/** A large result as read from its own key (null: not there). */
export function readStored(e: Read, json: string | null, capture: CaptureRequest): Received {
  if (json === null) return { result: failedResult(e, 'the result of the job was not found in Redis') };
  const got = received(e, parseJson<unknown>(json), capture);
  return got ?? { result: failedResult(e, 'the worker stored a result this poolrun cannot read') };
}

/** A result a worker sent, checked, its output bytes rebuilt and cut to the producer's limit. */
function received(e: Read, value: unknown, capture: CaptureRequest): Received | undefined {
  const checked = checkResult(value);
  let got: ReturnType<typeof unwireResult>;
  try {
    got = checked && unwireResult(checked, capture);
  } catch {
    return undefined; // a result no check foresaw: unreadable, as any other
  }
  if (!got) return undefined;
  return { result: { ...got.result, id: e.job.id, index: e.job.index }, output: got.output };
}
