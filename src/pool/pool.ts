/**
 * The pool: N workers behind one WorkerHandle interface, a queue of units (a unit is the batch of jobs one
 * message carries: `chunksize` in process mode), crash handling and timeouts. It knows nothing of futures,
 * retries or printing; it runs attempts and reports how each ended.
 *
 * This file is its public surface and what it does with what workers say (their messages and their exits); the
 * parts: dispatch.ts (the queue, which worker gets what, the width), slots.ts (starting, idling, closing
 * workers; start-up failures), finish.ts (timeouts, stopping a running job, the status an attempt ends with).
 */
import type { FromWorker, Outcome } from './protocol.js';
import { OUTPUT_ACK_STEP } from './protocol.js';
import type { PoolMode, WorkerExit } from './handle.js';
import type { Attempt, KillReason, PoolOptions, Slot, Ticket, Tracked } from './types.js';
import { ProcessGroups } from '../proc/groups.js';
import { kindOf } from '../kinds/index.js';
import { Dispatcher, nextToRun, requeued, unheard } from './dispatch.js';
import { WorkerSlots, workerStarter } from './slots.js';
import { armTimeout, brokenOutcome, diedOutcome, failedOutcome, settle, stopRunning } from './finish.js';
import { restoreBuffers } from './buffers.js';

export type { Attempt, AttemptResult, KillReason, PoolOptions, StartInfo, Ticket } from './types.js';

/** A Buffer, so that the executor takes it as it is (a fresh Buffer view per result adds up over a million). */
const EMPTY = Buffer.alloc(0);
/** How long past its limit a call may be heard to have ended before its worker is ended (pool.timedOut). */
const CALL_END_GRACE_MS = 5;

export class WorkerPool {
  readonly mode: PoolMode;
  readonly size: number;
  readonly groups: ProcessGroups;
  private readonly killAfterMs: number;
  private readonly slots: WorkerSlots;
  private readonly dispatcher: Dispatcher;
  /** Units not yet sent to a worker, and attempts sent and not yet reported (the dispatcher's). */
  private readonly queue: Dispatcher['queue'];
  private readonly byKey: Dispatcher['byKey'];
  private nextKey = 1;
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  private spawnWaiters: Array<() => void> = [];
  /** The last worker that failed to start once the pool is broken, and how it ended (BrokenWorkerError's fields). */
  private brokenBy: { slot: Slot; exit: WorkerExit } | undefined;
  /** A timer left on an attempt no longer sent nor running (requeued, over) does nothing. */
  private readonly timedOut = (t: Tracked) => {
    if (t.state !== 'sent' && t.state !== 'running') return;
    if (kindOf(t.attempt.job).stop !== 'worker') {
      this.kill(t, 'timeout');
      return;
    }
    // A call is stopped by ending its worker, which may have gone on to the next call it holds: the call's end
    // may be on its way, or here unread (the main thread was busy as the limit passed, and timers run before the
    // poll that reads it). Read first: ended, it is not stopped, and the next call, which did nothing wrong, is
    // not failed (BrokenWorkerError). A call that goes on is stopped CALL_END_GRACE_MS past its limit.
    setTimeout(() => {
      if (t.state === 'sent' || t.state === 'running') this.kill(t, 'timeout');
    }, CALL_END_GRACE_MS);
  };

  constructor(opts: PoolOptions) {
    this.mode = opts.mode;
    this.size = Math.max(1, Math.floor(opts.size));
    this.killAfterMs = opts.killAfterMs;
    this.groups = opts.groups ?? new ProcessGroups();
    const start = opts.startWorker ?? workerStarter(this.mode, opts.init, this.groups, opts.workerStdout);
    this.slots = new WorkerSlots(this.size, start, {
      message: (slot, m) => this.onMessage(slot, m),
      exit: (slot, e) => this.onExit(slot, e),
    });
    this.dispatcher = new Dispatcher(this.slots, opts.capture, this.timedOut, (t, e) =>
      this.finish(t, failedOutcome(e), undefined),
    );
    this.queue = this.dispatcher.queue;
    this.byKey = this.dispatcher.byKey;
  }

  /** Lets at most `n` (1 to size) workers be busy from now on; running jobs are never stopped for it. */
  setWidth(n: number): void {
    this.dispatcher.setWidth(n);
  }

  /** Queues attempts that must run on one worker, in order (a chunk); `front`: before every queued one (a retry). */
  submit(unit: Attempt[], front = false): Ticket[] {
    const tracked = unit.map((attempt): Tracked => ({ attempt, key: this.nextKey++, state: 'queued' }));
    const broken = this.slots.broken;
    if (broken) {
      for (const t of tracked)
        this.finish(t, brokenOutcome(broken, this.brokenBy?.exit), this.brokenBy?.slot);
      return tracked;
    }
    if (front) this.queue.unshift(tracked);
    else this.queue.push(tracked);
    this.dispatcher.schedule();
    return tracked;
  }

