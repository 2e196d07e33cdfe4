/**
 * Executor: concurrent.futures for Node. submit() returns a Future; map() yields in input order; shutdown()
 * waits, cancels or kills. Retries live here (they are about a job, not a worker); the pool runs attempts.
 */
import { availableParallelism } from 'node:os';
import { rmSync } from 'node:fs';
import type { Job, JobResult } from '../kinds/types.js';
import type { CaptureOptions } from '../kinds/outcome.js';
import { WorkerPool, type Attempt, type AttemptResult, type Ticket } from '../pool/pool.js';
import type { PoolMode } from '../pool/handle.js';
import type { ProcessGroups } from '../proc/groups.js';
import { Future } from './future.js';
import { callJob, isTask, type AnyTask, type Task } from './task.js';
import { normalizeJob } from '../jobs/normalize.js';
import { cancelledResult, echo, outputOf, removeSpills, settleJob, settleTask, toResult } from './results.js';
import { kindOf } from '../kinds/index.js';
import { JobFileError, NOT_SENDABLE, type JobFileProblem } from '../errors.js';
import { endAtExit, forgetAtExit, killTokenCarriers, spillFolder, watchedGroups } from './at-exit.js';
import { mapTasks } from './map.js';
import { backoff, checkExecutorOptions, checkMapOptions, checkShutdownOptions } from './options.js';
import { JobTracker } from './tracker.js';
import type { ExecutorOptions, JobInput, MapOptions, ShutdownOptions } from './types.js';

export type * from './types.js';
export { spillFolder } from './at-exit.js';
export { cancelledResult, toResult } from './results.js';

interface Entry {
  job: Job;
  /** A job's future resolves to its JobResult; a task's to the function's value (settle decides). */
  future: Future<unknown>;
  settle: (future: Future<unknown>, result: JobResult, returned?: { value: unknown }) => void;
  attempt: number;
  /** Attempts that reached a worker and started (a cancelled job reports these, not the ones queued). */
  started: number;
  /** The attempt that failed last (its retry waits, or a stop came): what a cancelled job reports of its runs. */
  failed?: JobResult;
  ticket?: Ticket;
  retryTimer?: NodeJS.Timeout;
  killed?: boolean;
  /** Killed to be run again later (--memfree, src/sched/): told to this, not counted as an attempt. */
  evicted?: (again: () => void) => void;
}

const DEFAULT_CAPTURE_LIMIT = 1024 * 1024;

export class Executor {
  readonly mode: PoolMode;
  readonly maxWorkers: number;
  protected readonly pool: WorkerPool;
  readonly #opts: ExecutorOptions;
  readonly #capture: CaptureOptions;
  /** Submitted, not yet finished; their events; the shutdown sequence (shared with the queue producer). */
  readonly #jobs: JobTracker<Entry>;
  #seq = 0;
  #noMoreStarts = false; // cancelPending() came (halt, deadline, signal, shutdown cancelling futures)
  /** The registry this executor made for itself (none when the caller passed one): it ends with the executor. */
  readonly #ownGroups: ProcessGroups | undefined;
  /** Ends its workers and their jobs' process groups, at once: run when this process exits with it still open. */
  readonly #endAtExit: () => void;

  constructor(mode: PoolMode, opts: ExecutorOptions = {}) {
    checkExecutorOptions(mode, opts);
    this.mode = mode;
    // Even a library user's process may be SIGKILLed: its jobs' process groups must not outlive it.
    if (!opts.groups) this.#ownGroups = watchedGroups(opts.killAfter ?? 5000);
    const groups = opts.groups ?? this.#ownGroups!;
    this.#opts = opts = { ...opts, groups };
    this.#jobs = new JobTracker<Entry>({ onEvent: opts.onEvent });
    this.maxWorkers = opts.maxWorkers ?? availableParallelism();
    this.#capture = {
      keep: opts.capture?.keep ?? true,
      // Output events as a job prints (README), for whoever listens; a task's prints always (echo).
      stream: opts.capture?.stream ?? opts.onEvent !== undefined,
      streamCalls: true,
      spill: opts.capture?.spill ?? false,
      limit: opts.captureLimit ?? DEFAULT_CAPTURE_LIMIT,
      spillDir: opts.spillDir ?? spillFolder(),
    };
    this.pool = new WorkerPool({
      mode,
      capture: this.#capture,
      size: this.maxWorkers,
      killAfterMs: opts.killAfter ?? 5000,
      groups,
      workerStdout: opts.workerStdout ?? 'stdout',
      ...(opts.initializer
        ? {
            init: {
              module: opts.initializer.module,
              export: opts.initializer.export,
              args: opts.initargs ?? [],
            },
          }
        : {}),
    });
    this.#endAtExit = () => {
      void this.pool.close(true);
      groups.killAll();
      // A shell job spawned a moment ago may not be registered yet (its worker's message is on its way).
      if (this.#jobs.values().some((e) => kindOf(e.job).stop === 'group' && e.future.running()))
        killTokenCarriers(groups.token);
    };
    endAtExit(this.#endAtExit);
  }

