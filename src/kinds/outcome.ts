import { toSerialized } from './job-error.js';
import type { SerializedError, Usage } from './types.js';

/** How workers keep the output of the jobs they run: the pool's, the same for every job. */
export interface CaptureOptions {
  /** Send each chunk to the main thread as it arrives (`--output stream`). */
  stream: boolean;
  /** Send a call's chunks as they arrive even without `stream` (the library prints what a task prints). */
  streamCalls?: boolean;
  /** Keep the output for the result (`--output group`, `--json`, ...). */
  keep: boolean;
  /** Past `limit` bytes, write everything to a file in `spillDir` so grouped printing can show it all. */
  spill: boolean;
  limit: number;
  spillDir: string;
}

export interface Outcome {
  exitCode: number | null;
  signal: string | null;
  /** Epoch ms when the worker started the job. */
  startedAt: number;
  durationMs: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** Full output, when it outgrew the capture limit and spilled. */
  stdoutFile?: string;
  stderrFile?: string;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  value?: unknown;
  error?: SerializedError;
  bytes?: number;
  /** The job was skipped before it started (a `skip` message arrived in time). */
  skipped?: boolean;
  /** The job stopped because of an `abort` message. */
  aborted?: boolean;
  /** What the job's process tree cost (wait4's rusage): null where not measured (proc/spawn.ts). */
  usage?: Usage | null;
  /** A command string that ran without /bin/sh (see jobs/direct.ts): a signal death is reported as sh would. */
  direct?: boolean;
  /**
   * The job's process group was empty when its leader was reaped (native spawn path): the main thread has nothing
   * to signal when it lets the group go (proc/groups.ts release).
   */
  groupGone?: boolean;
}

const EMPTY = Buffer.alloc(0);

/** What a copy or download has moved so far: its outcome reports it, finished or not. */
export interface Moved {
  bytes: number;
}

/**
 * Runs a copy or a download: its outcome is the bytes moved, with the error when it failed. A job stopped by the
 * pool (timeout, halt) reports no error of its own: the pool names the status.
 */
export async function runMover(
  name: string,
  signal: AbortSignal,
  move: (moved: Moved) => Promise<void>,
): Promise<Outcome> {
  const startedAt = Date.now();
  const moved: Moved = { bytes: 0 };
  try {
    await move(moved);
    return bytesOutcome(startedAt, moved.bytes);
  } catch (e) {
    if (signal.aborted) return bytesOutcome(startedAt, moved.bytes);
    return bytesOutcome(startedAt, moved.bytes, toSerialized(name, e));
  }
}

/** An outcome with no process and no output (yet): a copy, a download, a call, a job that could not run. */
export function emptyOutcome(startedAt: number, error?: SerializedError, now = Date.now()): Outcome {
  const outcome: Outcome = {
    exitCode: null,
    signal: null,
    startedAt,
    durationMs: now - startedAt,
    stdout: EMPTY,
    stderr: EMPTY,
  };
  if (error) outcome.error = error;
  return outcome;
}

/** The outcome of a job that moves bytes (copy, download): no process, no output, the bytes it moved. */
export function bytesOutcome(startedAt: number, bytes: number, error?: SerializedError): Outcome {
  const outcome = emptyOutcome(startedAt, error);
  outcome.bytes = bytes;
  return outcome;
}

/** How many causes of a thrown error travel with it (`new Error(m, { cause })`, each one's own cause…). */
export const MAX_CAUSES = 8;

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name, message: err.message };
    if (err.stack) out.stack = err.stack;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    const props = ownProps(err);
    if (props) out.props = props;
    if (depth < MAX_CAUSES && Object.hasOwn(err, 'cause')) {
      let cause: unknown;
      try {
        cause = err.cause;
      } catch {
        cause = undefined; // a getter that throws: no cause to tell
      }
      if (cause !== undefined) out.cause = serializeError(cause, depth + 1);
    }
    return out;
  }
  const out: SerializedError = { name: 'Error', message: typeof err === 'string' ? err : safeString(err) };
  // A thrown object that is not an Error (`throw { code: 'E_X', status: 404 }`) carries its plain properties too.
  if (typeof err === 'object' && err !== null && !Array.isArray(err)) {
    try {
      const code = plainProp(err, 'code');
      if (typeof code === 'string') out.code = code;
      const props = ownProps(err);
      if (props) out.props = props;
    } catch {
      // A Proxy whose traps throw: its text is all it says.
    }
  }
  return out;
}

/** At most this many of an error's own properties travel with it, each a string cut to PROP_CHARS. */
const MAX_PROPS = 20;
const PROP_CHARS = 1000;

/**
 * An error's own enumerable properties besides name, message, stack and code whose values are plain (a string,
 * a finite number, a boolean, null): what Python's pickling of an exception would carry of its attributes (an
 * errno, a path, a status), so the caller's error has them too. Objects and functions stay behind.
 */
function ownProps(err: object): Record<string, string | number | boolean | null> | undefined {
  const out: Record<string, string | number | boolean | null> = {};
  let n = 0;
  // A string code travels as `code` (serializeError); any other plain one (an HTTP status, a number) here, first
  // and beyond the count, as the README lists it apart from the other properties.
  const keys = Object.keys(err);
  if (keys.includes('code')) {
    const code = plainProp(err, 'code');
    if (code !== undefined && typeof code !== 'string') out.code = code;
  }
  for (const k of keys) {
    if (k === 'name' || k === 'message' || k === 'stack' || k === 'code' || n >= MAX_PROPS) continue;
    const v = plainProp(err, k);
    if (v === undefined) continue;
    out[k] = v;
    n++;
  }
  return Object.keys(out).length ? out : undefined;
}

/** An own property's value when it is plain (a string cut to PROP_CHARS, a finite number, a boolean, null). */
function plainProp(err: object, k: string): string | number | boolean | null | undefined {
  let v: unknown;
  try {
    v = (err as Record<string, unknown>)[k];
  } catch {
    return undefined;
  }
  if (typeof v === 'string') return v.length > PROP_CHARS ? cutProp(v) : v;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || v === null) return v;
  return undefined;
}

/**
 * A long property cut to PROP_CHARS. A URL cut in two would no longer be seen whole by the redactor, and part of
 * its password would show: a word the cut splits that looks like one (`://`, `@`, `?`, `#`) is left out whole.
 */
function cutProp(v: string): string {
  const cut = v.slice(0, PROP_CHARS);
  if (/\s/.test(v[PROP_CHARS]!)) return cut;
  const last = /\S*$/.exec(cut)![0];
  return /:\/\/|[@?#]/.test(last) ? cut.slice(0, cut.length - last.length) : cut;
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