  /**
   * Removes an attempt that has not started: a queued one, or one sent ahead to a busy worker (the worker is told
   * to skip it; should it have started it already, its result is dropped). False once it runs.
   */
  cancel(ticket: Ticket): boolean {
    const t = ticket as Tracked;
    // Sent ahead, and not yet its turn (or its turn came while it was being asked back: not begun, as far as
    // this side knows).
    if (t.state === 'sent' && t.slot && (t.slot.jobs.peek() !== t || t.reclaiming) && !t.killReason) {
      t.state = 'cancelled';
      t.slot.handle.send({ type: 'skip', key: t.key });
      return true;
    }
    if (t.state !== 'queued') return t.state === 'cancelled';
    t.state = 'cancelled';
    return true;
  }

  /**
   * Withdraws an attempt that has not started as far as this side knows (halt, deadline, signals): a queued one is
   * dropped (true), and so is one sent ahead that its worker cannot have begun (behind another job not yet known
   * to be done, or on a worker still starting), which the worker skips. The one whose turn may have come is asked
   * to be skipped and reports either way: skipped, or what it did (its worker had begun it). False then.
   */
  withdraw(ticket: Ticket): boolean {
    const t = ticket as Tracked;
    if (t.state === 'queued') return this.cancel(t);
    const slot = t.slot;
    if (t.state !== 'sent' || !slot || t.killReason) return t.state === 'cancelled';
    if (slot.state === 'starting' || nextToRun(slot) !== t) {
      t.state = 'cancelled';
      slot.handle.send({ type: 'skip', key: t.key });
      return true;
    }
    if (!t.withdrawn) {
      t.withdrawn = true;
      slot.handle.send({ type: 'skip', key: t.key });
    }
    return false;
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
        // Its turn has come (withdrawn, so not taken as running): its worker may be running it, unheard (a call
        // blocking its worker). Stopped as a running one is; a worker that had not begun it skips it.
        if (unheard(t) && t.slot?.jobs.peek() === t) stopRunning(t, this.groups, this.killAfterMs);
        else t.slot?.handle.send({ type: 'skip', key: t.key });
        return false;
      case 'running':
        t.killReason ??= reason;
        if (now) t.killNow = true;
        stopRunning(t, this.groups, this.killAfterMs);
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
    this.closed ??= new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    this.slots.close(force, this.queue.length === 0);
    this.checkClosed();
    return this.closed;
  }

  /** Stops holding the event loop open: busy workers are unref'd too, and no worker is ref'd again. */
  release(): void {
    this.slots.release();
  }

  /**
   * Resolves once every running shell job's process group is known here: its worker has said `spawned` (or the
   * job has ended without a process). A job's process exists a moment before its worker's message does; one
   * that ends the run early (bad input) waits for this (at most `ms`), so that killing every known group leaves
   * none behind.
   */
  async spawnsKnown(ms = Infinity): Promise<void> {
    if (!this.awaitingSpawn()) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.spawnWaiters.push(resolve);
      if (ms !== Infinity) timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
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

  private onMessage(slot: Slot, m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        // Said again by an idle worker that now takes more (hybrid.ts): it gets work too.
        if (this.slots.ready(slot, m.provisional) || slot.state === 'idle') this.dispatcher.dispatch();
        return;
      case 'spawned': {
        const t = this.byKey.get(m.key);
        if (!t) return;
        this.spawned(t, slot, m.pid, m.leader);
        return;
      }
      case 'began': {
        const t = this.byKey.get(m.key);
        if (t) this.begun(t, slot);
        return;
      }
      case 'given': {
        const t = this.dispatcher.reclaimed(slot, m.key);
        if (t) this.finish(t, { ...failedOutcome(undefined), skipped: true }, slot);
        return;
      }
      case 'output': {
        const t = this.byKey.get(m.key);
        if (!t) return;
        // Output says it began (one asked back or withdrawn, unheard): running from now, its output acknowledged.
        this.begun(t, slot);
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
        if (m.outcome.bufferPaths) {
          outcome.value = restoreBuffers(outcome.value, m.outcome.bufferPaths);
          delete m.outcome.bufferPaths;
        }
        // The job ended before its worker sent `spawned`: its group is registered (and let go below) only if
        // something of it is left.
        if (m.spawned && t.pgid === undefined) {
          if (outcome.groupGone) t.pgid = m.spawned.pid;
          else this.spawned(t, slot, m.spawned.pid, m.spawned.leader);
        }
        // Begun and over before its worker heard `skip`/`take` (so it never said `began`): it ran, and started.
        if (!outcome.skipped && slot.jobs.peek() === t) this.startUnheard(t, slot);
        if (!m.outcome.stdout) outcome.stdout = EMPTY;
        if (!m.outcome.stderr) outcome.stderr = EMPTY;
        if (!outcome.skipped) {
          const ms = outcome.durationMs;
          slot.avgMs = slot.avgMs === undefined ? ms : slot.avgMs * 0.8 + ms * 0.2;
        }
        if (t.state === 'cancelled') {
          // Dropped while it waited in this worker (cancel): the executor has reported it already.
          this.byKey.delete(t.key);
          if (t.pgid !== undefined) this.groups.release(t.pgid, this.killAfterMs, outcome.groupGone === true);
        } else this.finish(t, outcome, slot);
        this.dispatcher.advance(slot);
        // The next one's turn: withdrawn and to be killed, it is stopped as running (its worker may be in it).
        const next = slot.jobs.peek();
        if (unheard(next) && next.killReason) stopRunning(next, this.groups, this.killAfterMs);
        return;
      }
      case 'fatal':
        return; // kept by the handle, reported with the exit
    }
  }