  /** Jobs submitted and not yet finished. */
  get pending(): number {
    return this.#jobs.size;
  }

  /**
   * Submits a job (`{ run: 'echo hi' }`, a command string, copy/download/call objects) → Future<JobResult>,
   * or a task and its arguments → Future of the function's (awaited) return value.
   */
  submit<A extends unknown[], R>(fn: Task<A, R>, ...args: A): Future<Awaited<R>>;
  submit(job: JobInput): Future<JobResult>;
  submit(what: AnyTask | JobInput, ...args: unknown[]): Future<JobResult> | Future<unknown> {
    this.#jobs.checkOpen();
    if (isTask(what)) return this.#submitTasks(what, [args])[0]!;
    const problems: JobFileProblem[] = [];
    const index = this.#seq++;
    const job = normalizeJob(
      what,
      index,
      { baseDir: process.cwd(), where: 'submit()', path: 'job' },
      problems,
    );
    if (!job) throw new JobFileError(problems);
    return this.submitJobs([job])[0]!;
  }

  /**
   * Calls `fn` on every item; yields results in input order. Submission happens at once for arrays and other
   * iterables (as in Python), as the source produces for async iterables, and at most `buffersize` ahead when set.
   * Leaving the loop early, or a timeout, cancels the futures that have not started. Nothing is submitted after
   * shutdown(): the loop rejects with its ShutdownError, after the results submitted before it.
   */
  map<A, R>(
    fn: Task<[A], R>,
    items: Iterable<A> | AsyncIterable<A>,
    opts: MapOptions = {},
  ): AsyncGenerator<Awaited<R>> {
    checkMapOptions(fn, items, opts);
    this.#jobs.checkOpen();
    return mapTasks<A, R>((args) => (this.#jobs.checkOpen(), this.#submitTasks(fn, args)), items, opts);
  }

  /**
   * Stops taking work. `wait` (default) resolves once submitted work is done and workers have exited;
   * `cancelFutures` cancels what has not started; `kill` also kills what is running.
   */
  async shutdown(opts: ShutdownOptions = {}): Promise<void> {
    checkShutdownOptions(opts);
    await this.#jobs.shutdown(
      opts,
      this,
      () => this.#close(),
      ({ wait, cancelFutures, kill }) => {
        // Nothing left is wanted: the pool stops holding the program open; running jobs are killed at its exit.
        if (!wait && (cancelFutures || kill)) this.pool.release();
      },
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }

  /** @internal Submits parsed jobs as one unit (a chunk) — the CLI's entry point. */
  submitJobs(jobs: Job[]): Future<JobResult>[] {
    return this.#submit(jobs, settleJob) as Future<JobResult>[];
  }

  #submit(jobs: Job[], settle: Entry['settle']): Future<unknown>[] {
    const entries = jobs.map((job): Entry => {
      const entry = { job, attempt: 0, started: 0, settle } as Entry;
      entry.future = new Future<unknown>(() => this.#cancelEntry(entry));
      this.#jobs.add(entry);
      return entry;
    });
    this.#runAttempts(this.mode === 'process' ? [entries] : entries.map((e) => [e]));
    return entries.map((e) => e.future);
  }

  /** @internal How many workers may be busy at once, 1 to maxWorkers (-w auto: sched/auto-runner.ts). */
  setWidth(n: number): void {
    this.pool.setWidth(n);
  }

  /** @internal Cancels every job not started (halt, deadline, signals): queued, sent ahead (withdrawn), retrying. */
  cancelPending(): void {
    // A failure from here is not retried (--halt soon starts none); queued attempts are cancelled, then withdrawn.
    this.#noMoreStarts = true;
    this.pool.drainQueue();
    for (const e of this.#jobs.values()) {
      if (e.retryTimer) {
        clearTimeout(e.retryTimer);
        delete e.retryTimer;
        this.#finishCancelled(e);
        continue;
      }
      // Withdrawn: ends cancelled, a retry's attempt too (its future is running).
      if ((!e.ticket || this.pool.withdraw(e.ticket)) && !e.future.done()) this.#finishCancelled(e);
      else if (e.future.state === 'pending') e.killed = true; // begun on its worker: its outcome, no retry
    }
  }

  /**
   * @internal Kills one job whatever its state (a queue worker told to stop a run): a pending one is cancelled,
   * a running one killed like killRunning() does, and it is not retried.
   */
  killJob<T>(future: Future<T>): void {
    for (const e of this.#jobs.values()) {
      if ((e.future as unknown) !== future) continue;
      e.killed = true;
      if (e.retryTimer) {
        clearTimeout(e.retryTimer);
        delete e.retryTimer;
        this.#finishCancelled(e);
      } else if (!e.ticket || this.pool.kill(e.ticket, 'cancel')) {
        this.#finishCancelled(e); // it was still in the queue
      } // else it reports through onDone: killed (cancelled) or skipped, never retried
      return;
    }
  }

  /**
   * @internal Kills a running job's attempt (its process tree, TERM then KILL) to run it again later, not as a
   * retry: once it has ended, `parked` gets the function that starts it again. While parked it waits as a job
   * waiting to be retried does (cancelPending cancels it). false when the job is not running.
   */
  evict(job: Job, reason: string, parked: (again: () => void) => void): boolean {
    for (const e of this.#jobs.values()) {
      if (e.job.index !== job.index || !e.ticket || e.killed || e.evicted) continue;
      e.evicted = (again) => {
        this.#jobs.emit({ event: 'requeued', job: e.job, attempt: e.attempt, reason, time: Date.now() });
        parked(again);
      };
      this.pool.kill(e.ticket, 'cancel');
      return true;
    }
    return false;
  }

  /** @internal Times a running job out now, as its own timeout would (--timeout N%: gnu/timeout.ts). */
  timeOut(job: Job): boolean {
    for (const e of this.#jobs.values())
      if (e.job.index === job.index && e.ticket && !e.killed)
        return (this.pool.kill(e.ticket, 'timeout'), true);
    return false;
  }

  /**
   * @internal Kills every running job: process trees TERM then KILL after `killAfter`; call workers ended.
   * With `now`, no grace: SIGKILL at once (a second Ctrl-C).
   */
  killRunning(opts: { now?: boolean } = {}): void {
    for (const e of this.#jobs.values()) {
      e.killed = true;
      if (e.ticket) this.pool.kill(e.ticket, 'cancel', opts.now ?? false);
    }
  }

  /**
   * @internal Resolves once every running shell job's process group is registered, or after `ms`: the CLI ends
   * a run that fails mid-way (bad input) by killing every registered group, and a job started a moment ago
   * must be among them.
   */
  spawnsKnown(ms: number): Promise<void> {
    return this.pool.spawnsKnown(ms);
  }

  #submitTasks(t: AnyTask, argLists: unknown[][]): Future<unknown>[] {
    const jobs = argLists.map((args) => callJob(t, args, this.#seq++));
    return this.#submit(jobs, settleTask);
  }

  #runAttempts(units: Entry[][], front = false): void {
    for (const unit of units) {
      const attempts = unit.map((e) => this.#attemptFor(e));
      const tickets = this.pool.submit(attempts, front);
      unit.forEach((e, i) => (e.ticket = tickets[i]!));
    }
  }

  #attemptFor(e: Entry): Attempt {
    e.attempt++;
    const attemptNo = e.attempt;
    return {
      job: e.job,
      onStart: (info) => {
        e.started = attemptNo;
        // (Attempt 1 again after an eviction: the future is running already.)
        if (attemptNo === 1 && e.future.state === 'pending') e.future.setRunning();
        if (this.#jobs.listening)
          this.#jobs.emit({
            event: 'started',
            job: e.job,
            attempt: attemptNo,
            ...info,
            time: info.startedAt,
          });
      },
      onOutput: (stream, data) => {
        const echoed = e.settle === settleTask ? echo(stream, data) : undefined;
        const time = Date.now();
        const held = this.#jobs.emit({ event: 'output', job: e.job, attempt: attemptNo, stream, data, time });
        return echoed && held ? Promise.all([echoed, held]) : (echoed ?? held);
      },
      onDone: (r) => this.#attemptDone(e, r),
    };
  }

  #attemptDone(e: Entry, r: AttemptResult): void {
    delete e.ticket;
    // Reported already (cancelled while its attempt was on its way to a worker): its future is done.
    if (!this.#jobs.isLive(e)) return;
    if (e.evicted && !e.killed) {
      const told = e.evicted;
      delete e.evicted;
      removeSpills(r);
      e.attempt--;
      // Parked as a job waiting for its retry is: cancelPending() ends it; `again` runs it.
      e.retryTimer = setTimeout(() => {}, 2 ** 31 - 1);
      told(() => {
        if (!e.retryTimer || !this.#jobs.isLive(e)) return;
        clearTimeout(e.retryTimer);
        delete e.retryTimer;
        this.#runAttempts([[e]]);
      });
      return;
    }
    if (r.skipped) {
      this.#finishCancelled(e);
      return;
    }
    delete e.evicted;
    const result = toResult(e.job, r, e.attempt);
    const retries = e.job.retries ?? this.#opts.retries ?? 0;
    // A job that could not be copied to a worker never ran: another attempt would fail the same way.
    const retryable =
      (r.status === 'failed' || r.status === 'timed-out') && !e.killed && r.error?.code !== NOT_SENDABLE;
    if (retryable && e.attempt <= retries) {
      const delayMs = backoff(e.job.retryDelayMs ?? this.#opts.retryDelay ?? 0, e.attempt);
      const stop = this.#noMoreStarts;
      const time = Date.now();
      if (!stop) this.#jobs.emit({ event: 'retry', job: e.job, attempt: e.attempt, result, delayMs, time });
      removeSpills(r);
      e.failed = result;
      if (stop) return this.#finishCancelled(e);
      // A timer counts from when this event-loop turn began, so a long turn fires it early: made good here.
      const due = performance.now() + delayMs;
      const again = () => {
        const left = due - performance.now();
        if (left > 0) e.retryTimer = setTimeout(again, Math.ceil(left));
        else {
          delete e.retryTimer;
          // Next, before the jobs queued behind it, as GNU parallel retries a job (its queue's unget).
          this.#runAttempts([[e]], true);
        }
      };
      again();
      return;
    }
    // Events are built only for a listener: the library's map() and submit() have none, a million times over.
    this.#jobs.finish(e, result, () => outputOf(r));
    e.settle(e.future, result, { value: r.value });
  }

  #cancelEntry(e: Entry): boolean {
    if (e.future.state !== 'pending') return false;
    if (e.ticket && !this.pool.cancel(e.ticket)) return false;
    // Cancelled through the future: the future marks itself; report the job as finished-cancelled.
    queueMicrotask(() => this.#reportCancelled(e));
    return true;
  }

  #finishCancelled(e: Entry): void {
    if (e.ticket) this.pool.cancel(e.ticket);
    if (!this.#jobs.isLive(e)) return;
    // A started future (its retry waiting) is not cancelled, as in Python: it ends cancelled all the same.
    if (!e.future.forceCancel() && !e.future.done())
      e.settle(e.future, cancelledResult(e.job, e.started, e.failed));
    this.#reportCancelled(e);
  }

  #reportCancelled(e: Entry): void {
    if (this.#jobs.isLive(e)) this.#jobs.finish(e, cancelledResult(e.job, e.started, e.failed));
  }

  async #close(): Promise<void> {
    await Promise.all(this.#jobs.values().map((e) => e.future.settled()));
    await this.pool.close();
    forgetAtExit(this.#endAtExit);
    // Its watchdog helper would otherwise live as long as this process.
    this.#ownGroups?.close();
    if (!this.#opts.spillDir) rmSync(this.#capture.spillDir, { recursive: true, force: true });
  }
}
