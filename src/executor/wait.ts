import { TimeoutError } from '../errors.js';
import type { Future } from './future.js';

export const FIRST_COMPLETED = 'FIRST_COMPLETED';
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION';
export const ALL_COMPLETED = 'ALL_COMPLETED';
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Yields futures as they finish (finished ones first); TimeoutError if `timeout` ms pass with some unfinished. */
export async function* asCompleted<T>(
  futures: Iterable<Future<T>>,
  opts: { timeout?: number } = {},
): AsyncGenerator<Future<T>, void, undefined> {
  const all = [...new Set(futures)];
  const deadline = opts.timeout === undefined ? undefined : performance.now() + opts.timeout;
  const ready: Future<T>[] = [];
  let wake: (() => void) | undefined;
  for (const f of all) {
    f.addDoneCallback((done) => {
      ready.push(done);
      wake?.();
    });
  }
  let yielded = 0;
  while (yielded < all.length) {
    if (ready.length === 0) {
      await new Promise<void>((resolve, reject) => {
        wake = resolve;
        if (deadline !== undefined) {
          const left = deadline - performance.now();
          const timer = setTimeout(
            () => reject(new TimeoutError(`${all.length - yielded} (of ${all.length}) futures unfinished`)),
            Math.max(0, left),
          );
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        }
      });
      wake = undefined;
      continue;
    }
    yielded++;
    yield ready.shift()!;
  }
}

export interface WaitResult<T> {
  done: Set<Future<T>>;
  notDone: Set<Future<T>>;
}

/** Waits until `returnWhen` holds or `timeout` ms pass; never throws on timeout (as Python's wait). */
export async function wait<T>(
  futures: Iterable<Future<T>>,
  opts: { timeout?: number; returnWhen?: ReturnWhen } = {},
): Promise<WaitResult<T>> {
  const all = [...new Set(futures)];
  const returnWhen = opts.returnWhen ?? ALL_COMPLETED;
  const done = new Set<Future<T>>();
  const failed = async (f: Future<T>) => !f.cancelled() && (await f.exception()) !== undefined;

  const satisfied = async (): Promise<boolean> => {
    if (returnWhen === FIRST_COMPLETED) return done.size > 0;
    if (returnWhen === FIRST_EXCEPTION) {
      for (const f of done) if (await failed(f)) return true;
    }
    return done.size === all.length;
  };

  for (const f of all) if (f.done()) done.add(f);
  if (!(await satisfied())) {
    await new Promise<void>((resolve) => {
      const timer = opts.timeout === undefined ? undefined : setTimeout(resolve, Math.max(0, opts.timeout));
      for (const f of all) {
        f.addDoneCallback((g) => {
          done.add(g);
          void satisfied().then((ok) => {
            if (ok) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
      }
    });
  }
  for (const f of all) if (f.done()) done.add(f);
  return { done, notDone: new Set(all.filter((f) => !done.has(f))) };
}
