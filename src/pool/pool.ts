/**
 * The pool: N workers behind one WorkerHandle interface, a queue of units (a unit is the batch of jobs one
 * message carries: `chunksize` in process mode), crash handling and timeouts. It knows nothing of futures,
 * retries or printing; it runs attempts and reports how each ended.
 */
import type { Job, JobStatus, SerializedError } from '../kinds/types.js';
import type { CaptureOptions, FromWorker, Outcome, WorkerInit } from './protocol.js';
import { OUTPUT_ACK_STEP } from './protocol.js';
import type { PoolMode, WorkerExit, WorkerHandle } from './handle.js';
import { ThreadWorker } from './thread.js';
import { ProcessWorker } from './process.js';
import { adoptPrestarted } from './prestart.js';
import { ProcessGroups } from '../proc/groups.js';
import { Deque } from '../util/deque.js';
import { kindOf } from '../kinds/index.js';
import { emptyOutcome } from '../kinds/outcome.js';

export interface StartInfo {
  worker: number;
  pid: number;
  threadId: number;
  startedAt: number;
}

export interface AttemptResult extends Outcome {
  status: JobStatus;
  worker: number | null;
  pid: number | null;
  threadId: number | null;
  /** The pool killed it: `timeout` for --timeout, `cancel` for halt/deadline/signals. */
  killedFor?: KillReason;
}

/** One attempt of one job, as the executor hands it to the pool. */
export interface Attempt {
  readonly job: Job;
  onStart(info: StartInfo): void;
  /**
   * A piece of streamed output. A returned promise says it is not printed yet: the worker is told it may send
   * more (flow control) once it settles.
   */
  onOutput(stream: 'stdout' | 'stderr', data: Buffer): PromiseLike<unknown> | undefined;
  onDone(result: AttemptResult): void;
}

export type KillReason = 'timeout' | 'cancel';

/** The pool's handle on a submitted attempt. */
export interface Ticket {
  readonly attempt: Attempt;
}

type TicketState = 'queued' | 'sent' | 'running' | 'done' | 'cancelled';

interface Tracked extends Ticket {
  key: number;
  state: TicketState;
  slot?: Slot;
  pgid?: number;
  killReason?: KillReason;
  /** Killed with no grace (a second Ctrl-C): SIGKILL, and a worker ended rather than asked. */
  killNow?: boolean;
  timer?: NodeJS.Timeout;
  abortTimer?: NodeJS.Timeout;
  start?: StartInfo;
  /** Streamed output bytes printed and not yet acknowledged to the worker. */
  taken?: number;
}

interface Slot {
  id: number;
  handle: WorkerHandle;
  state: 'starting' | 'idle' | 'busy' | 'closing';
  /** Every job sent to this worker and not yet reported, in the order it runs them; the first runs now. */
  jobs: Deque<Tracked>;
  everReady: boolean;
  /** Moving average of how long this worker's jobs take (ms, as the worker measured them); unset until one ends. */
  avgMs?: number;
}

export interface PoolOptions {
  mode: PoolMode;
  size: number;
  killAfterMs: number;
  groups?: ProcessGroups;
  init?: WorkerInit;
  /** How workers keep the output of the jobs they run: the same for every job, so sent once per batch. */
  capture: CaptureOptions;
  /**
   * Makes the worker of slot `id` (1..size). By default a thread or a process as `mode` says (or the CLI's
   * pre-started one); the pool's unit tests give fake ones.
   */
  startWorker?: (id: number) => WorkerHandle;
}

/** Consecutive workers that die before they are ready: past this the pool gives up instead of respawning forever. */
const MAX_STARTUP_FAILURES = 3;

/**
 * A worker whose jobs are short gets the next ones before it has finished the current one, so it never waits
 * for a round trip through the main thread (which, for tiny calls, costs more than the calls). It is given at
 * most PREFETCH_MS of work ahead, judged by the average duration of its jobs so far: a job that turns out long
 * holds back at most that much work that another worker could have run. A worker with no history gets none.
 */
