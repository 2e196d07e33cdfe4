/** Splits a byte stream into records (lines, or NUL-separated items) as it arrives. */
import { LineTooLong, MAX_LINE_BYTES } from '../util/limits.js';

/**
 * Yields each record without its separator, in batches (one per chunk read) so a million short lines cost a
 * few thousand awaits, not a million. The last record needs no separator. `line` is the 1-based number of the
 * batch's first record.
 *
 * A record longer than `max` bytes is never held: the records before it are yielded, then LineTooLong is thrown
 * with its number, as soon as the part of it read so far passes the limit (the rest is not read).
 */
export async function* records(
  chunks: AsyncIterable<Buffer | string>,
  sep: number,
  max = MAX_LINE_BYTES,
): AsyncGenerator<{ first: number; items: Buffer[] }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let n = 1;
  for await (const c of chunks) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : c;
    const items: Buffer[] = [];
    let start = 0;
    let tooLong = false;
    for (let i = chunk.indexOf(sep); i !== -1; i = chunk.indexOf(sep, start)) {
      const part = chunk.subarray(start, i);
      if (pendingBytes + part.length > max) {
        tooLong = true;
        break;
      }
      if (pending.length) {
        pending.push(part);
        items.push(Buffer.concat(pending));
        pending = [];
        pendingBytes = 0;
      } else items.push(part);
      start = i + 1;
    }
    if (!tooLong && start < chunk.length) {
      const rest = chunk.subarray(start);
      if (pendingBytes + rest.length > max) tooLong = true;
      else {
        // A copy: a small piece must not keep a whole chunk alive while a long line grows.
        pending.push(pending.length || rest.length < chunk.length / 2 ? Buffer.from(rest) : rest);
        pendingBytes += rest.length;
      }
    }
    if (items.length) {
      yield { first: n, items };
      n += items.length;
    }
    if (tooLong) throw new LineTooLong(n, max);
  }
  if (pending.length) yield { first: n, items: [Buffer.concat(pending)] };
}
