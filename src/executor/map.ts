/**
 * Executor.map(): calls a task on every item and yields results in input order, submitting at once (arrays and
 * other iterables, as in Python), as the source produces (async iterables), or at most `buffersize` ahead.
 *
 * An iterable that throws: Python's map() raises, having consumed its input eagerly; so does this one when a
 * synchronous iterable throws while map() takes it in (all of it, or the first `buffersize` items), and the futures
 * it had submitted are cancelled (those running finish unseen). Later (an async iterable, or past `buffersize`),
 * the loop yields the results of the items before the failing one, then rejects with the iterable's error. Never
 * an unhandled rejection. Leaving the loop early closes the iterable (its `return()`), as `for…of` would.
 */
import { TimeoutError } from '../errors.js';
import { Deque } from '../util/deque.js';
import type { Future } from './future.js';
import type { MapOptions } from './types.js';

/** Submits one chunk of argument lists as one unit, returning their futures in order. */

/** An async source is read this many items at a time between turns of the event loop. */
const YIELD_EVERY = 64;
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
  const ahead = buffersize ?? Infinity;
  const deadline =
    opts.timeout === undefined || opts.timeout === null ? undefined : performance.now() + opts.timeout;
  const futures = new Deque<Future<Awaited<R>>>();
  const source = toIterator(items);
  /** The source has ended (done, or threw: `failure`); nothing more is taken from it. */
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  /** The consumer has left (or map() threw): nothing more is submitted. */
  let closed = false;
  /** An async source is being read (one reader at a time); `wake` tells the results loop of new futures. */
  let pumping = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const timedOut = () => new TimeoutError(`map(): results not ready within ${opts.timeout}ms`);
  /** The consumer left (or the loop ended): cancel what has not started, close the source once. */
  let sourceClosed = false;
  const leave = () => {
    closed = true;
    for (const f of futures.drain()) f.cancel();
    if (!exhausted && !sourceClosed) {
      sourceClosed = true;
      closeSource(source);
    }
  };

  const submit = (chunk: A[]) => {
    for (const f of submitChunk(chunk.map((a) => [a]))) futures.push(f as Future<Awaited<R>>);
  };
  /** submit(), where a throw (the executor was shut down meanwhile) ends the source: the loop rejects with it, in order. */
  const submitted = (chunk: A[]): boolean => {
    try {
      submit(chunk);
      return true;
    } catch (e) {
      refused(e);
      return false;
    }
  };
  /** submit() threw: nothing more is read, and the source, not used up, is closed (its finally blocks run). */
  const refused = (e: unknown) => {
    failure ??= { error: e };
    exhausted = true;
    if (!sourceClosed) {
      sourceClosed = true;
      closeSource(source);
    }
  };
  const failed = (error: unknown) => {
    exhausted = true;
    failure = { error };
  };

  // Takes up to `n` items of a synchronous source and submits them in chunks.
  const fillSync = (iterator: Iterator<A>, n: number) => {
    let chunk: A[] = [];
    while (!exhausted && n > 0) {
      let value: A;
      try {
        const next = iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        value = next.value;
      } catch (e) {
        failed(e);
        break;
      }
      chunk.push(value);
      n--;
      if (chunk.length >= chunksize) {
        if (!submitted(chunk)) return;
        chunk = [];
      }
    }
    if (chunk.length) submitted(chunk);
  };

  // Reads an async source while fewer than `ahead` futures wait to be yielded, submitting in chunks, letting the
  // event loop run every YIELD_EVERY items.
  const pump = async (iterator: AsyncIterator<A>) => {
    if (pumping || exhausted || closed) return;
    pumping = true;
    let chunk: A[] = [];
    let read = 0;
    try {
      while (!exhausted && !closed && futures.length + chunk.length < ahead) {
        // A source that yields without waiting on anything resolves every next() as a microtask: nothing else
        // would run (no worker's result, no timer) until it ended, and an endless one never gave a result.
        if (++read % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
        if (closed) break;
        let value: A;
        try {
          const next = await iterator.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          value = next.value;
        } catch (e) {
          failed(e);
          break;
        }
        if (closed) break;
        chunk.push(value);
        if (chunk.length >= chunksize) {
          submit(chunk);
          chunk = [];
          notify();
        }
      }
      if (chunk.length && !closed) submit(chunk);
    } catch (e) {
      // submit() itself threw (the executor was shut down meanwhile): the loop rejects with it, in order.
      refused(e);
    } finally {
      pumping = false;
      notify();
    }
  };

  const more = (n: number) => {
    if (source.sync) fillSync(source.sync, n);
    else void pump(source.async!);
  };

  // Python submits everything when map() is called; do the same for synchronous input.
  if (source.sync) {
    fillSync(source.sync, ahead);
    if (failure) {
      closed = true;
      for (const f of futures.drain()) f.cancel();
      throw failure.error;
    }
  } else void pump(source.async!);

  async function* results(): AsyncGenerator<Awaited<R>> {
    try {
      for (;;) {
        while (futures.length === 0) {
          if (exhausted && !pumping) {
            if (failure) throw failure.error;
            return;
          }
          if (source.sync) fillSync(source.sync, buffersize ?? chunksize);
          else {
            const woken = new Promise<void>((resolve) => (wake = resolve));
            void pump(source.async!);
            // One deadline from the call, also while the source is stalled: its pending read is abandoned.
            if (!(await wokenBefore(woken, deadline))) throw timedOut();
          }
        }
        const f = futures.shift()!;
        const left = deadline === undefined ? undefined : deadline - performance.now();
        if (left !== undefined && left <= 0 && !f.done()) {
          futures.unshift(f);
          throw timedOut();
        }
        const value = await f.result(left === undefined ? {} : { timeout: left }).catch((e: unknown) => {
          // Its own deadline passed while waiting (the future still unfinished); a task's own timeout is the
          // task's error, raised as it is, as Python's map raises what a call raised.
          if (e instanceof TimeoutError && !f.done()) {
            futures.unshift(f);
            throw timedOut();
          }
          throw e;
        });
        if (buffersize !== undefined && !exhausted) more(1);
        yield value;
      }
    } finally {
      leave();
    }
  }
  return closingEarly(results(), leave);
}

