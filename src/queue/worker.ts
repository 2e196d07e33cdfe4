/**
 * `poolrun worker --queue URL`: takes jobs from the BullMQ queue and runs them on this host's local pool.
 * The BullMQ processor is in-process and hands each job to a local Executor (never BullMQ's sandboxed
 * processors, whose child is orphaned when the worker dies). Timeouts and retries are the local Executor's;
 * attempt numbers continue across workers, so a job re-run after its first worker died reports attempts 2.
 *
 * Stopping: the first SIGINT/SIGTERM stops taking jobs and lets running ones finish; a second one kills them and
 * returns them to the queue for another worker; a third kills everything at once.
 */
import { hostname } from 'node:os';
import type { Job as BullJob, Worker as BullWorker } from 'bullmq';
import type { Redis as RedisClient } from 'ioredis';
import { Executor, cancelledResult, type ExecutorEvent } from '../executor/executor.js';
import type { Job, JobResult } from '../kinds/types.js';
import type { PoolMode } from '../pool/handle.js';
import { printable } from '../util/text.js';
import { formatDuration } from '../util/duration.js';
import { bounded, openLink, type QueueLibs, type RedisLink } from './connect.js';
import { ProcessGroups } from '../proc/groups.js';
import { Watchdog } from '../proc/watchdog.js';
import { redactId, redactText } from '../util/redact.js';
import { redactError } from '../results/redacted.js';
import { checkWireJob } from './validate.js';
import { readableWorker, shownId, unreadableData } from './readable-worker.js';
import { advanceRun, runStateFor } from './run-state.js';
import { flushOutput, priorAttempts, reportEvent, type Reporter, type Tracked } from './worker-progress.js';
import {
  CONTROL_CHANNEL,
  PREFIX,
  QUEUE_NAME,
  WIRE_VERSION,
  INLINE_RESULT_LIMIT,
  boundResult,
  resultKey,
  runKey,
  type WireJob,
  type WireJobResult,
  type WireResult,
} from './protocol.js';

export interface WorkerOptions {
  url: string;
  workers: number;
  mode: PoolMode;
  /** BullMQ lock: a worker that has not renewed it for this long is taken for dead and its jobs re-run. */
  lockDurationMs: number;
  killAfterMs: number;
  /** Largest output kept per stream per job (a producer may ask for less). */
  captureLimit: number;
  /** How long to keep retrying an unreachable Redis before giving up. */
  timeoutMs: number;
  quiet: boolean;
}

/** How often the states of runs with running jobs are read (catches kill messages missed while reconnecting). */
const POLL_MS = 1000;
/** Problems of a refused message named in its failed reason. */
const MAX_PROBLEMS = 5;

export async function runWorker(opts: WorkerOptions): Promise<number> {
  const { libs, link, client } = await openLink(opts.url, opts.timeoutMs, 'worker');
  return new QueueWorker(libs, link, client, opts).serve();
}

class QueueWorker {
  readonly #host = hostname();
  readonly #libs: QueueLibs;
  readonly #link: RedisLink;
  readonly #client: RedisClient;
  readonly #opts: WorkerOptions;
  readonly #groups: ProcessGroups;
  readonly #executor: Executor;
  readonly #tracked = new Map<Job, Tracked>();
  readonly #reporter: Reporter;
  #bull: BullWorker | undefined;
  #signals = 0;
  #exitCode = 0;
  #finished: ((code: number) => void) | undefined;
  #stopping: Promise<void> | undefined;