const PREFETCH_MS = 10;
const MAX_PREFETCH = 256;

/** A Buffer, so that the executor takes it as it is (a fresh Buffer view per result adds up over a million). */
const EMPTY = Buffer.alloc(0);

export class WorkerPool {
  readonly mode: PoolMode;
  readonly size: number;
  readonly groups: ProcessGroups;
  private readonly killAfterMs: number;
  private readonly init: WorkerInit | undefined;
  private readonly capture: CaptureOptions;
  private readonly startWorker: ((id: number) => WorkerHandle) | undefined;
  private readonly queue = new Deque<Tracked[]>();
  private readonly slots: (Slot | undefined)[];
  private readonly byKey = new Map<number, Tracked>();
  private nextKey = 1;
  private dispatchQueued = false;
  private startupFailures = 0;
  private broken: SerializedError | undefined;
  private closing = false;
  /** The executor no longer holds the program open (shutdown without wait, nothing left queued). */
  private released = false;
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  private spawnWaiters: Array<() => void> = [];
  /** How many workers may be busy at once: `size`, unless -w auto narrows it (setWidth; sched/auto-runner.ts). */
  private width: number;

  constructor(opts: PoolOptions) {
    this.mode = opts.mode;
    this.size = Math.max(1, Math.floor(opts.size));
    this.killAfterMs = opts.killAfterMs;
    this.groups = opts.groups ?? new ProcessGroups();
    this.init = opts.init;
    this.capture = opts.capture;
    this.startWorker = opts.startWorker;
    this.slots = new Array<Slot | undefined>(this.size).fill(undefined);
    this.width = this.size;
  }

  /** Lets at most `n` (1 to size) workers be busy from now on; running jobs are never stopped for it. */
  setWidth(n: number): void {
    const w = Math.max(1, Math.min(this.size, Math.floor(n)));
    const wider = w > this.width;
    this.width = w;
    if (wider) this.scheduleDispatch();
  }

  /** Queues attempts that must run on one worker, in order (a chunk). */
  submit(unit: Attempt[]): Ticket[] {
    const tracked = unit.map((attempt): Tracked => ({ attempt, key: this.nextKey++, state: 'queued' }));
    if (this.broken) {
      for (const t of tracked) this.finish(t, failedOutcome(this.broken), undefined);
      return tracked;
    }
    this.queue.push(tracked);
    this.scheduleDispatch();
    return tracked;
  }

  /**
   * Removes an attempt that has not started: a queued one, or one sent ahead to a busy worker (the worker is told
   * to skip it; should it have started it already, its result is dropped). False once it runs.
   */
  cancel(ticket: Ticket): boolean {
    const t = ticket as Tracked;
    if (t.state === 'sent' && t.slot && t.slot.jobs.peek() !== t && !t.killReason) {
      t.state = 'cancelled';
      t.slot.handle.send({ type: 'skip', key: t.key });
      return true;
    }
    if (t.state !== 'queued') return t.state === 'cancelled';
    t.state = 'cancelled';
    return true;
  }

  /**
   * Stops an attempt whatever its state: a queued one is dropped (returns true), one waiting in a worker's
   * batch is skipped, a running one is killed (its process group TERM then KILL; a call's worker is ended).
   * The attempt still reports through onDone, unless it was dropped from the queue. With `now`, there is no
   * grace: SIGKILL instead of SIGTERM, and a copy/download's worker is ended instead of asked to stop.
   */
  kill(ticket: Ticket, reason: KillReason, now = false): boolean {
    const t = ticket as Tracked;
    switch (t.state) {
      case 'queued':
        return this.cancel(t);
      case 'sent':
        t.killReason ??= reason;
        if (now) t.killNow = true;
        t.slot?.handle.send({ type: 'skip', key: t.key });
        return false;
      case 'running':
        t.killReason ??= reason;
        if (now) t.killNow = true;
        this.stopRunning(t);
        return false;
      default:
        return false;
    }
  }

