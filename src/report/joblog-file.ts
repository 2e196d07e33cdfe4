/**
 * A joblog read back (--resume, --schedule longest-first): poolrun's own file, read a piece at a time with each line
 * at most MAX_LINE_BYTES. One that is not a regular file or holds a line past the limit is some other file given by
 * mistake, and is refused through `refuse` (exit 2) rather than read whole.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UsageError } from '../errors.js';
import { LINE_LIMIT_WORDS, LineTooLong, MAX_LINE_BYTES } from '../util/limits.js';
import { notRegular, reason } from './files.js';

/**
 * Hands the file's complete lines to `onLines`, a batch per read (`first`: the 1-based number of the batch's first
 * line). false when the file does not exist (no earlier run).
 */
export function readJoblogLines(
  file: string,
  refuse: (why: string) => UsageError,
  onLines: (first: number, lines: Buffer[]) => void,
): boolean {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw refuse(reason(e));
  }
  if (!st.isFile()) throw refuse(`it is ${notRegular(st)}, not a regular file`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw refuse(reason(e));
  }
  try {
    if (!fstatSync(fd).isFile()) throw refuse('it is not a regular file');
    for (const { first, lines } of lineBatches(fd)) onLines(first, lines);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof LineTooLong)
      throw refuse(`line ${e.line} is longer than ${LINE_LIMIT_WORDS}: not a joblog poolrun wrote`);
    throw refuse(reason(e));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * The complete lines of a file (without their newline), a batch per read. A last line without its newline is a
 * line poolrun was writing when it died: it is left out, as parseJoblog would.
 */
function* lineBatches(fd: number): Generator<{ first: number; lines: Buffer[] }> {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let n = 1;
  for (;;) {
    const got = readSync(fd, buf, 0, buf.length, null);
    if (got === 0) return;
    const chunk = buf.subarray(0, got);
    const lines: Buffer[] = [];
    let start = 0;
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, start)) {
      const part = chunk.subarray(start, i);
      if (pendingBytes + part.length > MAX_LINE_BYTES)
        throw new LineTooLong(n + lines.length, MAX_LINE_BYTES);
      lines.push(pending.length ? Buffer.concat([...pending, part]) : Buffer.from(part));
      pending = [];
      pendingBytes = 0;
      start = i + 1;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES) throw new LineTooLong(n + lines.length, MAX_LINE_BYTES);
      pending.push(Buffer.from(chunk.subarray(start)));
    }
    if (lines.length) {
      yield { first: n, lines };
      n += lines.length;
    }
  }
}
