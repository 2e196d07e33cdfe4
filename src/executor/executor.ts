/**
 * Executor: concurrent.futures for Node. submit() returns a Future; map() yields in input order; shutdown()
 * waits, cancels or kills. Retries live here (they are about a job, not a worker); the pool runs attempts.
 */
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync, rmSync } from 'node:fs';
import type { Job, JobResult } from '../kinds/types.js';
import type { CaptureOptions } from '../kinds/outcome.js';
import { WorkerPool, type Attempt, type AttemptResult, type Ticket } from '../pool/pool.js';
import type { PoolMode } from '../pool/handle.js';
import { ProcessGroups } from '../proc/groups.js';
import { Watchdog } from '../proc/watchdog.js';
import { carriesToken, procAvailable, readStat } from '../proc/owner.js';
import { Future } from './future.js';
import { isTask, type AnyTask, type Task } from './task.js';
import { normalizeJob } from '../jobs/normalize.js';
import { cancelledResult, settleJob, settleTask, toBuffer, toResult } from './results.js';
import { kindOf } from '../kinds/index.js';
import { JobFileError, ShutdownError, TimeoutError } from '../errors.js';
import type { JobFileProblem } from '../errors.js';
import { Deque } from '../util/deque.js';

export interface ExecutorOptions {
  /** Pool size; default: available cores. */
  maxWorkers?: number;
  /** Grace between SIGTERM and SIGKILL when a job is killed, in ms. Default 5000. */
  killAfter?: number;
  /** Retries for jobs that do not set their own. Default 0. */
  retries?: number;
  /** Wait before the first retry in ms; doubles for each further attempt. Default 0. */
  retryDelay?: number;
  /** Bytes of each output stream kept per job; past it the result is truncated. Default 1 MiB. */
  captureLimit?: number;
  /** Keep output for results (default true); stream it as `output` events; spill past the limit to a file. */
  capture?: { keep?: boolean; stream?: boolean; spill?: boolean };
  /**
   * Where spilled output goes. Given, it is the caller's: the executor leaves it for the caller to remove once it
   * has read the files (the CLI prints after shutdown). Default: a temp folder the executor removes at shutdown.
   */
  spillDir?: string;
  /**
   * Sees every job's life: queued, started, output, retry, finished. For an `output` event it may return a
   * promise: the job's further output is held back (its worker stops reading the job's pipes once about 1 MiB
   * is outstanding) until such promises settle — how a consumer that writes the output somewhere slow keeps
   * memory bounded.
   */
  onEvent?: (e: ExecutorEvent) => unknown;
  /** Shares one process-group registry (the CLI kills everything from it on exit). */
  groups?: ProcessGroups;
  /** Runs once in every worker before it takes work (Python's initializer); a worker whose initializer throws
   * never takes work, and after three such workers in a row every pending future fails with BrokenWorkerError. */
  initializer?: AnyTask;
  initargs?: unknown[];
}

export interface JobOutput {
  stdout: Buffer;
  stderr: Buffer;
  /** Everything the job printed, when it outgrew the capture limit (delete it when done with it). */
  stdoutFile?: string;
  stderrFile?: string;
}

export type ExecutorEvent =
  | { event: 'queued'; job: Job; time: number }
  /** The job waits for the jobs it runs `after` (src/sched/dispatch.ts); `queued` follows once they succeeded. */
  | { event: 'waiting'; job: Job; after: string[]; time: number }
  | {
      event: 'started';
      job: Job;
      attempt: number;
      worker: number;
      pid: number;
      threadId: number;
      /** The host the job runs on, when it is not this one (queue mode). */
      host?: string;
      time: number;
    }
  | { event: 'output'; job: Job; attempt: number; stream: 'stdout' | 'stderr'; data: Buffer; time: number }
  | { event: 'retry'; job: Job; attempt: number; result: JobResult; delayMs: number; time: number }
  /** Killed while running, to run again later (--memfree: memory below half of it); not a retry. */
  | { event: 'requeued'; job: Job; attempt: number; reason: string; time: number }
  | { event: 'finished'; job: Job; result: JobResult; output: JobOutput | undefined; time: number };

