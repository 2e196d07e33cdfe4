/**
 * Executor.map(): calls a task on every item and yields results in input order, submitting at once (arrays and
 * other iterables, as in Python), as the source produces (async iterables), or at most `buffersize` ahead.
 */
import { TimeoutError } from '../errors.js';
import { Deque } from '../util/deque.js';
import type { Future } from './future.js';
import type { MapOptions } from './types.js';

/** Submits one chunk of argument lists as one unit, returning their futures in order. */
export type SubmitChunk = (argLists: unknown[][]) => Future<unknown>[];

/** Checks the options and starts submitting (synchronous input at once); the generator yields the results. */
export function mapTasks<A, R>(
  submitChunk: SubmitChunk,
  items: Iterable<A> | AsyncIterable<A>,
  opts: MapOptions = {},
): AsyncGenerator<Awaited<R>> {
  // Checked by the caller (options.ts checkMapOptions).
  const chunksize = opts.chunksize ?? 1;
  const buffersize = opts.buffersize;
  const deadline =
    opts.timeout === undefined || opts.timeout === null ? undefined : performance.now() + opts.timeout;
  const futures = new Deque<Future<Awaited<R>>>();
  const source = toAsyncIterator(items);
  let exhausted = false;

  // Pulls up to `n` items (or all when n is Infinity) and submits them in chunks.
  const fill = async (n: number) => {
    let chunk: A[] = [];
    while (!exhausted && n > 0) {
      const next = source.sync ? source.sync.next() : await source.async!.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      chunk.push(next.value);
      n--;
      if (chunk.length >= chunksize) {
        for (const f of submitChunk(chunk.map((a) => [a]))) futures.push(f as Future<Awaited<R>>);
        chunk = [];
      }
    }
    if (chunk.length)
      for (const f of submitChunk(chunk.map((a) => [a]))) futures.push(f as Future<Awaited<R>>);
  };

  const ahead = buffersize ?? Infinity;
  // Python submits everything when map() is called; do the same for synchronous input.
  if (source.sync) void fill(ahead);
  const pumping = source.sync ? undefined : fill(ahead);

  async function* results(): AsyncGenerator<Awaited<R>> {
    try {
      for (;;) {
        if (futures.length === 0) {
          if (pumping) await pumping;
          if (futures.length === 0) {
            if (exhausted) return;
            await fill(buffersize ?? chunksize);
            if (futures.length === 0) return;
          }
        }
        const f = futures.shift()!;
        const left = deadline === undefined ? undefined : deadline - performance.now();
        if (left !== undefined && left <= 0 && !f.done()) {
          futures.unshift(f);
          throw new TimeoutError(`map(): results not ready within ${opts.timeout}ms`);
        }
        const value = await f.result(left === undefined ? {} : { timeout: left }).catch((e: unknown) => {
          if (e instanceof TimeoutError) {
            futures.unshift(f);
            throw new TimeoutError(`map(): results not ready within ${opts.timeout}ms`);
          }
          throw e;
        });
        if (buffersize !== undefined && !exhausted) await fill(1);
        yield value;
      }
    } finally {
      for (const f of futures.drain()) f.cancel();
    }
  }
  return results();
}

function toAsyncIterator<T>(items: Iterable<T> | AsyncIterable<T>): {
  sync?: Iterator<T>;
  async?: AsyncIterator<T>;
} {
  if (Symbol.iterator in Object(items)) return { sync: (items as Iterable<T>)[Symbol.iterator]() };
  return { async: (items as AsyncIterable<T>)[Symbol.asyncIterator]() };
}
