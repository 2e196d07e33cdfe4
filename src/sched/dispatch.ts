/**
 * Between the CLI's reader and the runner (local executor or queue producer): a job starts once every job it
 * runs `after` has succeeded, and, with --delay/--memfree/--load, once the start gate says so. Jobs that
 * wait are held here, not in the runner, so a queue producer too only sends a job once its dependencies
 * succeeded. One call per job from the reader (take), one per finished job (finished), one per start (started).
 */
import { cancelledResult, type ExecutorEvent } from '../executor/executor.js';
import type { JobRunner } from '../executor/runner.js';
import type { Job, JobResult } from '../kinds/types.js';
import { DepTracker, type DepOutcome } from './deps.js';
import { POLL_MS, StartGate, type GateOptions } from './gate.js';
import { readMachine, type MachineReading } from './machine.js';

export interface DispatcherOptions {
  runner: JobRunner;
  workers: number;
  gate?: GateOptions | undefined;
  /** Events for the run's observers: `finished` (a job that will not run) and `waiting`. */
  emit: (e: ExecutorEvent) => void;
  read?: () => MachineReading;
}

/** The error of a job held here when the run stops (a halt, a deadline, a signal). */
const STOPPED = { name: 'CancelledError', message: 'not run: the run stopped while it waited' };

export class Dispatcher {
  private readonly deps = new DepTracker();
  private readonly gate: StartGate;
  private readonly ready: Job[] = [];
  /** Jobs killed for --memfree, each with the function that runs it again; started before `ready` ones. */
  private readonly parked: Array<{ job: Job; again: () => void }> = [];
  /** Running jobs (first attempt begun, not finished) and when they began: the youngest is evicted first. */
  private readonly running = new Map<number, { job: Job; since: number }>();
  /** An eviction on its way (its job not yet ended): one at a time. */
  private evicting = false;
  private watch: NodeJS.Timeout | undefined;
  /** Jobs waiting out a --retry-delay: the runner's pending jobs, on no worker (by index). */
  private readonly retryWait = new Set<number>();
  /** Submitted by the gate, not started yet: the next start waits for it (so starts are DUR apart). */
  private readonly inFlight = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ended = false;
  private onIdle: (() => void) | undefined;

  constructor(private readonly opts: DispatcherOptions) {
    const gate = opts.gate ?? {};
    const what = { mem: gate.memfree !== undefined, load: gate.load !== undefined };
    this.gate = new StartGate(gate, opts.read ?? (() => readMachine(what)));
  }

  /** Jobs held here: waiting for a dependency or for the gate. */
  get held(): number {
    return this.deps.held + this.ready.length + this.parked.length;
  }

  /** A held job names a job not read yet: the reader must read on (see DepTracker.needsInput). */
  get needsInput(): boolean {
    return this.deps.needsInput;
  }

  /**
   * A job read from the input. true: the caller submits it now, as it does without dependencies (nothing to
   * wait for and no gate); false: the dispatcher holds it, starts it later or reports it cancelled.
   */
  take(job: Job): boolean {
    const outs = this.deps.add(job);
    if (!this.gate.active && outs.length === 1 && outs[0]!.job === job && outs[0]!.ready) return true;
    if (outs.length === 0 && job.after)
      this.opts.emit({ event: 'waiting', job, after: job.after, time: Date.now() });
    this.handle(outs);
    return false;
  }

  /** A job --resume skipped: done in an earlier run, it counts as succeeded or failed, as the joblog says. */
  skipped(job: Job, succeeded: boolean): void {
    this.handle(this.deps.skipped(job, succeeded));
  }

  /** A job's attempt started: its first one, or one after --retry-delay (a worker is busy with it again). */
  started(job: Job, attempt = 1): void {
    if (attempt > 1) {
      this.retryWait.delete(job.index);
      return;
    }
    if (this.gate.watchesMemory) {
      this.running.set(job.index, { job, since: Date.now() });
      this.watchMemory();
    }
    if (this.inFlight.delete(job.index)) {
      this.gate.started(Date.now());
      this.pump();
    }
  }

  /**
   * A job that did not succeed, before the run reacts to it (a halt): its dependents end cancelled naming it.
   * Nothing starts here; finished() follows (and finds them settled already).
   */
  failed(result: JobResult): void {
    for (const o of this.deps.finished(result.index, result.status, result.id))
      if (!o.ready) this.report(o.job, o.error);
  }

