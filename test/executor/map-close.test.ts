/**
 * map()'s deadline and early exit (acceptance probe): `timeout` is one deadline from the call, also while an async
 * source is stalled (the pending read is abandoned, its iterator's return() called and not awaited); closing the
 * iterator with return() or throw(), even before its first next(), cancels the futures that have not started.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { task, TimeoutError, ShutdownError, UsageError } from '../../dist/index.js';
import { FIXTURES } from '../helpers.js';

const tasks = join(FIXTURES, 'tasks.mjs');
import type * as T from '../fixtures/tasks.mjs';
import { pools } from './pools.js';
const square = task<typeof T.square>(tasks, 'square');
const sleepAsync = task<typeof T.sleepAsync>(tasks, 'sleepAsync');
const squareWithPid = task<typeof T.squareWithPid>(tasks, 'squareWithPid');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(Object.entries(pools))('%s pool: map() deadline and early exit', (_mode, make) => {
  it('timeout: TimeoutError at the deadline while an async source is stalled, not when it yields again', async () => {
    const ex = make({ maxWorkers: 1 });
    async function* src() {
      yield 1;
      await sleep(3000);
      yield 2;
    }
    const got: number[] = [];
    const t0 = performance.now();
    let error: unknown;
    try {
      for await (const v of ex.map(square, src(), { timeout: 800 })) got.push(v);
    } catch (e) {
      error = e;
    }
    const took = performance.now() - t0;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(got).toEqual([1]);
    expect(took).toBeGreaterThanOrEqual(700);
    expect(took).toBeLessThan(2500);
    await ex.shutdown();
  }, 10_000);

  it('timeout: a source that never yields again; its return() is called and not awaited', async () => {
    const ex = make({ maxWorkers: 1 });
    let returns = 0;
    const stalled: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => {
        let i = 0;
        return {
          next: () =>
            i++ === 0
              ? Promise.resolve({ value: 1, done: false })
              : new Promise<IteratorResult<number>>(() => {}),
          return: () => {
            returns++;
            return new Promise<IteratorResult<number>>(() => {});
          },
        };
      },
    };
    const t0 = performance.now();
    await expect(
      (async () => {
        for await (const v of ex.map(square, stalled, { timeout: 800 })) void v;
      })(),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(returns).toBe(1);
    await ex.shutdown();
  }, 10_000);

  it('return() before the first next() cancels the futures not started', async () => {
    let started = 0;
    const ex = make({ maxWorkers: 1, onEvent: (e) => void (e.event === 'started' && started++) });
    const it = ex.map(sleepAsync, [300, 300, 300]);
    await it.return(undefined);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    await ex.shutdown();
    expect(started).toBeLessThanOrEqual(1);
  });

  it('throw() before the first next() cancels the futures not started, and rejects with its error', async () => {
    let started = 0;
    const ex = make({ maxWorkers: 1, onEvent: (e) => void (e.event === 'started' && started++) });
    const it = ex.map(sleepAsync, [300, 300, 300]);
    await expect(it.throw(new Error('consumer gave up'))).rejects.toThrow('consumer gave up');
    await ex.shutdown();
    expect(started).toBeLessThanOrEqual(1);
  });

  it('return() with an async source, before the first next(): nothing more starts', async () => {
    let started = 0;
    const ex = make({ maxWorkers: 1, onEvent: (e) => void (e.event === 'started' && started++) });
    async function* src() {
      await sleep(0);
      yield 300;
      yield 300;
      yield 300;
    }
    const it = ex.map(sleepAsync, src());
    await it.return(undefined);
    await sleep(50);
    await ex.shutdown();
    expect(started).toBeLessThanOrEqual(1);
  });
});

describe.each(Object.entries(pools))('%s pool: map() and shutdown()', (_mode, make) => {
  it('items read after shutdown() are not submitted: the loop yields what came before, then ShutdownError', async () => {
    for (const cancelFutures of [false, true]) {
      const ex = make({ maxWorkers: 1 });
      let shut: Promise<void> | undefined;
      let closed = false;
      async function* src() {
        try {
          yield 1;
          yield 2;
          // The consumer has the first result by now; shutdown() is called before the source goes on.
          while (!shut) await sleep(5);
          yield 3;
          yield 4;
        } finally {
          closed = true;
        }
      }
      const got: unknown[] = [];
      let error: unknown;
      try {
        for await (const v of ex.map(squareWithPid, src())) {
          got.push(v);
          shut ??= ex.shutdown({ cancelFutures });
        }
      } catch (e) {
        error = e;
      }
      expect(error, `cancelFutures ${cancelFutures}`).toBeInstanceOf(ShutdownError);
      await shut;
      // 2 was submitted before shutdown(): it ran (cancelFutures cancels it only if it had not started).
      expect(got.length).toBeLessThanOrEqual(2);
      expect(got.length).toBeGreaterThanOrEqual(1);
      expect(ex.pending).toBe(0);
      // The source, not used up, was closed: its finally ran (fresh-eyes probe: it never did on this path).
      expect(closed, `cancelFutures ${cancelFutures}`).toBe(true);
    }
  }, 20_000);

  it('the same for a synchronous source read `buffersize` at a time', async () => {
    const ex = make({ maxWorkers: 1 });
    const got: number[] = [];
    let error: unknown;
    let shut: Promise<void> | undefined;
    let closed = false;
    function* src() {
      try {
        yield* [1, 2, 3, 4, 5, 6];
      } finally {
        closed = true;
      }
    }
    try {
      for await (const v of ex.map(square, src(), { buffersize: 2 })) {
        got.push(v);
        shut ??= ex.shutdown();
      }
    } catch (e) {
      error = e;
    }
    await shut;
    expect(error).toBeInstanceOf(ShutdownError);
    // 1 and 2 were submitted at the call, 3 as 1 was yielded (one taken, one more read); 4 only after shutdown()
    // was asked for: not submitted.
    expect(got).toEqual([1, 4, 9]);
    expect(closed, 'the source was closed').toBe(true);
  });

  it("shutdown()'s options are checked: a typo or a wrong type is a UsageError, not a shutdown that ignores it", async () => {
    const ex = make({ maxWorkers: 1 });
    const bad: unknown[] = [{ cancel_futures: true }, { wait: 'no' }, null, 5, { kill: 1 }];
    for (const o of bad)
      await expect(ex.shutdown(o as never), JSON.stringify(o)).rejects.toBeInstanceOf(UsageError);
    await ex.shutdown({ wait: true, cancelFutures: false, kill: false });
  });
});
