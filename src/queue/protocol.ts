/**
 * What producers and workers agree on through Redis: the queue and key names, a job's data, the progress
 * messages a worker sends while it runs a job, and the result it stores. Plain data and pure functions only:
 * this file must not load bullmq or ioredis.
 */
import { isUtf8 } from 'node:buffer';
import type { Redis as RedisClient } from 'ioredis';
import type { JobOutput } from '../executor/types.js';
import type { Job, JobResult } from '../kinds/types.js';
import { stringify } from '../util/json.js';

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
 * A job's result as a worker sends it. A stream whose bytes are not UTF-8 travels as base64, marked
 * `stdoutEncoding`/`stderrEncoding: "base64"` (as in the --json document): the producer rebuilds the exact bytes,
 * so its printed output and its --json/NDJSON are those of a local run. A call's value is in the JSON form a local
 * run writes (a BigInt as a string, a value JSON cannot hold replaced by a description of why).
 */
export type WireJobResult = JobResult & { stdoutEncoding?: 'base64'; stderrEncoding?: 'base64' };

/**
 * What a worker returns to BullMQ for a job: its result (with the worker's host, output cut to the producer's
 * limit), or, when that is large, only `stored`: the result is then under resultKey(), once. BullMQ copies a
 * return value into its event stream too, which holds thousands of events: big results must not go there.
 */
export type WireResult = { v: number; result: WireJobResult } | { v: number; stored: true };

/** Results larger than this (bytes of JSON) are stored under their own key instead of in the return value. */
export const INLINE_RESULT_LIMIT = 16 * 1024;

export function resultKey(bullJobId: string): string {
  return `${PREFIX}:${QUEUE_NAME}:poolrun-result:${bullJobId}`;
}

const STREAMS = [
  ['stdout', 'stdoutTruncated', 'stdoutEncoding'],
  ['stderr', 'stderrTruncated', 'stderrEncoding'],
] as const;

/**
 * Bounds a result before it is sent: each stream's bytes (`output`, as the local Executor kept them; the result's
 * text when there are none) cut to the producer's limit exactly where a local run cuts them, carried as text when
 * they are UTF-8 and as base64 otherwise; the value in the JSON form a local run writes.
 */
export function boundResult(
  result: JobResult,
  output: JobOutput | undefined,
  capture: CaptureRequest,
): WireJobResult {
  const r: WireJobResult = { ...result };
  for (const [stream, flag, encoding] of STREAMS) {
    if (!capture.keep) {
      r[stream] = '';
      continue;
    }
    let bytes = output ? output[stream] : Buffer.from(r[stream], 'utf8');
    if (bytes.length > capture.limit) {
      bytes = bytes.subarray(0, capture.limit);
      r[flag] = true;
    }
    if (isUtf8(bytes)) r[stream] = bytes.toString('utf8');
    else {
      r[stream] = bytes.toString('base64');
      r[encoding] = 'base64';
    }
  }
  r.value = jsonForm(r.value);
  return r;
}

/** A value as the local run's --json holds it: itself when JSON can carry it, else what report/encode.ts writes. */
function jsonForm(value: unknown): unknown {
  try {
    JSON.stringify(value);
    return value;
  } catch {
    return (JSON.parse(stringify({ value })) as { value?: unknown }).value ?? null;
  }
}

/** Strict base64 (padded, no line breaks). A loop: a regex over megabytes overflows the stack. */
function isBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  for (let i = 0; i < s.length - pad; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return true;
}

/**
 * The producer's side of boundResult: a result a worker sent (already checked by validate.ts checkResult) as a
 * JobResult and the bytes of its output, cut to the producer's own limit whatever the worker sent (a worker is
 * another host: it may be buggy, old or hostile). undefined when an encoded stream is not base64.
 */
export function unwireResult(
  wire: WireJobResult,
  capture: CaptureRequest,
): { result: JobResult; output: JobOutput } | undefined {
  const { stdoutEncoding: _o, stderrEncoding: _e, ...result } = wire;
  const limit = capture.keep ? capture.limit : 0;
  const output: JobOutput = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  for (const [stream, flag, encoding] of STREAMS) {
    const text = wire[stream];
    const enc: unknown = wire[encoding];
    let bytes: Buffer;
    if (enc === 'base64') {
      if (!isBase64(text)) return undefined;
      // Only what is kept is decoded: base64 is 4 characters for 3 bytes.
      bytes = Buffer.from(text.slice(0, Math.ceil(limit / 3) * 4), 'base64');
    } else if (enc === undefined) {
      // Every UTF-16 unit is at least one byte: limit + 1 units hold more than is kept.
      bytes = Buffer.from(text.length > limit + 1 ? text.slice(0, limit + 1) : text, 'utf8');
    } else return undefined;
    const whole =
      enc === 'base64'
        ? (text.length / 4) * 3 - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0)
        : Buffer.byteLength(text);
    if (bytes.length > limit) bytes = bytes.subarray(0, limit);
    if (whole > limit && capture.keep) result[flag] = true;
    output[stream] = bytes;
    result[stream] = bytes.length ? bytes.toString('utf8') : '';
  }
  return { result, output };
}

/** A job's keys (its hash, its logs, its result) expire `ttlMs` from now: its result has been read. */
export function expireJobKeys(client: RedisClient, id: string, ttlMs: number): void {
  const key = `${PREFIX}:${QUEUE_NAME}:${id}`;
  client
    .multi()
    .pexpire(key, ttlMs)
    .pexpire(`${key}:logs`, ttlMs)
    .pexpire(resultKey(id), ttlMs)
    .exec()
    .catch(() => {});
}