export interface MapOptions {
  /** One deadline in ms from the call, for the whole iteration (Python's semantics). */
  timeout?: number;
  /** Items per message to a worker process; no effect in a thread pool. */
  chunksize?: number;
  /** Submit at most this many items ahead of what has been yielded (bounded memory for long inputs). */
  buffersize?: number;
}

export interface ShutdownOptions {
  /** Wait for submitted work to finish and the workers to exit. Default true. */
  wait?: boolean;
  /** Cancel futures that have not started. Default false. */
  cancelFutures?: boolean;
  /** poolrun's addition: also kill running jobs (their process trees; a call's worker). Default false. */
  kill?: boolean;
}

/** A job as the library accepts it: the job file's shape (`{ run: 'echo hi', timeout: '2s' }`) or a command string. */
export type JobInput = string | Record<string, unknown>;

interface Entry {
  job: Job;
  /** A job's future resolves to its JobResult; a task's to the function's value (settle decides). */
  future: Future<unknown>;
  settle: (future: Future<unknown>, result: JobResult) => void;
  attempt: number;
  ticket?: Ticket;
  retryTimer?: NodeJS.Timeout;
  killed?: boolean;
  /** Killed to be run again later (--memfree, src/sched/): told to this, not counted as an attempt. */
  evicted?: (again: () => void) => void;
}

const DEFAULT_CAPTURE_LIMIT = 1024 * 1024;

export { cancelledResult, toResult } from './results.js';

export class Executor {
  readonly mode: PoolMode;
  readonly maxWorkers: number;
  protected readonly pool: WorkerPool;
  readonly #opts: ExecutorOptions;
  readonly #capture: CaptureOptions;
  readonly #live = new Set<Entry>();
  #seq = 0;
  #shutdown = false;
  #closing: Promise<void> | undefined;
  /** The registry this executor made for itself (none when the caller passed one): it ends with the executor. */
  readonly #ownGroups: ProcessGroups | undefined;
  /** Ends its workers and their jobs' process groups, at once: run when this process exits with it still open. */
  readonly #endAtExit: () => void;

  constructor(mode: PoolMode, opts: ExecutorOptions = {}) {
    this.mode = mode;
    // Even a library user's process may be SIGKILLed: its jobs' process groups must not outlive it.
    if (!opts.groups) this.#ownGroups = watchedGroups(opts.killAfter ?? 5000);
    const groups = opts.groups ?? this.#ownGroups!;
    this.#opts = opts = { ...opts, groups };
    this.maxWorkers = opts.maxWorkers ?? availableParallelism();
    if (!Number.isInteger(this.maxWorkers) || this.maxWorkers < 1) {
      throw new RangeError(`maxWorkers must be a positive integer, got ${opts.maxWorkers}`);
    }
    this.#capture = {
      keep: opts.capture?.keep ?? true,
      stream: opts.capture?.stream ?? false,
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
      if ([...this.#live].some((e) => kindOf(e.job).stop === 'group' && e.future.running()))
        killTokenCarriers(groups.token);
    };
    endAtExit(this.#endAtExit);
  }

  /** Jobs submitted and not yet finished. */
  get pending(): number {
    return this.#live.size;
  }

  /**
   * Submits a job (`{ run: 'echo hi' }`, a command string, copy/download/call objects) → Future<JobResult>,
   * or a task and its arguments → Future of the function's (awaited) return value.
   */
  submit<A extends unknown[], R>(fn: Task<A, R>, ...args: A): Future<Awaited<R>>;
  submit(job: JobInput): Future<JobResult>;
  submit(what: AnyTask | JobInput, ...args: unknown[]): Future<JobResult> | Future<unknown> {
    this.#checkOpen();
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
   * Leaving the loop early, or a timeout, cancels the futures that have not started.
   */
  map<A, R>(
    fn: Task<[A], R>,
    items: Iterable<A> | AsyncIterable<A>,
    opts: MapOptions = {},
  ): AsyncGenerator<Awaited<R>> {
    this.#checkOpen();
    const chunksize = Math.max(1, Math.floor(opts.chunksize ?? 1));
    const buffersize = opts.buffersize;
    if (buffersize !== undefined && (!Number.isInteger(buffersize) || buffersize < 1)) {
      throw new RangeError(`buffersize must be a positive integer, got ${buffersize}`);
    }
    const deadline = opts.timeout === undefined ? undefined : performance.now() + opts.timeout;
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
          for (const f of this.#submitTasks(
            fn,
            chunk.map((a) => [a]),
          ))
            futures.push(f as Future<Awaited<R>>);
          chunk = [];
        }
      }
      if (chunk.length)
        for (const f of this.#submitTasks(
          fn,
          chunk.map((a) => [a]),
        ))
          futures.push(f as Future<Awaited<R>>);
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

