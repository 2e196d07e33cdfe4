/** The end of what a job wrote on stderr, for reports that show why a job failed (--junit, --report). */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { JobOutput } from '../executor/executor.js';
import type { JobResult } from '../kinds/types.js';

/**
 * The last `maxLines` lines of the job's stderr, from at most its last `maxBytes` bytes: read from the spill file
 * when the output outgrew the capture limit, else from what was kept in memory.
 */
export function stderrTail(
  r: JobResult,
  output: JobOutput | undefined,
  maxBytes: number,
  maxLines: number,
): string {
  // Most jobs print nothing on stderr: nothing to decode, split or join.
  if (!output?.stderrFile && !(output ? output.stderr.length : r.stderr)) return '';
  let bytes: Buffer | undefined;
  if (output?.stderrFile) {
    try {
      const fd = openSync(output.stderrFile, 'r');
      try {
        const size = fstatSync(fd).size;
        const want = Math.min(size, maxBytes);
        bytes = Buffer.alloc(want);
        readSync(fd, bytes, 0, want, size - want);
      } finally {
        closeSync(fd);
      }
    } catch {
      bytes = undefined;
    }
  }
  bytes ??= output
    ? output.stderr.subarray(Math.max(0, output.stderr.length - maxBytes))
    : Buffer.from(r.stderr).subarray(-maxBytes);
  let text = bytes.toString('utf8');
  // Cut at a line start when the tail began mid-line; keep the last lines only.
  const cut = text.length >= maxBytes - 4 ? text.indexOf('\n') + 1 : 0;
  text = text.slice(cut).trimEnd();
  const lines = text.split('\n');
  return lines.slice(-maxLines).join('\n');
}
