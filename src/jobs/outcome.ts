import type { Outcome } from '../pool/protocol.js';
import { toSerialized } from './job-error.js';
import type { SerializedError } from './types.js';

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
