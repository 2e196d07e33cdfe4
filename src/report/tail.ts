/** The end of what a job wrote on stderr, for reports that show why a job failed (--junit, --report). */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { JobOutput } from '../executor/executor.js';
import type { JobResult } from '../kinds/types.js';

/** How far before the tail a line start is looked for, so that the tail is redacted from where its line begins. */
const LOOKBACK = 64 * 1024;

/**
 * The last `maxLines` lines of the job's stderr, at most `maxBytes` of it, made safe by `redact` before it is cut:
 * read from the spill file when the output outgrew the capture limit, else from what was kept in memory. The text
 * given to `redact` begins where a line begins (up to LOOKBACK before the tail), so that a secret the cut would
 * fall into is whole when it is masked (`https://u:pw@h` cut after `u:p` would show the rest of the password).
 * Where no line begins within reach, the first word is dropped instead: a secret holds no blank.
 */
export function stderrTail(
  r: JobResult,
  output: JobOutput | undefined,
  maxBytes: number,
  maxLines: number,
  redact: (text: string) => string,
): string {
  // Most jobs print nothing on stderr: nothing to decode, split or join.
  if (!output?.stderrFile && !(output ? output.stderr.length : r.stderr)) return '';
  const want = maxBytes + LOOKBACK;
  let bytes: Buffer | undefined;
  let whole = true;
  if (output?.stderrFile) {
    try {
      const fd = openSync(output.stderrFile, 'r');
      try {
        const size = fstatSync(fd).size;
        const n = Math.min(size, want);
        bytes = Buffer.alloc(n);
        readSync(fd, bytes, 0, n, size - n);
        whole = n === size;
      } finally {
        closeSync(fd);
      }
    } catch {
      bytes = undefined;
    }
  }
  if (!bytes) {
    const all = output ? output.stderr : Buffer.from(r.stderr);
    bytes = all.subarray(Math.max(0, all.length - want));
    whole = bytes.length === all.length;
  }
  let text = bytes.toString('utf8');
  if (!whole) {
    const nl = text.indexOf('\n');
    const blank = text.search(/[\s]/);
    text = nl !== -1 ? text.slice(nl + 1) : blank !== -1 ? text.slice(blank + 1) : '';
  }
  text = redact(text).trimEnd();
  if (text.length > maxBytes) {
    // Cut after masking: a cut through a masked secret shows part of `***`, never of the secret.
    text = text.slice(-maxBytes);
    const nl = text.indexOf('\n');
    if (nl !== -1 && nl < text.length - 1) text = text.slice(nl + 1);
  }
  return text.split('\n').slice(-maxLines).join('\n');
}
