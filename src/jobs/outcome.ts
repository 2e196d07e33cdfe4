import type { Outcome } from '../pool/protocol.js';
import type { SerializedError } from './types.js';

/** The outcome of a job that moves bytes (copy, download): no process, no output, the bytes it moved. */
export function bytesOutcome(startedAt: number, bytes: number, error?: SerializedError): Outcome {
  const outcome: Outcome = {
    exitCode: null,
    signal: null,
    startedAt,
    durationMs: Date.now() - startedAt,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    bytes,
  };
  if (error) outcome.error = error;
  return outcome;
}