  /** Queued attempts, removed from the queue (for halt, deadline, signals and shutdown({cancelFutures})). */
  drainQueue(): Attempt[] {
    const out: Attempt[] = [];
    for (const unit of this.queue.drain()) {
      for (const t of unit) {
        if (t.state === 'queued') {
          t.state = 'cancelled';
          out.push(t.attempt);
        }
      }
    }
    return out;
  }

  /**
   * Lets queued work finish, then ends every worker. With `force`, ends them now (running jobs are killed by
   * the caller first; this only reaps the workers).
   */
  close(force = false): Promise<void> {
    this.closing = true;
    this.closed ??= new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    for (const slot of this.slots) {
      if (!slot) continue;
      if (force) {
        slot.state = 'closing';
        if (!this.released) slot.handle.ref();
        slot.handle.kill();
      } else if (slot.state === 'idle' || (slot.state === 'starting' && this.queue.length === 0)) {
        this.closeSlot(slot);
      }
    }
    this.checkClosed();
    return this.closed;
  }

  /** Stops holding the event loop open: busy workers are unref'd too, and no worker is ref'd again. */
  release(): void {
    this.released = true;
    for (const slot of this.slots) slot?.handle.unref();
  }

  /**
   * Resolves once every running shell job's process group is known here: its worker has said `spawned` (or the
   * job has ended without a process). A job's process exists a moment before its worker's message does; one
   * that ends the run early (bad input) waits for this, so that killing every known group leaves none behind.
   */
  spawnsKnown(): Promise<void> {
    if (!this.awaitingSpawn()) return Promise.resolve();
    return new Promise((resolve) => this.spawnWaiters.push(resolve));
  }

  // ---------------------------------------------------------------------------------------------------------

  private awaitingSpawn(): boolean {
    for (const t of this.byKey.values()) {
      if (t.state === 'running' && t.pgid === undefined && kindOf(t.attempt.job).stop === 'group')
        return true;
    }
    return false;
  }

  private checkSpawnWaiters(): void {
    if (this.spawnWaiters.length && !this.awaitingSpawn()) for (const w of this.spawnWaiters.splice(0)) w();
  }

