import type { CopySpec } from './types.js';
import type { JobContext } from './context.js';
import type { Outcome } from '../pool/protocol.js';

// Not built yet: see the copy/download issue. Fails the job with a clear message rather than pretending.
export function runCopy(_spec: CopySpec, _ctx: JobContext): Promise<Outcome> {
  return Promise.resolve({
    exitCode: null,
    signal: null,
    startedAt: Date.now(),
    durationMs: 0,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    error: { name: 'Error', message: 'copy jobs are not supported yet' },
  });
}
