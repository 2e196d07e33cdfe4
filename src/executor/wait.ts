import { TimeoutError, UsageError } from '../errors.js';
import { checkObject, checkTimeout, MAX_TIMER_MS, show } from './check.js';
import { Future } from './future.js';
import { keepAlive } from './keep-alive.js';

export const FIRST_COMPLETED = 'FIRST_COMPLETED';
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION';
export const ALL_COMPLETED = 'ALL_COMPLETED';
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;
const RETURN_WHEN: readonly unknown[] = [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED];

/** No timeout (undefined, or null: Python's None), or one past a timer's longest wait (~24.8 days): none. */
function noTimer(ms: number | null | undefined): ms is null | undefined {
  return ms === undefined || ms === null || ms > MAX_TIMER_MS;
}

/**
 * The distinct futures of `futures`: an iterable of Futures, or a UsageError naming what is not (Python raises a
 * TypeError; `null` was taken for an empty list, and `wait([5])` failed inside with a raw TypeError).
 */
function futuresOf<T>(where: string, futures: Iterable<Future<T>>): Future<T>[] {
  const iterable =
    futures !== null &&
    futures !== undefined &&
    typeof (futures as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
  if (!iterable || typeof futures === 'string')
    throw new UsageError(`${where}: futures must be an iterable of Futures, got ${show(futures)}`);
  const all = new Set<Future<T>>();
  let i = 0;
  for (const f of futures as Iterable<unknown>) {
    if (!(f instanceof Future))
      throw new UsageError(`${where}: futures[${i}] is not a Future, got ${show(f)}`);
    all.add(f as Future<T>);
    i++;
  }
  return [...all];
}

/** Yields futures as they finish (finished ones first); TimeoutError if `timeout` ms pass with some unfinished. */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  opts?: { timeout?: number | null },
): AsyncGenerator<Future<T>, void, undefined>;
/** Futures of different result types (a job's and a call's): each is yielded as the type it was given as. */
export function asCompleted<F extends Future<unknown>>(
  futures: Iterable<F>,
  opts?: { timeout?: number | null },
): AsyncGenerator<F, void, undefined>;
export async function* asCompleted<T>(
  futures: Iterable<Future<T>>,
  opts: { timeout?: number | null } = {},
): AsyncGenerator<Future<T>, void, undefined> {
  checkObject('asCompleted()', 'options', opts, ['timeout']);
  checkTimeout('asCompleted()', opts.timeout);
  const all = futuresOf('asCompleted()', futures);
  const deadline = noTimer(opts.timeout) ? undefined : performance.now() + opts.timeout;
  const ready: Future<T>[] = [];
  let wake: (() => void) | undefined;
  for (const f of all) {
    f.addDoneCallback((done) => {
      ready.push(done);
      wake?.();
    });
  }
  let yielded = 0;
  // Waiting for an executor's futures keeps the program alive (keep-alive.ts).
  const owned = all.some((f) => f.owned);
  while (yielded < all.length) {
    if (ready.length === 0) {
      const release = owned ? keepAlive() : undefined;
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
      }).finally(release);
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
export function wait<T>(
  futures: Iterable<Future<T>>,
  opts?: { timeout?: number | null; returnWhen?: ReturnWhen },
): Promise<WaitResult<T>>;
/** Futures of different result types (a job's and a call's): the sets hold them as they were given. */
export function wait<F extends Future<unknown>>(
  futures: Iterable<F>,
  opts?: { timeout?: number | null; returnWhen?: ReturnWhen },
): Promise<{ done: Set<F>; notDone: Set<F> }>;
export async function wait<T>(
  futures: Iterable<Future<T>>,
  opts: { timeout?: number | null; returnWhen?: ReturnWhen } = {},
): Promise<WaitResult<T>> {
  checkObject('wait()', 'options', opts, ['timeout', 'returnWhen']);
  checkTimeout('wait()', opts.timeout);
  const returnWhen = opts.returnWhen ?? ALL_COMPLETED;
  if (!RETURN_WHEN.includes(returnWhen))
    throw new UsageError(`wait(): returnWhen must be ${RETURN_WHEN.join(', ')}, got ${show(returnWhen)}`);
  const all = futuresOf('wait()', futures);
  const done = new Set<Future<T>>();
  const failed = async (f: Future<T>) => !f.cancelled() && (await f.exception()) !== undefined;

  const satisfied = async (): Promise<boolean> => {
    // No futures at all: nothing to wait for, whatever returnWhen says (Python returns at once).
    if (returnWhen === FIRST_COMPLETED) return done.size > 0 || all.length === 0;
    if (returnWhen === FIRST_EXCEPTION) {
      for (const f of done) if (await failed(f)) return true;
    }
    return done.size === all.length;
  };

  for (const f of all) if (f.done()) done.add(f);
  if (!(await satisfied())) {
    // Waiting for an executor's futures keeps the program alive (keep-alive.ts).
    const release = all.some((f) => f.owned) ? keepAlive() : undefined;
    await new Promise<void>((resolve) => {
      const timer = noTimer(opts.timeout) ? undefined : setTimeout(resolve, Math.max(0, opts.timeout));
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
    }).finally(release);
  }
  for (const f of all) if (f.done()) done.add(f);
  return { done, notDone: new Set(all.filter((f) => !done.has(f))) };
}