  /**
   * Stops taking work. `wait` (default) resolves once submitted work is done and workers have exited;
   * `cancelFutures` cancels what has not started; `kill` also kills what is running.
   */
  async shutdown(opts: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false, kill = false } = opts;
    this.#shutdown = true;
    if (cancelFutures || kill) this.cancelPending();
    if (kill) this.killRunning();
    // Nothing is left to run that the caller still wants: the pool stops holding the program open, and if the
    // program ends before its running jobs do, they are killed (at 'exit') instead of making it wait for them.
    if (!wait && (cancelFutures || kill)) this.pool.release();
    this.#closing ??= this.#close();
    if (wait) await this.#closing;
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
      const entry = { job, attempt: 0, settle } as Entry;
      entry.future = new Future<unknown>(() => this.#cancelEntry(entry));
      this.#live.add(entry);
      if (this.#opts.onEvent) this.#emit({ event: 'queued', job, time: Date.now() });
      return entry;
    });
    this.#runAttempts(this.mode === 'process' ? [entries] : entries.map((e) => [e]));
    return entries.map((e) => e.future);
  }

  /** @internal How many workers may be busy at once, 1 to maxWorkers (-w auto: sched/auto-runner.ts). */
  setWidth(n: number): void {
    this.pool.setWidth(n);
  }

  /** @internal Cancels every job that has not started (halt, deadline, signals). */
  cancelPending(): void {
    this.pool.drainQueue();
    for (const e of [...this.#live]) {
      if (e.future.state === 'pending') this.#finishCancelled(e);
      else if (e.retryTimer) {
        clearTimeout(e.retryTimer);
        delete e.retryTimer;
        this.#finishCancelled(e);
      }
    }
  }

  /**
   * @internal Kills one job whatever its state (a queue worker told to stop a run): a pending one is cancelled,
   * a running one killed like killRunning() does, and it is not retried.
   */
  killJob<T>(future: Future<T>): void {
    for (const e of this.#live) {
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
    for (const e of this.#live) {
      if (e.job.index !== job.index || !e.ticket || e.killed || e.evicted) continue;
      e.evicted = (again) => {
        this.#emit({ event: 'requeued', job: e.job, attempt: e.attempt, reason, time: Date.now() });
        parked(again);
      };
      this.pool.kill(e.ticket, 'cancel');
      return true;
    }
    return false;
  }

  /** @internal Times a running job out now, as its own timeout would (--timeout N%: gnu/timeout.ts). */
  timeOut(job: Job): boolean {
    for (const e of this.#live)
      if (e.job.index === job.index && e.ticket && !e.killed)
        return (this.pool.kill(e.ticket, 'timeout'), true);
    return false;
  }

  /**
   * @internal Kills every running job: process trees TERM then KILL after `killAfter`; call workers ended.
   * With `now`, no grace: SIGKILL at once (a second Ctrl-C).
   */
  killRunning(opts: { now?: boolean } = {}): void {
    for (const e of this.#live) {
      e.killed = true;
      if (e.ticket) this.pool.kill(e.ticket, 'cancel', opts.now ?? false);
    }
  }

  /**
   * @internal Resolves once every running shell job's process group is registered, or after `ms`: the CLI ends
   * a run that fails mid-way (bad input) by killing every registered group, and a job started a moment ago
   * must be among them.
   */
  async spawnsKnown(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.pool.spawnsKnown(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
  }

  #checkOpen(): void {
    if (this.#shutdown) throw new ShutdownError('cannot submit after shutdown()');
  }

  #submitTasks(t: AnyTask, argLists: unknown[][]): Future<unknown>[] {
    const jobs = argLists.map((args): Job => {
      const index = this.#seq++;
      const job: Job = {
        id: String(index + 1),
        index,
        kind: 'call',
        call: { module: t.module, export: t.export, args },
      };
      if (t.options.timeout !== undefined) job.timeoutMs = t.options.timeout;
      if (t.options.retries !== undefined) job.retries = t.options.retries;
      return job;
    });
    return this.#submit(jobs, settleTask);
  }

  #runAttempts(units: Entry[][]): void {
    for (const unit of units) {
      const attempts = unit.map((e) => this.#attemptFor(e));
      const tickets = this.pool.submit(attempts);
      unit.forEach((e, i) => (e.ticket = tickets[i]!));
    }
  }

  #attemptFor(e: Entry): Attempt {
    e.attempt++;
    const attemptNo = e.attempt;
    return {
      job: e.job,
      onStart: (info) => {
        // (Attempt 1 again after an eviction: the future is running already.)
        if (attemptNo === 1 && e.future.state === 'pending') e.future.setRunning();
        if (this.#opts.onEvent)
          this.#emit({ event: 'started', job: e.job, attempt: attemptNo, ...info, time: info.startedAt });
      },
      onOutput: (stream, data) =>
        this.#emit({ event: 'output', job: e.job, attempt: attemptNo, stream, data, time: Date.now() }),
      onDone: (r) => this.#attemptDone(e, r),
    };
  }

  #attemptDone(e: Entry, r: AttemptResult): void {
    delete e.ticket;
    // Reported already (cancelled while its attempt was on its way to a worker): its future is done.
    if (!this.#live.has(e)) return;
    if (e.evicted && !e.killed) {
      const told = e.evicted;
      delete e.evicted;
      removeSpills(r);
      e.attempt--;
      // Parked as a job waiting for its retry is: cancelPending() ends it; `again` runs it.
      e.retryTimer = setTimeout(() => {}, 2 ** 31 - 1);
      told(() => {
        if (!e.retryTimer || !this.#live.has(e)) return;
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
    const retryable = (r.status === 'failed' || r.status === 'timed-out') && !e.killed;
    if (retryable && e.attempt <= retries) {
      const delayMs = (e.job.retryDelayMs ?? this.#opts.retryDelay ?? 0) * 2 ** (e.attempt - 1);
      this.#emit({ event: 'retry', job: e.job, attempt: e.attempt, result, delayMs, time: Date.now() });
      removeSpills(r);
      const again = () => {
        delete e.retryTimer;
        this.#runAttempts([[e]]);
      };
      if (delayMs > 0) e.retryTimer = setTimeout(again, delayMs);
      else again();
      return;
    }
    this.#live.delete(e);
    // Events are built only for a listener: the library's map() and submit() have none, a million times over.
    if (this.#opts.onEvent) {
      const output: JobOutput = { stdout: toBuffer(r.stdout), stderr: toBuffer(r.stderr) };
      if (r.stdoutFile) output.stdoutFile = r.stdoutFile;
      if (r.stderrFile) output.stderrFile = r.stderrFile;
      this.#emit({ event: 'finished', job: e.job, result, output, time: Date.now() });
    }
    e.settle(e.future, result);
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
    if (!this.#live.has(e)) return;
    // A future that has started (one waiting to be retried) is not cancelled, as in Python: it finishes with a
    // cancelled result (a job) or a CancelledError (a task).
    if (!e.future.forceCancel() && !e.future.done()) e.settle(e.future, cancelledResult(e.job, e.attempt));
    this.#reportCancelled(e);
  }

  #reportCancelled(e: Entry): void {
    if (!this.#live.delete(e)) return;
    const result = cancelledResult(e.job, e.attempt);
    this.#emit({ event: 'finished', job: e.job, result, output: undefined, time: Date.now() });
  }

  #emit(ev: ExecutorEvent): PromiseLike<unknown> | undefined {
    const r = this.#opts.onEvent?.(ev);
    return isPromiseLike(r) ? r : undefined;
  }

  async #close(): Promise<void> {
    await Promise.all([...this.#live].map((e) => e.future.settled()));
    await this.pool.close();
    forgetAtExit(this.#endAtExit);
    // Its watchdog helper would otherwise live as long as this process.
    this.#ownGroups?.close();
    if (!this.#opts.spillDir) rmSync(this.#capture.spillDir, { recursive: true, force: true });
  }
}

export class ThreadPoolExecutor extends Executor {
  constructor(opts: ExecutorOptions = {}) {
    super('thread', opts);
  }
}

export class ProcessPoolExecutor extends Executor {
  constructor(opts: ExecutorOptions = {}) {
    super('process', opts);
  }
}

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as PromiseLike<unknown> | undefined)?.then === 'function';
}

function removeSpills(r: AttemptResult): void {
  for (const f of [r.stdoutFile, r.stderrFile]) if (f) rmSync(f, { force: true });
}

function toAsyncIterator<T>(items: Iterable<T> | AsyncIterable<T>): {
  sync?: Iterator<T>;
  async?: AsyncIterator<T>;
} {
  if (Symbol.iterator in Object(items)) return { sync: (items as Iterable<T>)[Symbol.iterator]() };
  return { async: (items as AsyncIterable<T>)[Symbol.asyncIterator]() };
}

/** A fresh name for a folder of spilled output (made when the first job spills). */
export function spillFolder(): string {
  return join(
    tmpdir(),
    `poolrun-${process.pid}-${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString('hex')}`,
  );
}

/**
 * Executors not yet closed, ended when this process exits however it does (the end of its code, process.exit(),
 * an uncaught error): a worker process busy in a call would otherwise run on, holding the program's stderr (and
 * a pipeline) open, and SIGKILL (synchronous, so it is done before the process is gone) is the one way to stop
 * a call that blocks its worker. Python's executors join their workers at exit instead; this is where poolrun
 * differs. One 'exit' listener for all of them.
 */
const openExecutors = new Set<() => void>();

function endAtExit(end: () => void): void {
  if (openExecutors.size === 0) process.on('exit', endAllAtExit);
  openExecutors.add(end);
}

function forgetAtExit(end: () => void): void {
  openExecutors.delete(end);
  if (openExecutors.size === 0) process.off('exit', endAllAtExit);
}

function endAllAtExit(): void {
  for (const end of openExecutors) end();
}

/**
 * SIGKILLs every process that carries the run's token (every job inherits it; see proc/owner.ts), and the group
 * of each that leads its own (a shell job). Synchronous, for an exit path; Linux only (/proc), elsewhere nothing.
 */
function killTokenCarriers(token: string): void {
  if (!procAvailable()) return;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || !carriesToken(pid, token)) continue;
    const stat = readStat(pid);
    try {
      process.kill(stat?.pgrp === pid ? -pid : pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
}

/** A process-group registry with a watchdog that kills the groups if this process dies without doing it. */
function watchedGroups(killAfterMs: number): ProcessGroups {
  return new ProcessGroups({ watchdog: new Watchdog({ killAfterMs }) });
}