  /** A job failed and waits for its retry: its worker is free for the gate meanwhile. */
  retrying(job: Job): void {
    this.retryWait.add(job.index);
    this.pump();
  }

  /** A job finished (whoever reported it): its dependents follow; a worker may be free for the gate. */
  finished(result: JobResult): void {
    this.retryWait.delete(result.index);
    this.inFlight.delete(result.index);
    this.running.delete(result.index);
    this.handle(this.deps.finished(result.index, result.status, result.id));
    this.pump();
    this.checkIdle();
  }

  /** Start nothing more: every held job is reported cancelled. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watch);
    // Parked jobs are the runner's (it cancels them with its pending ones).
    this.parked.length = 0;
    const waiting = this.ready.splice(0);
    const drained = this.deps.drain(() => STOPPED);
    for (const job of waiting) this.report(job, STOPPED);
    for (const o of drained) this.report(o.job, o.ready ? STOPPED : o.error);
    this.checkIdle();
  }

  /** The input has ended; resolves once no job is held (each started or reported cancelled). */
  idle(): Promise<void> {
    this.ended = true;
    // Ids never seen cannot come any more (the parser rejects them before the run; this is a safety net).
    const lost = this.deps.drain(
      (job) => ({
        name: 'DependencyError',
        message: `not run: a job it runs after (${(job.after ?? []).map((a) => `"${a}"`).join(', ')}) never came`,
      }),
      true,
    );
    for (const o of lost) this.report(o.job, o.ready ? undefined : o.error);
    if (this.held === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.onIdle = resolve;
      this.checkIdle();
    });
  }

  private handle(outs: DepOutcome[]): void {
    for (const o of outs) {
      if (!o.ready) this.report(o.job, o.error);
      else if (this.stopped) this.report(o.job, STOPPED);
      else if (!this.gate.active) this.opts.runner.submitJobs([o.job]);
      else this.ready.push(o.job);
    }
    if (this.ready.length) this.pump();
  }

  /** Starts what the gate lets start: one at a time, each once the one before has started. */
  private pump(): void {
    if (this.stopped || this.timer) return;
    while (this.ready.length || this.parked.length) {
      // A parked job, or one waiting for its retry, is the runner's pending job, not running.
      const busy = this.opts.runner.pending - this.parked.length - this.retryWait.size;
      if (this.inFlight.size > 0 || busy >= this.opts.workers) return;
      const wait = this.gate.wait(Date.now());
      if (wait !== undefined) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const park = this.parked.shift();
      if (park) {
        this.inFlight.add(park.job.index);
        park.again();
        continue;
      }
      const job = this.ready.shift()!;
      this.inFlight.add(job.index);
      this.opts.runner.submitJobs([job]);
    }
    this.checkIdle();
  }

  /**
   * --memfree: while jobs run, memory is looked at every POLL_MS; below half of SIZE, the youngest running job
   * is killed and put back, to start again when memory allows (GNU parallel's rule). One at a time.
   */
  private watchMemory(): void {
    if (this.watch || !this.opts.runner.evict) return;
    this.watch = setInterval(() => {
      if (this.stopped || this.running.size === 0) {
        clearInterval(this.watch);
        this.watch = undefined;
        return;
      }
      if (this.evicting || !this.gate.mustEvict()) return;
      let youngest: { job: Job; since: number } | undefined;
      for (const r of this.running.values()) if (!youngest || r.since >= youngest.since) youngest = r;
      const job = youngest!.job;
      const reason = 'available memory below half of --memfree: killed, to run again later (not a retry)';
      this.evicting = true;
      this.running.delete(job.index);
      const ok = this.opts.runner.evict!(job, reason, (again) => {
        this.evicting = false;
        // Stopped meanwhile: the runner's pending jobs were cancelled before this one was parked.
        if (this.stopped) return this.opts.runner.cancelPending();
        this.parked.push({ job, again });
        this.pump();
      });
      if (!ok) this.evicting = false;
    }, POLL_MS);
  }

  private report(job: Job, error: { name: string; message: string } | undefined): void {
    const result = cancelledResult(job, 0);
    if (error) result.error = error;
    this.opts.emit({ event: 'finished', job, result, output: undefined, time: Date.now() });
  }

  private checkIdle(): void {
    if (this.ended && this.onIdle && this.held === 0) {
      const f = this.onIdle;
      this.onIdle = undefined;
      f();
    }
  }
}