  private scheduleDispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    // Deferred so that a burst of submissions made in one tick is seen whole (chunking, lazy worker start).
    queueMicrotask(() => {
      this.dispatchQueued = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    const narrowed = this.width < this.size;
    let busy = narrowed ? this.slots.filter((s) => s?.state === 'busy').length : 0;
    for (const slot of this.slots) {
      if (slot?.state !== 'idle') continue;
      if (narrowed && busy >= this.width) break;
      const unit = this.nextUnit();
      if (!unit) break;
      this.assign(slot, unit);
      busy++;
    }
    let starting = 0;
    for (const s of this.slots) if (s?.state === 'starting') starting++;
    let need = this.queue.length - starting;
    if (narrowed) need = Math.min(need, this.width - busy - starting);
    for (let i = 0; i < this.size && need > 0; i++) {
      if (!this.slots[i]) {
        this.spawn(i + 1);
        need--;
      }
    }
    // Work ahead for busy workers, only while no worker is starting (a starting worker takes the queue first).
    if (this.queue.length && !starting && !this.slots.includes(undefined)) {
      for (const slot of this.slots) if (slot?.state === 'busy') this.prefetch(slot);
    }
    if (this.closing) {
      for (const slot of this.slots) if (slot?.state === 'idle') this.closeSlot(slot);
    }
  }

  /** How many jobs a worker may hold (running and waiting), from how long its jobs have taken. */
  private capacity(slot: Slot): number {
    if (slot.avgMs === undefined) return 1;
    return Math.max(1, Math.min(MAX_PREFETCH, Math.floor(PREFETCH_MS / Math.max(slot.avgMs, 0.01))));
  }

  private prefetch(slot: Slot): void {
    const cap = this.capacity(slot);
    const held = slot.jobs.length;
    // Topped up once half is used, so one message carries many jobs.
    if (held > cap / 2) return;
    const room = cap - held;
    const sent: Tracked[] = [];
    while (sent.length < room) {
      const unit = this.nextUnit(true);
      if (!unit) break;
      sent.push(...unit);
    }
    if (sent.length) this.send(slot, sent);
  }

  /**
   * The next unit with anything left to run. `ahead`: only if every job in it is of a kind that may be sent
   * ahead to a busy worker (calls, as Python's process pool queues calls ahead): the others wait for a free
   * worker, so `--halt` never finds one already handed over.
   */
  private nextUnit(ahead = false): Tracked[] | undefined {
    for (let unit = this.queue.peek(); unit; unit = this.queue.peek()) {
      const live = unit.filter((t) => t.state === 'queued');
      if (ahead && live.some((t) => !kindOf(t.attempt.job).sendAhead)) return undefined;
      this.queue.shift();
      if (live.length) return live;
    }
    return undefined;
  }

  private spawn(id: number): void {
    let handle = this.startWorker?.(id);
    if (!handle && !this.init) {
      // The CLI's first worker may be up already (prestart.ts); it was left unref'd until wanted.
      handle = adoptPrestarted(this.mode);
      handle?.ref();
    }
    // Every job carries the token of the run's process groups: a process with it is one of ours (proc/owner.ts).
    const token = this.groups.token;
    handle ??=
      this.mode === 'thread' ? new ThreadWorker(this.init, token) : new ProcessWorker(this.init, token);
    const slot: Slot = { id, handle, state: 'starting', jobs: new Deque(), everReady: false };
    this.slots[id - 1] = slot;
    handle.onMessage((m) => this.onMessage(slot, m));
    handle.onExit((e) => this.onExit(slot, e));
  }

  private assign(slot: Slot, unit: Tracked[]): void {
    slot.state = 'busy';
    slot.jobs = new Deque();
    if (!this.released) slot.handle.ref();
    this.send(slot, unit);
    this.begin(slot);
  }

  private send(slot: Slot, jobs: Tracked[]): void {
    for (const t of jobs) {
      t.state = 'sent';
      t.slot = slot;
      this.byKey.set(t.key, t);
      slot.jobs.push(t);
    }
    slot.handle.send({
      type: 'batch',
      worker: slot.id,
      capture: this.capture,
      jobs: jobs.map((t) => ({ key: t.key, job: t.attempt.job })),
    });
  }

  /** The worker runs its jobs in order, so the next job starts when the previous one is done. */
  private begin(slot: Slot): void {
    const t = slot.jobs.peek();
    // A skipped or dropped job reports 'done' (skipped) by itself.
    if (!t || t.killReason || t.state === 'cancelled') return;
    t.state = 'running';
    t.start = {
      worker: slot.id,
      pid: slot.handle.pid,
      threadId: slot.handle.threadId,
      startedAt: Date.now(),
    };
    this.armTimeout(t);
    t.attempt.onStart(t.start);
  }

  private armTimeout(t: Tracked): void {
    const ms = t.attempt.job.timeoutMs;
    if (ms === undefined) return;
    clearTimeout(t.timer);
    t.timer = setTimeout(() => this.kill(t, 'timeout'), ms);
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        slot.everReady = true;
        this.startupFailures = 0;
        if (slot.state === 'starting') {
          slot.state = 'idle';
          slot.handle.unref();
          this.dispatch();
        }
        return;
      case 'spawned': {
        const t = this.byKey.get(m.key);
        if (!t) return;
        t.pgid = m.pid;
        this.groups.add(m.pid, slot.handle.pid);
        if (t.killNow) this.groups.kill(m.pid);
        else if (t.killReason) this.groups.terminate(m.pid, this.killAfterMs);
        // A shell job's limit counts from when its process exists, not from when it was handed to the worker:
        // dispatch and fork/exec took tens of ms under load, and a job with 300ms was killed after 241ms.
        else this.armTimeout(t);
        this.checkSpawnWaiters();
        return;
      }
      case 'output': {
        const t = this.byKey.get(m.key);
        if (!t) return;
        const n = m.data.byteLength;
        const printed = t.attempt.onOutput(
          m.stream,
          Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
        );
        if (!printed) this.outputTaken(slot, t, n);
        else {
          const taken = () => this.outputTaken(slot, t, n);
          printed.then(taken, taken);
        }
        return;
      }
      case 'done': {
        const t = this.byKey.get(m.key);
        if (!t) return;
        // Freshly deserialized, so ours to complete in place.
        const outcome = m.outcome as Outcome;
        if (!m.outcome.stdout) outcome.stdout = EMPTY;
        if (!m.outcome.stderr) outcome.stderr = EMPTY;
        if (!outcome.skipped) {
          const ms = outcome.durationMs;
          slot.avgMs = slot.avgMs === undefined ? ms : slot.avgMs * 0.8 + ms * 0.2;
        }
        if (t.state === 'cancelled') {
          // Dropped while it waited in this worker (cancel): the executor has reported it already.
          this.byKey.delete(t.key);
          if (t.pgid !== undefined) this.groups.release(t.pgid, this.killAfterMs);
        } else this.finish(t, outcome, slot);
        this.advance(slot);
        return;
      }
      case 'fatal':
        return; // kept by the handle, reported with the exit
    }
  }

