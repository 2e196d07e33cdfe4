/**
 * What producers and workers agree on through Redis: the queue and key names, a job's data, the progress
 * messages a worker sends while it runs a job, and the result it stores. Plain data and pure functions only:
 * this file must not load bullmq or ioredis.
 */
import type { Job, JobResult } from '../kinds/types.js';
import { charBoundary } from '../util/utf8.js';

/** The BullMQ queue every poolrun producer and worker of one Redis database uses. */
export const QUEUE_NAME = 'poolrun';
/** BullMQ's default key prefix; our own keys sit beside its keys. */
export const PREFIX = 'bull';
/** Pub/sub channel on which producers tell workers to kill a run's running jobs. */
export const CONTROL_CHANNEL = `${PREFIX}:${QUEUE_NAME}:poolrun-control`;
/** Bumped when the shape of WireJob, Progress or WireResult changes incompatibly. */
export const WIRE_VERSION = 1;

/** A run's state key: `run` while its producer lives (it refreshes the key), then `cancel` or `kill`. */
export function runKey(runId: string): string {
  return `${PREFIX}:${QUEUE_NAME}:poolrun-run:${runId}`;
}
export type RunState = 'run' | 'cancel' | 'kill';

/** Lives until a run's --deadline (by the Redis server's clock): once it is gone, no job of the run starts. */
export function deadlineKey(runId: string): string {
  return `${PREFIX}:${QUEUE_NAME}:poolrun-deadline:${runId}`;
}

/** BullMQ job id: run id + job id, so adding the same job twice in a run stores it once. */
export function bullJobId(runId: string, jobId: string): string {
  // BullMQ refuses ':' in custom ids; '%' is escaped first so that the mapping stays one-to-one.
  return `${runId}.${jobId.replace(/%/g, '%25').replace(/:/g, '%3A')}`;
}

export interface CaptureRequest {
  /** Bytes of each stream kept in the stored result (the producer's --capture-limit). */
  limit: number;
  /** Store the output in the result at all (false with --output none and no --json/--junit). */
  keep: boolean;
  /** Send output while the job runs (--output stream). */
  stream: boolean;
}

/** A BullMQ job's data. */
export interface WireJob {
  v: number;
  runId: string;
  job: Job;
  capture: CaptureRequest;
  /** How long a stored result lives (the producer's --queue-ttl). */
  ttlMs: number;
  /**
   * The run's --halt (absent: never). The worker that ran a job which failed or timed out stops the run itself
   * before it takes another job: it knows before the producer does.
   */
  halt?: 'soon' | 'now';
  /** The run has a --deadline: its deadlineKey() tells whether it has passed. */
  deadline?: true;
}

/**
 * A worker's progress message (BullMQ job progress: stored on the job and published as an event). Every one
 * carries the running totals, so a worker that takes over a job after another died knows how many attempts
 * were made and how many of them failed.
 */
export type Progress = {
  attempts: number;
  failures: number;
} & (
  | {
      t: 'started';
      attempt: number;
      worker: number;
      pid: number;
      threadId: number;
      host: string;
      time: number;
    }
  | { t: 'retry'; attempt: number; result: JobResult; delayMs: number; time: number }
  | { t: 'output'; attempt: number; stream: 'stdout' | 'stderr'; data: string; time: number }
);

/**
 * What a worker returns to BullMQ for a job: its JobResult (with the worker's host, output cut to the producer's
 * limit), or, when that is large, only `stored`: the result is then under resultKey(), once. BullMQ copies a
 * return value into its event stream too, which holds thousands of events: big results must not go there.
 */
export type WireResult = { v: number; result: JobResult } | { v: number; stored: true };

/** Results larger than this (bytes of JSON) are stored under their own key instead of in the return value. */
export const INLINE_RESULT_LIMIT = 16 * 1024;

export function resultKey(bullJobId: string): string {
  return `${PREFIX}:${QUEUE_NAME}:poolrun-result:${bullJobId}`;
}

/** Keeps the first `limit` bytes of a string (whole UTF-8 characters), and says whether anything was cut. */
function cutUtf8(s: string, limit: number): { text: string; cut: boolean } {
  if (s.length <= limit / 4 || Buffer.byteLength(s) <= limit) return { text: s, cut: false };
  const buf = Buffer.from(s, 'utf8');
  return { text: buf.subarray(0, charBoundary(buf, limit)).toString('utf8'), cut: true };
}

/** Bounds a result before it is stored in Redis: output cut to the producer's limit, a value that JSON can carry. */
export function boundResult(result: JobResult, capture: CaptureRequest): JobResult {
  const r: JobResult = { ...result };
  for (const stream of ['stdout', 'stderr'] as const) {
    const flag = stream === 'stdout' ? 'stdoutTruncated' : 'stderrTruncated';
    if (!capture.keep) {
      r[stream] = '';
      continue;
    }
    const { text, cut } = cutUtf8(r[stream], capture.limit);
    r[stream] = text;
    if (cut) r[flag] = true;
  }
  try {
    JSON.stringify(r.value);
  } catch (e) {
    r.value = null;
    if (r.status === 'succeeded') r.status = 'failed';
    r.error = {
      name: 'TypeError',
      message: `the return value cannot be sent through the queue as JSON: ${(e as Error).message}`,
    };
  }
  return r;
}
