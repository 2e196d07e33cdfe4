/**
 * QueueExecutor: the JobRunner of `poolrun --queue URL`. Jobs go to a BullMQ queue in Redis; `poolrun worker`
 * processes on any number of hosts run them on their local pools and report back through BullMQ's event
 * stream. What a worker reports becomes the same ExecutorEvents a local Executor emits, so cli/run.ts prints,
 * halts, stops and exits exactly as in a local run.
 *
 * Stopping: a run has a state key in Redis that its producer keeps alive (workers skip the jobs of a run whose
 * key says `cancel` or `kill`, or has expired because its producer died); cancelPending() also removes the
 * run's waiting jobs; killRunning() publishes on the control channel, and workers kill that run's jobs.
 */
import { randomBytes } from 'node:crypto';
import type { Queue, QueueEvents } from 'bullmq';
import type { Redis as RedisClient } from 'ioredis';
import type { Job, JobResult } from '../kinds/types.js';
import { Future } from '../executor/future.js';
import type { JobOutput, ShutdownOptions } from '../executor/executor.js';
import { JobTracker } from '../executor/tracker.js';
import { cancelledResult } from '../executor/results.js';
import { checkShutdownOptions } from '../executor/options.js';
import { bulkJobs, failedResult, progressEvent, readStored, readWire } from './events.js';
import type { JobRunner } from '../executor/runner.js';
import { formatDuration } from '../util/duration.js';
import { redactText } from '../util/redact.js';
import { bounded, type QueueLibs, type RedisLink } from './connect.js';
import {
  ADD_BATCH,
  KILL_GRACE_MS,
  NO_WORKER_HINT_MS,
  SWEEP_AFTER_MS,
  type QueueRunnerOptions,
  type QueueSettings,
} from './settings.js';
import { checkProgress } from './validate.js';
import { advanceRun, closeRun, openRun } from './run-state.js';
import {
  CONTROL_CHANNEL,
  bullJobId,
  expireJobKeys,
  resultKey,
  type CaptureRequest,
  type RunState,
  type WireResult,
} from './protocol.js';

export type { QueueRunnerOptions, QueueSettings } from './settings.js';

type EntryState = 'local' | 'adding' | 'queued' | 'running' | 'done';

interface Entry {
  job: Job;
  id: string;
  future: Future<JobResult>;
  state: EntryState;
  /** Highest attempt number a worker reported. */
  attempts: number;
  lastSeen: number;
}

export class QueueExecutor implements JobRunner {
  readonly runId = `r${randomBytes(6).toString('hex')}`;
  readonly #libs: QueueLibs;
  readonly #link: RedisLink;
  readonly #client: RedisClient;
  readonly #queue: Queue;
  readonly #events: QueueEvents;
  readonly #settings: QueueSettings;
  readonly #opts: QueueRunnerOptions;
  readonly #capture: CaptureRequest;
  /** Submitted, not yet finished, by BullMQ job id; their events; the shutdown sequence (as the Executor's). */
  readonly #jobs: JobTracker<Entry, string>;
  #batch: Entry[] = [];
  #flushScheduled = false;
  /** addBulk calls, in order. */
  #adding: Promise<void> = Promise.resolve();
  /** Run-state writes and removals, in order. */
  #control: Promise<void> = Promise.resolve();
  #state: RunState = 'run';
  #lost: Error | undefined;
  #anyStarted = false;
  #hinted = false;
  #timers: NodeJS.Timeout[] = [];