  /** Acknowledges printed output to the worker still running the job, in steps (see OUTPUT_CREDIT). */
  private outputTaken(slot: Slot, t: Tracked, bytes: number): void {
    if (t.state !== 'running' || t.slot !== slot) return;
    t.taken = (t.taken ?? 0) + bytes;
    if (t.taken < OUTPUT_ACK_STEP) return;
    slot.handle.send({ type: 'ack', key: t.key, bytes: t.taken });
    t.taken = 0;
  }

  private advance(slot: Slot): void {
    slot.jobs.shift();
    if (slot.jobs.length) {
      this.begin(slot);
      // Keep a fast worker's work ahead topped up.
      if (this.queue.length) this.scheduleDispatch();
      return;
    }
    if (slot.state === 'busy') {
      slot.state = 'idle';
      slot.handle.unref();
    }
    this.scheduleDispatch();
  }

  /** Stops a running attempt the way its kind is stopped (kinds/kind.ts StopHow). */
  private stopRunning(t: Tracked): void {
    const slot = t.slot;
    if (!slot) return;
    switch (kindOf(t.attempt.job).stop) {
      case 'group':
        // The pid may still be on its way from the worker: 'spawned' kills it on arrival (killReason is set).
        if (t.pgid === undefined) return;
        if (t.killNow) this.groups.kill(t.pgid);
        else this.groups.terminate(t.pgid, this.killAfterMs);
        return;
      case 'worker':
        slot.handle.kill();
        return;
      case 'abort':
        if (t.killNow) {
          slot.handle.kill();
          return;
        }
        slot.handle.send({ type: 'abort', key: t.key });
        t.abortTimer ??= setTimeout(() => slot.handle.kill(), this.killAfterMs);
        return;
    }
  }

  private finish(t: Tracked, outcome: Outcome, slot: Slot | undefined): void {
    if (t.state === 'done') return;
    t.state = 'done';
    this.byKey.delete(t.key);
    clearTimeout(t.timer);
    clearTimeout(t.abortTimer);
    if (t.pgid !== undefined) this.groups.release(t.pgid, this.killAfterMs);
    const kind = kindOf(t.attempt.job);
    kind.finish?.(outcome, t.killReason !== undefined);
    const naturalSuccess = !outcome.skipped && !outcome.error && !outcome.aborted && kind.succeeded(outcome);
    let status: JobStatus;
    if (outcome.skipped) status = 'cancelled';
    else if (naturalSuccess) status = 'succeeded';
    else if (t.killReason === 'timeout') status = 'timed-out';
    else if (t.killReason === 'cancel') status = 'cancelled';
    else status = 'failed';
    // Every outcome reaching here is a fresh object (deserialized, or made by this file): completed in place.
    const result = Object.assign(outcome, {
      status,
      worker: outcome.skipped ? null : (slot?.id ?? null),
      pid: outcome.skipped ? null : (slot?.handle.pid ?? null),
      threadId: outcome.skipped ? null : (slot?.handle.threadId ?? null),
    }) as AttemptResult;
    if (t.killReason && !naturalSuccess) result.killedFor = t.killReason;
    t.attempt.onDone(result);
    this.checkSpawnWaiters();
  }