  /** Withdrawn, but its worker had begun it: it runs, timed and reported as running (killed if it is to be). */
  private begun(t: Tracked, slot: Slot): void {
    if (slot.jobs.peek() !== t || !this.startUnheard(t, slot)) return;
    if (t.killReason) stopRunning(t, this.groups, this.killAfterMs);
  }

  /** An unheard attempt (dispatch.ts unheard) whose turn has come on `slot` is running from now; false if none. */
  private startUnheard(t: Tracked, slot: Slot): boolean {
    if (!unheard(t)) return false;
    delete t.reclaiming;
    this.dispatcher.started(t, slot);
    return true;
  }

  /** A shell job's process group exists: registered, killed at once if the job was to be, or timed from now. */
  private spawned(t: Tracked, slot: Slot, pid: number, leader: string | null | undefined): void {
    this.begun(t, slot);
    t.pgid = pid;
    this.groups.add(pid, slot.handle.pid, leader);
    if (t.killReason && this.groups.alive(pid)) t.killedAt ??= Date.now();
    if (t.killNow) this.groups.kill(pid);
    else if (t.killReason) this.groups.terminate(pid, this.killAfterMs);
    // A shell job's limit counts from when its process exists, not from when it was handed to the worker:
    // dispatch and fork/exec took tens of ms under load, and a job with 300ms was killed after 241ms.
    else armTimeout(t, this.timedOut);
    this.checkSpawnWaiters();
  }

  /** Acknowledges printed output to the worker still running the job, in steps (see OUTPUT_CREDIT). */
  private outputTaken(slot: Slot, t: Tracked, bytes: number): void {
    if (t.state !== 'running' || t.slot !== slot) return;
    t.taken = (t.taken ?? 0) + bytes;
    if (t.taken < OUTPUT_ACK_STEP) return;
    slot.handle.send({ type: 'ack', key: t.key, bytes: t.taken });
    t.taken = 0;
  }

  private finish(t: Tracked, outcome: Outcome, slot: Slot | undefined): void {
    if (t.state === 'done') return;
    this.byKey.delete(t.key);
    settle(t, outcome, slot, this.groups, this.killAfterMs);
    this.checkSpawnWaiters();
  }

  /**
   * A worker has exited: the job it was running fails (BrokenWorkerError, unless the pool killed it), the jobs it
   * held and had not started go back to the queue, and a new worker is started for them when there is work.
   */
  private onExit(slot: Slot, exit: WorkerExit): void {
    const expected = this.slots.exited(slot);
    const held = [...slot.jobs.drain()];
    const current = held[0];
    if (current && current.state !== 'done' && current.state !== 'cancelled') {
      // Its turn had come while it was asked back or withdrawn: it is taken as begun, as its end is.
      this.startUnheard(current, slot);
      if (current.pgid !== undefined) this.groups.terminate(current.pgid, this.killAfterMs);
      // What the job started outside a group (a call's children), including any started after it was stopped.
      this.groups.endWorkerChildren(slot.handle.pid, slot.handle.threadId, this.killAfterMs, current.killNow);
      this.finish(current, diedOutcome(current, slot, exit), slot);
    }
    // Jobs of the batch that had not started never ran: they go back to the front of the queue.
    for (const t of held) if (t.state === 'cancelled') this.byKey.delete(t.key);
    const rest = held.slice(1).filter((t) => t.state !== 'done' && t.state !== 'cancelled');
    if (rest.length) {
      for (const t of rest) {
        this.byKey.delete(t.key);
        // Withdrawn (halt, deadline, signals) or killed: not run again on another worker.
        if (t.killReason || t.withdrawn) {
          this.finish(t, { ...failedOutcome(undefined), skipped: true }, slot);
        } else {
          requeued(t);
        }
      }
      const requeue = rest.filter((t) => t.state === 'queued');
      if (requeue.length) this.queue.unshift(requeue);
    }
    if (!expected && !slot.everReady) {
      const broken = this.slots.startFailed(exit);
      if (broken) {
        this.brokenBy = { slot, exit };
        for (const unit of this.queue.drain()) {
          for (const t of unit) if (t.state === 'queued') this.finish(t, brokenOutcome(broken, exit), slot);
        }
      }
    }
    this.dispatcher.schedule();
    this.checkClosed();
  }

  private checkClosed(): void {
    if (this.slots.closing && this.resolveClosed && this.slots.empty()) this.resolveClosed();
  }
}
