/**
 * A Future, as in Python's concurrent.futures: the eventual outcome of one submitted piece of work.
 * pending → running → finished, or pending → cancelled. Waiting with a timeout never stops the work itself.
 */
import { CancelledError, InvalidStateError, TimeoutError, UsageError } from '../errors.js';
import { checkObject, checkTimeout, MAX_TIMER_MS, show } from './check.js';
import { keepAlive } from './keep-alive.js';

export type FutureState = 'pending' | 'running' | 'finished' | 'cancelled';

export interface WaitOptions {
  /** Milliseconds to wait; rejects with TimeoutError after that. Omitted (or null): wait as long as it takes. */
  timeout?: number | null;
}

export type DoneCallback<T> = (future: Future<T>) => void;

export class Future<T> {
  #state: FutureState = 'pending';
  #value: T | undefined;
  #error: unknown;
  #failed = false;
  /** Made on the first addDoneCallback: most futures never get one. */
  #callbacks: DoneCallback<T>[] | undefined;
  #settled: Promise<void> | undefined;
  #resolveSettled: (() => void) | undefined;
  readonly #onCancel: (() => boolean) | undefined;

  /** @internal `onCancel` asks the executor to drop the queued work; false means it already started. */
  constructor(onCancel?: () => boolean) {
    this.#onCancel = onCancel;
  }

  get state(): FutureState {
    return this.#state;
  }

  running(): boolean {
    return this.#state === 'running';
  }

  cancelled(): boolean {
    return this.#state === 'cancelled';
  }

  /** True once finished or cancelled. */
  done(): boolean {
    return this.#state === 'finished' || this.#state === 'cancelled';
  }

  /** Cancels a pending future. False when it is already running or finished (as in Python). */
  cancel(): boolean {
    if (this.#state === 'cancelled') return true;
    if (this.#state !== 'pending') return false;
    if (this.#onCancel && !this.#onCancel()) return false;
    this.#state = 'cancelled';
    this.#settle();
    return true;
  }

  /** The value; rejects with the work's error, CancelledError, or TimeoutError after `timeout` ms. */
  async result(opts: WaitOptions = {}): Promise<T> {
    await this.#wait(opts, 'result()');
    if (this.#state === 'cancelled') throw new CancelledError('the future was cancelled');
    if (this.#failed) throw this.#error;
    return this.#value as T;
  }

  /** The error the work raised, or undefined when it succeeded. Rejects like result() on cancel and timeout. */
  async exception(opts: WaitOptions = {}): Promise<unknown> {
    await this.#wait(opts, 'exception()');
    if (this.#state === 'cancelled') throw new CancelledError('the future was cancelled');
    return this.#failed ? this.#error : undefined;
  }

  /** Called with the future when it finishes or is cancelled; at once if it already has. Errors are reported, not thrown. */
  addDoneCallback(fn: DoneCallback<T>): void {
    if (typeof fn !== 'function')
      throw new UsageError(`addDoneCallback(): expected a function, got ${show(fn)}`);
    if (this.done()) this.#invoke(fn);
    else (this.#callbacks ??= []).push(fn);
  }

  /**
   * @internal Python's set_running_or_notify_cancel: pending → running (true); a cancelled future stays cancelled
   * (false: do not run it). Throws InvalidStateError when it is running or finished already.
   */
  setRunning(): boolean {
    if (this.#state === 'cancelled') return false;
    if (this.#state !== 'pending') throw new InvalidStateError(`cannot set a ${this.#state} future running`);
    this.#state = 'running';
    return true;
  }

  /** @internal Finishes the future with a value. Throws InvalidStateError when it is done already. */
  setResult(value: T): void {
    this.#checkNotDone('set the result of');
    this.#value = value;
    this.#state = 'finished';
    this.#settle();
  }

  /** @internal Finishes the future with an error. Throws InvalidStateError when it is done already. */
  setException(error: unknown): void {
    this.#checkNotDone('set the exception of');
    this.#error = error;
    this.#failed = true;
    this.#state = 'finished';
    this.#settle();
  }

  /**
   * @internal Marks a pending future cancelled without asking the executor (which dropped the work itself: halt,
   * deadline, signals, shutdown({cancelFutures})). Like cancel(), it never cancels a running or finished future:
   * it returns false for those; true when the future is (now) cancelled.
   */
  forceCancel(): boolean {
    if (this.#state === 'cancelled') return true;
    if (this.#state !== 'pending') return false;
    this.#state = 'cancelled';
    this.#settle();
    return true;
  }

  /**
   * @internal Whether an executor (or the queue producer) owns this future: waiting for it keeps the program
   * alive (keep-alive.ts), as the work it waits for will settle it.
   */
  get owned(): boolean {
    return this.#onCancel !== undefined;
  }

  /** @internal Resolves when the future is done, without throwing. */
  settled(): Promise<void> {
    if (this.done()) return Promise.resolve();
    this.#settled ??= new Promise<void>((resolve) => {
      this.#resolveSettled = resolve;
    });
    return this.#settled;
  }

  #checkNotDone(what: string): void {
    if (this.done()) throw new InvalidStateError(`cannot ${what} a ${this.#state} future`);
  }

  #wait(opts: WaitOptions, where: string): Promise<void> {
    // A misspelt `timout` waited for good.
    checkObject(where, 'options', opts, ['timeout']);
    const timeout = opts.timeout;
    checkTimeout(where, timeout);
    if (this.done()) return Promise.resolve();
    const settled = this.settled();
    // Someone waits for it: the program is not done, even after shutdown({wait: false}) let the pool go.
    const release = this.owned ? keepAlive() : undefined;
    // (Past a timer's longest wait, ~24.8 days, Node would fire at once: that is waiting for good.)
    if (timeout === undefined || timeout === null || timeout > MAX_TIMER_MS)
      return release ? settled.then(release) : settled;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          release?.();
          reject(new TimeoutError(`the result was not ready within ${timeout}ms`));
        },
        Math.max(0, timeout),
      );
      void settled.then(() => {
        clearTimeout(timer);
        release?.();
        resolve();
      });
    });
  }

  #settle(): void {
    this.#resolveSettled?.();
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks) for (const fn of callbacks) this.#invoke(fn);
  }

  #invoke(fn: DoneCallback<T>): void {
    try {
      fn(this);
    } catch (e) {
      // A broken callback must not break the pool that finished the work (Python logs and goes on too).
      process.emitWarning(`a Future done-callback threw: ${e instanceof Error ? e.message : String(e)}`, {
        type: 'PoolrunWarning',
      });
    }
  }
}