  private onExit(slot: Slot, exit: WorkerExit): void {
    if (this.slots[slot.id - 1] === slot) this.slots[slot.id - 1] = undefined;
    const expected = slot.state === 'closing';
    const held = [...slot.jobs.drain()];
    const current = held[0];
    if (current && current.state !== 'done' && current.state !== 'cancelled') {
      if (current.pgid !== undefined) this.groups.terminate(current.pgid, this.killAfterMs);
      const error: SerializedError = current.killReason
        ? killedError(current)
        : {
            name: 'BrokenWorkerError',
            message: `worker ${slot.id} (pid ${slot.handle.pid}) died while running this job: ${describeExit(exit)}`,
          };
      if (!current.killReason && exit.error?.stack) error.stack = exit.error.stack;
      const outcome = failedOutcome(error, current.start?.startedAt);
      outcome.exitCode = exit.code;
      outcome.signal = exit.signal;
      this.finish(current, outcome, slot);
    }
    // Jobs of the batch that had not started never ran: they go back to the front of the queue.
    for (const t of held) if (t.state === 'cancelled') this.byKey.delete(t.key);
    const rest = held.slice(1).filter((t) => t.state !== 'done' && t.state !== 'cancelled');
    if (rest.length) {
      for (const t of rest) {
        this.byKey.delete(t.key);
        if (t.killReason) {
          this.finish(t, { ...failedOutcome(undefined), skipped: true }, slot);
        } else {
          t.state = 'queued';
          delete t.slot;
        }
      }
      const requeue = rest.filter((t) => t.state === 'queued');
      if (requeue.length) this.queue.unshift(requeue);
    }
    if (!expected && !slot.everReady) {
      this.startupFailures++;
      if (this.startupFailures >= MAX_STARTUP_FAILURES) {
        this.broken = {
          name: 'BrokenWorkerError',
          message: `workers cannot start (${MAX_STARTUP_FAILURES} in a row died before they were ready): ${describeExit(exit)}`,
        };
        for (const unit of this.queue.drain()) {
          for (const t of unit)
            if (t.state === 'queued') this.finish(t, failedOutcome(this.broken), undefined);
        }
      }
    }
    this.scheduleDispatch();
    this.checkClosed();
  }

  private closeSlot(slot: Slot): void {
    slot.state = 'closing';
    // Held until it has exited, so whoever awaits close() is not left with an empty event loop.
    if (!this.released) slot.handle.ref();
    slot.handle.close();
  }

  private checkClosed(): void {
    if (this.closing && this.resolveClosed && this.slots.every((s) => !s)) this.resolveClosed();
  }
}

function killedError(t: Tracked): SerializedError {
  return t.killReason === 'timeout'
    ? { name: 'TimeoutError', message: `timed out after ${t.attempt.job.timeoutMs}ms; its worker was ended` }
    : { name: 'CancelledError', message: 'cancelled while running; its worker was ended' };
}

function describeExit(exit: WorkerExit): string {
  if (exit.error) return `uncaught ${exit.error.name}: ${exit.error.message}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code}`;
}

function failedOutcome(error: SerializedError | undefined, startedAt?: number): Outcome {
  const now = Date.now();
  return emptyOutcome(startedAt || now, error, now);
}