  constructor(libs: QueueLibs, link: RedisLink, client: RedisClient, opts: WorkerOptions) {
    this.#libs = libs;
    this.#link = link;
    this.#client = client;
    this.#opts = opts;
    this.#reporter = { host: this.#host, quiet: opts.quiet, log: (line) => this.#log(line) };
    // A worker SIGKILLed mid-job must not leave its jobs running while BullMQ hands them to another worker:
    // the watchdog a local run uses kills their groups.
    this.#groups = new ProcessGroups({ watchdog: new Watchdog({ killAfterMs: opts.killAfterMs }) });
    this.#executor = new Executor(opts.mode, {
      maxWorkers: opts.workers,
      killAfter: opts.killAfterMs,
      captureLimit: opts.captureLimit,
      // Output is bounded in memory and never spilled: what is stored in Redis is cut to a limit anyway.
      capture: { keep: true, stream: true, spill: false },
      onEvent: (e) => this.#onEvent(e),
      groups: this.#groups,
      workerStdout: 'stderr',
    });
  }

  async serve(): Promise<number> {
    const killEverything = () => this.#groups.killAll();
    process.on('exit', killEverything);
    const done = new Promise<number>((resolve) => (this.#finished = resolve));
    const onSignal = (sig: NodeJS.Signals) => this.#onSignal(sig);
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const s of signals) process.on(s, onSignal);
    try {
      const sub = this.#link.client('worker-control');
      sub.on('message', (_channel: string, message: string) => this.#onControl(message));
      await sub.subscribe(CONTROL_CHANNEL);
      const lock = this.#opts.lockDurationMs;
      const Readable = readableWorker(this.#libs, this.#client, (line) => this.#log(line));
      this.#bull = new Readable(QUEUE_NAME, (job, token) => this.#process(job, token), {
        connection: this.#client,
        prefix: PREFIX,
        concurrency: this.#opts.workers,
        lockDuration: lock,
        stalledInterval: Math.max(500, Math.floor(lock / 2)),
        maxStalledCount: 1,
        // Seconds a fetch waits on an empty queue; close() waits for it, so a stopping worker leaves soon.
        drainDelay: 1,
      });
      const said = new Set<string>();
      this.#bull.on('error', (e: Error) => {
        // Connection trouble repeats while Redis is away; the link's watch judges it. Anything else, once.
        if (said.has(e.message) || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection is closed/.test(e.message))
          return;
        said.add(e.message);
        this.#log(`poolrun worker: ${redactText(e.message)}`);
      });
      await this.#bull.waitUntilReady();
      this.#link.watch((e) => {
        process.stderr.write(`poolrun worker: ${e.message}\n`);
        this.#exitCode = 1;
        // Even a drain already under way ends now: its jobs' results could not be stored anyway.
        for (const t of this.#tracked.values()) if (t.future) this.#executor.killJob(t.future);
        void this.#stop('kill');
        setTimeout(() => this.#finished?.(1), this.#opts.killAfterMs + 5000);
      });
      const poll = setInterval(() => void this.#pollRuns(), POLL_MS);
      poll.unref();
      this.#log(
        `poolrun worker: serving queue "${QUEUE_NAME}" at ${this.#link.shown} on ${this.#host} ` +
          `(pid ${process.pid}): ${this.#opts.workers} ${this.#opts.mode} workers, ` +
          `lock ${formatDuration(this.#opts.lockDurationMs)}`,
      );
      const code = await done;
      clearInterval(poll);
      return code;
    } catch (e) {
      await this.#stop('kill');
      throw this.#link.refused(e);
    } finally {
      for (const s of signals) process.off(s, onSignal);
      process.off('exit', killEverything);
    }
  }

  #onSignal(sig: NodeJS.Signals): void {
    this.#signals++;
    if (this.#signals === 1) {
      this.#log(
        `poolrun worker: ${sig}: taking no more jobs; finishing ${this.#tracked.size} running ` +
          '(signal again to kill them and give them back to the queue)',
      );
      void this.#stop('finish');
    } else if (this.#signals === 2) {
      this.#log(
        `poolrun worker: ${sig}: killing ${this.#tracked.size} running jobs; they go back to the queue`,
      );
      for (const t of this.#tracked.values()) {
        t.returning = true;
        if (t.future) this.#executor.killJob(t.future);
      }
    } else {
      this.#groups.killAll();
      this.#finished?.(sig === 'SIGINT' ? 130 : 143);
    }
  }

  /** finish: running jobs complete; kill: they are killed (Redis is gone, or start-up failed). */
  #stop(how: 'finish' | 'kill'): Promise<void> {
    this.#stopping ??= (async () => {
      const bull = this.#bull;
      if (how === 'kill') {
        for (const t of this.#tracked.values()) if (t.future) this.#executor.killJob(t.future);
      }
      // close() stops fetching and waits for the processors (forced when Redis is gone: nothing to report to).
      if (bull) {
        const closing = bull.close(how === 'kill');
        if (how === 'kill') await bounded(closing, 5000);
        else await closing.catch(() => {});
      }
      await this.#executor.shutdown({ wait: true, kill: how === 'kill' });
      this.#groups.watchdog?.close();
      await bounded(this.#link.close(), 5000);
      this.#finished?.(this.#exitCode);
    })();
    return this.#stopping;
  }

  async #process(bullJob: BullJob, token: string | undefined): Promise<WireResult> {
    // A message is input: one of the wrong shape fails its own job, with what is wrong, and nothing else.
    const unreadable = unreadableData(bullJob);
    const checked = unreadable === undefined ? checkWireJob(bullJob.data) : { problems: [unreadable] };
    if (checked.problems) {
      const shown = checked.problems.slice(0, MAX_PROBLEMS).map((p) => redactText(p));
      const more = checked.problems.length - shown.length;
      const why = `poolrun worker refused the job: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
      // The BullMQ id holds the job's id with `:` and `%` escaped (protocol.ts): unescaped to be redacted.
      const id = shownId(bullJob.id ?? '?');
      this.#log(`poolrun worker: ${printable(redactId(id))}: ${why}`);
      throw new this.#libs.bullmq.UnrecoverableError(why);
    }
    const data = checked.wire;
    const prior = priorAttempts(bullJob);
    // A run whose producer (or a worker, --halt) stopped it, past its --deadline, or whose producer died (its key
    // expired), gets nothing more started.
    const state = await runStateFor(this.#client, data);
    if (state !== 'run' || this.#stopping) {
      if (this.#stopping && state === 'run' && token) {
        await bullJob.moveToWait(token);
        throw new this.#libs.bullmq.WaitingError();
      }
      return { v: WIRE_VERSION, result: cancelledResult(data.job, prior.attempts) };
    }
    const job: Job = { ...data.job, retries: Math.max(0, (data.job.retries ?? 0) - prior.failures) };
    const t: Tracked = {
      bullJob,
      runId: data.runId,
      capture: data.capture,
      prior,
      failures: prior.failures,
      chain: Promise.resolve(),
      returning: false,
      out: { stdout: [], stderr: [], size: 0, attempt: 0 },
    };
    this.#tracked.set(job, t);
    try {
      const future = this.#executor.submitJobs([job])[0]!;
      t.future = future;
      await future.settled();
    } finally {
      this.#tracked.delete(job);
    }
    // --halt: this worker knows of the failure first; the run is stopped before its slot takes another job.
    const status = t.returning ? undefined : t.result?.status;
    if (data.halt && (status === 'failed' || status === 'timed-out')) await this.#halt(data.runId, data.halt);
    flushOutput(t);
    await t.chain;
    if (t.returning && token) {
      await bullJob.moveToWait(token);
      throw new this.#libs.bullmq.WaitingError();
    }
    const r = t.result ?? cancelledResult(job, 0);
    const result: JobResult = { ...r, attempts: prior.attempts + r.attempts };
    if (r.startedAt !== null) result.host = this.#host;
    return this.#wireResult(bullJob, data, boundResult(result, t.result && t.output, t.capture));
  }

  /** Small results travel in BullMQ's return value; large ones are stored once, under their own key. */
  async #wireResult(bullJob: BullJob, data: WireJob, bounded: WireJobResult): Promise<WireResult> {
    // Stored as a results file is: an error's message and stack masked (a call's error may quote a URL with its
    // password). Redis keeps it in places --queue-ttl does not reach (BullMQ's events stream).
    const result = bounded.error ? { ...bounded, error: redactError(bounded.error) } : bounded;
    const json = JSON.stringify(result);
    if (json.length <= INLINE_RESULT_LIMIT) return { v: WIRE_VERSION, result };
    await this.#client.set(resultKey(bullJob.id!), json, 'PX', data.ttlMs);
    return { v: WIRE_VERSION, stored: true };
  }

  #onEvent(e: ExecutorEvent): void {
    const t = this.#tracked.get(e.job);
    if (t) reportEvent(t, e, this.#reporter);
  }

  #onControl(message: string): void {
    try {
      const m = JSON.parse(message) as { runId?: unknown; action?: unknown };
      if (m.action === 'kill' && typeof m.runId === 'string') this.#killRun(m.runId);
    } catch {
      // not ours
    }
  }

  /** Stops a run as its producer's --halt would: no worker starts a job of it any more; `now` kills its jobs. */
  async #halt(runId: string, halt: 'soon' | 'now'): Promise<void> {
    try {
      await advanceRun(this.#client, runId, halt === 'now' ? 'kill' : 'cancel');
      if (halt === 'soon') return;
      this.#killRun(runId);
      await this.#client.publish(CONTROL_CHANNEL, JSON.stringify({ runId, action: 'kill' }));
    } catch {
      // Redis trouble: the link's watch reports it; the producer stops the run when the result reaches it.
    }
  }

  #killRun(runId: string): void {
    for (const t of this.#tracked.values()) {
      if (t.runId === runId && t.future) this.#executor.killJob(t.future);
    }
  }

  /** Kill messages are fire-and-forget: the runs' state keys are the truth, read here for runs we hold. */
  async #pollRuns(): Promise<void> {
    const runs = [...new Set([...this.#tracked.values()].map((t) => t.runId))];
    if (runs.length === 0 || this.#stopping) return;
    try {
      const states = await this.#client.mget(runs.map(runKey));
      runs.forEach((run, i) => {
        if (states[i] === 'run' || states[i] === 'cancel') return;
        if (states[i] === null)
          this.#log(`poolrun worker: run ${run} has no producer any more: killing its jobs`);
        this.#killRun(run);
      });
    } catch {
      // Redis trouble: the link's watch reports it.
    }
  }

  #log(line: string): void {
    if (!this.#opts.quiet) process.stderr.write(`${line}\n`);
  }
}