  constructor(
    libs: QueueLibs,
    link: RedisLink,
    client: RedisClient,
    queue: Queue,
    events: QueueEvents,
    settings: QueueSettings,
    opts: QueueRunnerOptions,
  ) {
    this.#libs = libs;
    this.#link = link;
    this.#client = client;
    this.#queue = queue;
    this.#events = events;
    this.#settings = settings;
    this.#opts = opts;
    this.#jobs = new JobTracker<Entry, string>({ onEvent: opts.onEvent, key: (e) => e.id });
    this.#capture = {
      limit: opts.captureLimit ?? 1024 * 1024,
      keep: opts.capture?.keep ?? true,
      stream: opts.capture?.stream ?? false,
    };
  }

  get pending(): number {
    return this.#jobs.size;
  }

  /**
   * How long the run key lives without a refresh: past it, workers take the producer for dead. It outlives
   * a Redis outage the producer still waits out (--queue-timeout) and a missed refresh.
   */
  get #aliveMs(): number {
    return 2 * this.#settings.timeoutMs + 10_000;
  }

  /** @internal */
  async start(): Promise<void> {
    await openRun(this.#client, this.runId, this.#aliveMs, this.#opts.deadlineMs);
    this.#events.on('progress', ({ jobId, data }) => this.#onProgress(jobId, data));
    this.#events.on('completed', ({ jobId, returnvalue }) =>
      this.#onCompleted(jobId, returnvalue as unknown as WireResult | string),
    );
    this.#events.on('failed', ({ jobId, failedReason }) => this.#onFailed(jobId, failedReason));
    this.#events.on('removed', ({ jobId }) => this.#onRemoved(jobId));
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#aliveMs / 4, () => void this.#advance(this.#state).catch(() => {}));
    every(SWEEP_AFTER_MS / 2, () => void this.#sweep());
    this.#link.watch((e) => this.#onLost(e));
  }

  submitJobs(jobs: Job[]): Future<JobResult>[] {
    this.#jobs.checkOpen();
    return jobs.map((job) => {
      let id = bullJobId(this.runId, job.id);
      // Job ids are unique in a job file; a library caller may repeat one: it must not replace the first.
      if (this.#jobs.has(id)) id = `${id}@${job.index}`;
      const entry = { job, id, state: 'local', attempts: 0 } as Entry;
      entry.lastSeen = Date.now();
      entry.future = new Future<JobResult>(() => this.#cancelLocal(entry));
      this.#jobs.add(entry);
      if (this.#lost) {
        this.#finish(entry, failedResult({ job, attempts: 0 }, this.#lost.message));
        return entry.future;
      }
      this.#batch.push(entry);
      this.#scheduleFlush();
      return entry.future;
    });
  }

  cancelPending(): void {
    if (this.#state === 'run') this.#state = 'cancel';
    for (const e of this.#batch.splice(0)) this.#finish(e, cancelledResult(e.job, 0));
    this.#afterAdding(async () => {
      await this.#advance(this.#state);
      // Waiting jobs are taken out of the queue; a job a worker has already taken reports by itself (the
      // worker skips it, seeing the run's state, or it was already running).
      await Promise.all(
        this.#jobs
          .values()
          .filter((e) => e.state === 'queued')
          .map(async (e) => {
            const state = await this.#queue.getJobState(e.id);
            if (!['waiting', 'delayed', 'prioritized', 'paused'].includes(state)) return;
            if ((await this.#queue.remove(e.id)) === 1 && e.state === 'queued')
              this.#finish(e, cancelledResult(e.job, e.attempts));
          }),
      );
    });
  }

  /** `now` (a second Ctrl-C): the workers have been told and kill without us; do not wait for them. */
  killRunning(opts: { now?: boolean } = {}): void {
    if (this.#state !== 'kill') {
      this.#state = 'kill';
      this.#afterAdding(async () => {
        await this.#advance('kill');
        await this.#client.publish(CONTROL_CHANNEL, JSON.stringify({ runId: this.runId, action: 'kill' }));
      });
      // Workers kill within their --kill-after and report. One that died meanwhile cannot: do not wait forever.
      const grace = (this.#opts.killAfter ?? 5000) + KILL_GRACE_MS;
      const t = setTimeout(
        () => this.#giveUp(`no worker confirmed that the job was killed within ${formatDuration(grace)}`),
        grace,
      );
      t.unref();
      this.#timers.push(t);
    }
    if (opts.now) this.#giveUp('killed on its worker; not waiting for the confirmation (second Ctrl-C)');
  }

  #advance(state: RunState): Promise<void> {
    return advanceRun(this.#client, this.runId, state, this.#aliveMs);
  }

  #giveUp(why: string): void {
    for (const e of this.#jobs.values()) {
      const r = cancelledResult(e.job, e.attempts);
      r.error = { name: 'CancelledError', message: why };
      this.#finish(e, r);
    }
  }

  async shutdown(opts: ShutdownOptions = {}): Promise<void> {
    checkShutdownOptions(opts);
    await this.#jobs.shutdown(
      opts,
      this,
      () => this.#close(),
      () => this.#flush(),
    );
  }

  async #close(): Promise<void> {
    await this.#jobs.whenIdle();
    for (const t of this.#timers) clearInterval(t);
    // Redis may be gone (the run was failed for it): every step is bounded, the disconnect at the end is not.
    const limit = this.#lost ? 0 : this.#settings.timeoutMs;
    await bounded(this.#control, limit);
    if (!this.#lost) await bounded(closeRun(this.#client, this.runId), limit);
    await bounded(this.#events.close(), Math.min(limit, 2000));
    await bounded(this.#queue.close(), Math.min(limit, 2000));
    await this.#link.close();
  }

  // ---------------------------------------------------------------------------------------------------------

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // After the current burst of submissions: one addBulk carries many jobs.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#batch.length) {
      const batch = this.#batch.splice(0, ADD_BATCH);
      for (const e of batch) e.state = 'adding';
      const bulk = bulkJobs(batch, this.runId, this.#capture, this.#settings.ttlMs, this.#opts);
      this.#adding = this.#adding
        .then(async () => {
          if (this.#lost) throw this.#lost;
          await this.#queue.addBulk(bulk);
          for (const e of batch) {
            if (e.state === 'adding') {
              e.state = 'queued';
              e.lastSeen = Date.now();
            }
          }
          this.#hintLater();
        })
        .catch((err: unknown) => {
          for (const e of batch)
            this.#finish(e, failedResult({ job: e.job, attempts: 0 }, redactText((err as Error).message)));
        });
    }
  }

  /** Runs `fn` once the jobs handed to addBulk so far are in Redis (so that they can be removed). */
  #afterAdding(fn: () => Promise<void>): void {
    const adding = this.#adding;
    this.#control = this.#control
      .then(() => adding)
      .then(() => (this.#lost ? undefined : fn()))
      .catch(() => {}); // Redis trouble: the link's watch reports it
  }

  #cancelLocal(e: Entry): boolean {
    if (e.state !== 'local') return false;
    this.#batch = this.#batch.filter((b) => b !== e);
    queueMicrotask(() => this.#finish(e, cancelledResult(e.job, 0)));
    return true;
  }

  #onProgress(jobId: string, data: unknown): void {
    const e = this.#jobs.get(jobId);
    // What a worker sends is read from Redis: a message of the wrong shape is ignored, never shown half.
    const p = checkProgress(data);
    if (!e || !p) return;
    e.lastSeen = Date.now();
    e.attempts = Math.max(e.attempts, p.attempts ?? 0);
    if (p.t === 'started') {
      e.state = 'running';
      this.#anyStarted = true;
      // Once: a retried job says `started` again.
      if (e.future.state === 'pending') e.future.setRunning();
    }
    this.#jobs.emit(progressEvent(e.job, p));
  }

  #onCompleted(jobId: string, value: WireResult | string): void {
    const e = this.#jobs.get(jobId);
    if (!e) return;
    const read = readWire(e, value, this.#capture);
    if (read !== 'stored') return this.#finish(e, read.result, read.output);
    // A large result, stored once under its own key.
    this.#client.get(resultKey(jobId)).then(
      (json) => {
        const stored = readStored(e, json, this.#capture);
        this.#finish(e, stored.result, stored.output);
      },
      () => {}, // Redis trouble: the link's watch reports it
    );
  }

  #onFailed(jobId: string, reason: unknown): void {
    const e = this.#jobs.get(jobId);
    // A reason is a worker's text: shown whole only when it is short (a line of a status display, not a log).
    const text = typeof reason === 'string' ? reason.slice(0, 4096) : 'the job failed in the queue';
    if (e) this.#finish(e, failedResult(e, text));
  }

  #onRemoved(jobId: string): void {
    const e = this.#jobs.get(jobId);
    // Our own removals finish their jobs as cancelled; anyone else's would leave the job waiting forever.
    if (e && e.state !== 'local' && e.state !== 'adding' && this.#state === 'run')
      this.#finish(e, failedResult(e, 'the job was removed from the queue by someone else'));
  }

  /** `output`: the exact bytes a worker sent; without them (a result made here) the result's own text. */
  #finish(e: Entry, result: JobResult, output?: JobOutput): void {
    if (e.state === 'done') return;
    e.state = 'done';
    this.#jobs.finish(e, result, () =>
      result.status === 'cancelled' && result.startedAt === null
        ? undefined
        : (output ?? {
            stdout: Buffer.from(result.stdout, 'utf8'),
            stderr: Buffer.from(result.stderr, 'utf8'),
          }),
    );
    // A future cancelled through cancel() is done already.
    if (!e.future.done()) e.future.setResult(result);
    if (!this.#lost) {
      // The result is read: the job's keys go after the run's time to live, whether or not BullMQ's own
      // age-based clean-up ever runs again on this queue.
      expireJobKeys(this.#client, e.id, this.#settings.ttlMs);
    }
  }

  /** Looks up jobs that have been quiet for long: their events may have been trimmed from the stream. */
  async #sweep(): Promise<void> {
    if (this.#lost) return;
    const now = Date.now();
    const quiet = this.#jobs
      .values()
      .filter((e) => (e.state === 'queued' || e.state === 'running') && now - e.lastSeen > SWEEP_AFTER_MS)
      .slice(0, 200);
    await Promise.all(
      quiet.map(async (e) => {
        try {
          const job = await this.#libs.bullmq.Job.fromId(this.#queue, e.id);
          e.lastSeen = Date.now();
          if (!job) {
            if (e.state !== 'done' && this.#state === 'run')
              this.#finish(e, failedResult(e, 'the job disappeared from the queue (was Redis restarted?)'));
            return;
          }
          if (job.finishedOn && job.failedReason) this.#onFailed(e.id, job.failedReason);
          else if (job.finishedOn) this.#onCompleted(e.id, job.returnvalue as WireResult);
        } catch {
          // Redis trouble: the link's watch reports it.
        }
      }),
    );
  }

  #hintLater(): void {
    if (this.#hinted || this.#opts.quiet) return;
    this.#hinted = true;
    const t = setTimeout(() => {
      if (!this.#anyStarted && this.#jobs.size > 0 && this.#state === 'run') {
        process.stderr.write(
          `poolrun: no worker has started a job of this run in ${formatDuration(NO_WORKER_HINT_MS)}; ` +
            `jobs wait in Redis at ${this.#link.shown} for: poolrun worker --queue URL\n`,
        );
      }
    }, NO_WORKER_HINT_MS);
    t.unref();
    this.#timers.push(t);
  }

  #onLost(err: Error): void {
    if (this.#lost) return;
    this.#lost = err;
    process.stderr.write(`poolrun: ${redactText(err.message)}\n`);
    for (const e of [...this.#batch.splice(0), ...this.#jobs.values()])
      this.#finish(e, failedResult(e, err.message));
  }
}
