/** Splits a byte stream into records (lines, or NUL-separated items) as it arrives. */

/**
 * Yields each record without its separator, in batches (one per chunk read) so a million short lines cost a
 * few thousand awaits, not a million. The last record needs no separator. `line` is the 1-based number of the
 * batch's first record.
 */
export async function* records(
  chunks: AsyncIterable<Buffer | string>,
  sep: number,
): AsyncGenerator<{ first: number; items: Buffer[] }> {
  let pending: Buffer[] = [];
  let n = 1;
  for await (const c of chunks) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : c;
    const items: Buffer[] = [];
    let start = 0;
    for (let i = chunk.indexOf(sep); i !== -1; i = chunk.indexOf(sep, start)) {
      const part = chunk.subarray(start, i);
      if (pending.length) {
        pending.push(part);
        items.push(Buffer.concat(pending));
        pending = [];
      } else items.push(part);
      start = i + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
    if (items.length) {
      yield { first: n, items };
      n += items.length;
    }
  }
  if (pending.length) yield { first: n, items: [Buffer.concat(pending)] };
}