/**
 * The generator, whose return() and throw() first run `leave`: a generator not yet started (or busy awaiting a
 * result) would run its `finally` only later or never, while its futures were submitted at once.
 */
function closingEarly<T>(gen: AsyncGenerator<T>, leave: () => void): AsyncGenerator<T> {
  const ret = gen.return.bind(gen);
  const thr = gen.throw.bind(gen);
  gen.return = (value) => {
    leave();
    return ret(value);
  };
  gen.throw = (error: unknown) => {
    leave();
    return thr(error);
  };
  return gen;
}

/** True when `woken` settles first; false once the deadline (if any) passes. */
async function wokenBefore(woken: Promise<void>, deadline: number | undefined): Promise<boolean> {
  if (deadline === undefined) {
    await woken;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([woken.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

function toIterator<T>(items: Iterable<T> | AsyncIterable<T>): {
  sync?: Iterator<T>;
  async?: AsyncIterator<T>;
} {
  if (Symbol.iterator in Object(items)) return { sync: (items as Iterable<T>)[Symbol.iterator]() };
  return { async: (items as AsyncIterable<T>)[Symbol.asyncIterator]() };
}

/** The consumer left before the source ended: close it as `for…of` would (a generator's `finally` runs). */
function closeSource<T>(source: { sync?: Iterator<T>; async?: AsyncIterator<T> }): void {
  try {
    if (source.sync) source.sync.return?.();
    // Not awaited: a source stuck in next() would hold up the consumer's `break`.
    else void Promise.resolve(source.async!.return?.()).catch(() => {});
  } catch {
    /* a return() that throws: the loop is over anyway */
  }
}
