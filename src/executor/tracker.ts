/**
 * The job bookkeeping the local Executor and the queue producer share (issue 14): the jobs submitted and not yet
 * finished, keyed as the runner looks them up; the `queued` and `finished` events (exactly one `finished` per
 * job); the shutdown sequence (no more submissions, cancel/kill as asked, close once, wait if asked) and the wait
 * for the last job to finish. How a job runs, is cancelled or killed stays with the runner.
 */
import type { Job, JobResult } from '../kinds/types.js';
import { ShutdownError } from '../errors.js';
import { keepAlive } from './keep-alive.js';
import type { ExecutorEvent, JobOutput, ShutdownOptions } from './types.js';

/** What the tracker needs of an entry; a runner's entries carry more (attempts, tickets, queue states). */
export interface TrackedJob {
  job: Job;
}

/** The runner's own ways to stop its jobs, called by shutdown() as its options ask. */
export interface Stopper {
  cancelPending(): void;
  killRunning(): void;
}

export interface TrackerOptions<E, K> {
  /** Receives every event the tracker emits (and those the runner emits through it). */
  onEvent?: ((e: ExecutorEvent) => unknown) | undefined;
  /** How entries are looked up (the queue: by BullMQ job id); default: the entry itself. */
  key?: (e: E) => K;
}

export class JobTracker<E extends TrackedJob, K = E> {
  readonly #entries = new Map<K, E>();
  readonly #key: (e: E) => K;
  readonly #onEvent: ((e: ExecutorEvent) => unknown) | undefined;
  #shutdown = false;
  #closing: Promise<void> | undefined;
  #idle: (() => void)[] = [];

  constructor(opts: TrackerOptions<E, K> = {}) {
    this.#onEvent = opts.onEvent;
    this.#key = opts.key ?? ((e: E) => e as unknown as K);
  }

  /** Jobs submitted and not yet finished. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether anyone sees events: building an event nobody reads is skipped (a million map() items over). */
  get listening(): boolean {
    return this.#onEvent !== undefined;
  }

  /** shutdown() has been called: no more submissions. */
  get shutDown(): boolean {
    return this.#shutdown;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  get(key: K): E | undefined {
    return this.#entries.get(key);
  }

  /** This very entry is still unfinished (not only one under its key). */
  isLive(e: E): boolean {
    return this.#entries.get(this.#key(e)) === e;
  }

  /** The unfinished entries, as a copy: finishing some while going through it is safe. */
  values(): E[] {
    return [...this.#entries.values()];
  }

  /** Throws ShutdownError once shutdown() has been called. */
  checkOpen(): void {
    if (this.#shutdown) throw new ShutdownError('cannot submit after shutdown()');
  }

  /** Tracks a new job and emits its `queued` event. */
  add(e: E): void {
    this.#entries.set(this.#key(e), e);
    if (this.#onEvent) this.emit({ event: 'queued', job: e.job, time: Date.now() });
  }

  /**
   * Emits an event; what the listener returns, when it is a promise (output held back), is given back, settling
   * once it has. A listener that throws (or whose promise rejects) is reported as a process warning, as a throwing
   * done-callback is: it must not break the pool or the jobs that reported through it.
   */
  emit(ev: ExecutorEvent): PromiseLike<unknown> | undefined {
    if (!this.#onEvent) return undefined;
    let r: unknown;
    try {
      r = this.#onEvent(ev);
    } catch (e) {
      warnListener(ev, e);
      return undefined;
    }
    if (!isPromiseLike(r)) return undefined;
    return Promise.resolve(r).then(undefined, (e: unknown) => warnListener(ev, e));
  }

  /**
   * Stops tracking a job and emits its `finished` event (`output` is built only for a listener). false, and no
   * event, when it was finished already: a job finishes once. Settling its future is the runner's.
   */
  finish(e: E, result: JobResult, output?: JobOutput | (() => JobOutput | undefined)): boolean {
    if (!this.isLive(e)) return false;
    this.#entries.delete(this.#key(e));
    if (this.#onEvent) {
      const out = typeof output === 'function' ? output() : output;
      this.emit({ event: 'finished', job: e.job, result, output: out, time: Date.now() });
    }
    if (this.#entries.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
    return true;
  }

  /** Resolves once no job is left unfinished (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.#entries.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /**
   * The shutdown sequence: no more submissions; `cancelFutures` (or `kill`) cancels what has not started, `kill`
   * kills what runs; `before` runs (the runner's own step); `close` runs once however often shutdown is called;
   * with `wait` (default) resolves once it is done.
   */
  async shutdown(
    opts: ShutdownOptions,
    stopper: Stopper,
    close: () => Promise<void>,
    before?: (o: Required<ShutdownOptions>) => void,
  ): Promise<void> {
    const { wait = true, cancelFutures = false, kill = false } = opts;
    this.#shutdown = true;
    if (cancelFutures || kill) stopper.cancelPending();
    if (kill) stopper.killRunning();
    before?.({ wait, cancelFutures, kill });
    this.#closing ??= close();
    if (!wait) return;
    // Someone waits: the program is not done, even if an earlier shutdown({wait: false}) let the pool go.
    const release = keepAlive();
    try {
      await this.#closing;
    } finally {
      release();
    }
  }
}

function warnListener(ev: ExecutorEvent, e: unknown): void {
  const why = e instanceof Error ? e.message : String(e);
  process.emitWarning(`an onEvent callback threw on a '${ev.event}' event: ${why}`, {
    type: 'PoolrunWarning',
  });
}

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as PromiseLike<unknown> | undefined)?.then === 'function';
}
