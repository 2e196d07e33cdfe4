/**
 * Handing work to workers: the queue of units (a unit is the batch of jobs one message carries: `chunksize` in
 * process mode), which worker gets the next one, when workers are started for it, work sent ahead to quick
 * workers, the width (-w auto), and a worker's jobs starting one after another.
 */
import type { CaptureOptions } from './protocol.js';
import type { SerializedError } from '../kinds/types.js';
import type { Slot, Tracked } from './types.js';
import type { WorkerSlots } from './slots.js';
import { Deque } from '../util/deque.js';
import { kindOf } from '../kinds/index.js';
import { armTimeout } from './finish.js';
import { NOT_SENDABLE } from '../errors.js';
import { redactId } from '../util/redact.js';
import { tooDeepToSend } from './buffers.js';

/**
 * A worker whose jobs are short gets the next ones before it has finished the current one, so it never waits
 * for a round trip through the main thread (which, for tiny calls, costs more than the calls). It is given at
 * most PREFETCH_MS of work ahead, judged by the average duration of its jobs so far. A worker with no history
 * gets none. A job that turns out long stops its worker getting more once it has run PREFETCH_MS, and what its
 * worker holds behind it is then taken back for an idle worker (rebalance): Python's workers share one queue.
 */
const PREFETCH_MS = 10;
const MAX_PREFETCH = 256;

export class Dispatcher {
  /** Units not yet sent to a worker, in order. */
  readonly queue = new Deque<Tracked[]>();
  /** Every attempt sent to a worker and not yet reported, by its key. */
  readonly byKey = new Map<number, Tracked>();
  private readonly slots: WorkerSlots;
  private readonly size: number;
  private readonly capture: CaptureOptions;
  private readonly onTimeout: (t: Tracked) => void;
  private readonly onUnsendable: (t: Tracked, error: SerializedError) => void;
  private queued = false;
  /** Set while a worker holds work behind a job that will soon have run PREFETCH_MS (rebalance). */
  private rebalanceTimer: NodeJS.Timeout | undefined;
  /** How many workers may be busy at once: `size`, unless -w auto narrows it (setWidth; sched/auto-runner.ts). */
  private width: number;

  /**
   * `onUnsendable`: a job that cannot be copied to a worker (a call's argument is a function, a symbol, a
   * WeakMap…) ends with this error, never sent; the others of its batch go on.
   */
  constructor(
    slots: WorkerSlots,
    capture: CaptureOptions,
    onTimeout: (t: Tracked) => void,
    onUnsendable: (t: Tracked, error: SerializedError) => void,
  ) {
    this.slots = slots;
    this.size = slots.size;
    this.capture = capture;
    this.onTimeout = onTimeout;
    this.onUnsendable = onUnsendable;
    this.width = this.size;
  }

  /** Lets at most `n` (1 to size) workers be busy from now on; running jobs are never stopped for it. */
  setWidth(n: number): void {
    const w = Math.max(1, Math.min(this.size, Math.floor(n)));
    const wider = w > this.width;
    this.width = w;
    if (wider) this.schedule();
  }

  /** Dispatches soon: once per tick, however often asked. */
  schedule(): void {
    if (this.queued) return;
    this.queued = true;
    // Deferred so that a burst of submissions made in one tick is seen whole (chunking, lazy worker start).
    queueMicrotask(() => {
      this.queued = false;
      this.dispatch();
    });
  }

  /** Gives idle workers the next units, starts workers for what is left, and sends work ahead. */
  dispatch(): void {
    const slots = this.slots.all;
    const narrowed = this.width < this.size;
    let busy = narrowed ? this.slots.count('busy') : 0;
    /** Idle workers that take the next unit once their thread is ready (hybrid.ts): as good as starting ones. */
    let waiting = 0;
    for (const slot of slots) {
      if (slot?.state !== 'idle') continue;
      if (narrowed && busy >= this.width) break;
      let unit = this.nextUnit(false, slot);
      // A unit none of whose jobs could be sent leaves the worker idle: it takes the next one.
      while (unit && !this.assign(slot, unit)) unit = this.nextUnit(false, slot);
      if (!unit) {
        // This worker does not take the next unit now (hybrid.ts): another may.
        if (this.queue.length && this.refuses(slot)) {
          waiting++;
          continue;
        }
        break;
      }
      busy++;
    }
    let starting = this.slots.count('starting');
    let need = this.queue.length - starting - waiting;
    if (narrowed) need = Math.min(need, this.width - busy - starting - waiting);
    for (let i = 0; i < this.size && need > 0; i++) {
      if (!slots[i]) {
        this.slots.spawn(i + 1);
        starting++;
        need--;
      }
    }
    // Work ahead for busy workers, only while no worker is starting (a starting worker, counted with those just
    // started, takes the queue first).
    if (this.queue.length && !starting && this.slots.full()) this.prefetchAll(slots);
    this.rebalance(slots);
    this.slots.closeIdle();
  }

  /**
   * A busy worker whose job has run PREFETCH_MS is asked back (`take`) for the jobs it holds behind it: each it
   * had not begun goes back to the front of the queue (reclaimed), for whichever worker is free first. Checked
   * again by a timer when such a job will have run that long.
   */
  private rebalance(slots: readonly (Slot | undefined)[]): void {
    if (this.slots.closing) return;
    const now = Date.now();
    let soonest = Infinity;
    for (const slot of slots) {
      if (slot?.state !== 'busy' || slot.jobs.length < 2) continue;
      const head = nextToRun(slot);
      if (head?.state !== 'running' || !head.start) continue;
      const wait = head.start.startedAt + PREFETCH_MS - now;
      if (wait > 0) {
        soonest = Math.min(soonest, wait);
        continue;
      }
      for (let k = 0, t = slot.jobs.at(0); t; t = slot.jobs.at(++k)) {
        if (t === head || !t.ahead || t.state !== 'sent' || t.reclaiming || t.withdrawn || t.killReason)
          continue;
        t.reclaiming = true;
        slot.handle.send({ type: 'take', key: t.key });
      }
    }
    if (soonest === Infinity || this.rebalanceTimer) return;
    this.rebalanceTimer = setTimeout(() => {
      this.rebalanceTimer = undefined;
      this.dispatch();
    }, soonest + 1);
    this.rebalanceTimer.unref();
  }

  /**
   * The worker gave back a job it held (`given`): it goes back to the front of the queue, and its worker goes on
   * with the next it holds. One withdrawn or killed meanwhile is returned, to be ended skipped by the caller.
   */
  reclaimed(slot: Slot, key: number): Tracked | undefined {
    const t = this.byKey.get(key);
    if (!t || t.slot !== slot) return undefined;
    // Its worker's turn may be waiting on it: it was first (a cancelled one too: nextToRun passes over those).
    const wasNext = slot.jobs.peek() === t || nextToRun(slot) === t;
    slot.jobs.remove(t);
    this.byKey.delete(key);
    let ended: Tracked | undefined;
    if (t.killReason || t.withdrawn) ended = t;
    else if (t.state === 'sent') {
      requeued(t);
      // Before the units sent after it (jobs given back one by one keep their order).
      let i = 0;
      for (let u = this.queue.at(0); u && u[0]!.key < t.key; u = this.queue.at(++i));
      this.queue.insertAt(i, [t]);
    }
    if (wasNext) {
      if (slot.jobs.length) this.begin(slot);
      else this.slots.idle(slot);
    }
    this.schedule();
    return ended;
  }

  /**
   * Work ahead for every busy worker, each given at most its share of the queue: a worker whose history says
   * "quick" may be running a long job, and the queue split evenly is never all behind that one.
   */
  private prefetchAll(slots: readonly (Slot | undefined)[]): void {
    const busy = slots.filter((s): s is Slot => s?.state === 'busy');
    if (!busy.length) return;
    const share = Math.ceil(this.queue.length / busy.length);
    for (const slot of busy) this.prefetch(slot, share);
  }

  /** The worker has reported the job it was running: the next one it holds starts, or it is idle. */
  advance(slot: Slot): void {
    slot.jobs.shift();
    if (slot.jobs.length) {
      this.begin(slot);
      // Keep a fast worker's work ahead topped up.
      if (this.queue.length) this.schedule();
      return;
    }
    this.slots.idle(slot);
    this.schedule();
  }

  /**
   * How many jobs a worker may hold (running and waiting), from how long its jobs have taken; one only while
   * the job it runs has gone on PREFETCH_MS (its history said short; this one is not).
   */
  private capacity(slot: Slot): number {
    if (slot.avgMs === undefined) return 1;
    const head = nextToRun(slot);
    // Its next job is being asked back (or withdrawn): nothing more goes behind it, to run before it.
    if (head?.reclaiming || head?.withdrawn) return 1;
    const since = head?.start?.startedAt;
    if (since !== undefined && Date.now() - since >= PREFETCH_MS) return 1;
    return Math.max(1, Math.min(MAX_PREFETCH, Math.floor(PREFETCH_MS / Math.max(slot.avgMs, 0.01))));
  }

  /** Sends the worker work ahead, up to its capacity and at most `units` units of the queue. */
  private prefetch(slot: Slot, units: number): void {
    const cap = this.capacity(slot);
    const held = slot.jobs.length;
    // Topped up once half is used, so one message carries many jobs.
    if (held > cap / 2) return;
    const room = cap - held;
    const sent: Tracked[] = [];
    for (let taken = 0; sent.length < room && taken < units; taken++) {
      const unit = this.nextUnit(true, slot);
      if (!unit) break;
      // A lone job may be taken back (rebalance); a chunk stays whole on the worker it went to.
      if (unit.length === 1) unit[0]!.ahead = true;
      sent.push(...unit);
    }
    if (sent.length) this.send(slot, sent);
  }

  /**
   * The next unit with anything left to run. `ahead`: only if every job in it is of a kind that may be sent
   * ahead to a busy worker (calls, as Python's process pool queues calls ahead): the others wait for a free
   * worker, so `--halt` never finds one already handed over.
   */
  private nextUnit(ahead: boolean, slot: Slot): Tracked[] | undefined {
    for (let unit = this.queue.peek(); unit; unit = this.queue.peek()) {
      const live = unit.filter((t) => t.state === 'queued');
      if (ahead && live.some((t) => !kindOf(t.attempt.job).sendAhead)) return undefined;
      if (live.length && slot.handle.takes?.(live.map((t) => t.attempt.job)) === false) return undefined;
      this.queue.shift();
      if (live.length) return live;
    }
    return undefined;
  }

  /** The worker does not take the unit at the head of the queue now. */
  private refuses(slot: Slot): boolean {
    const unit = this.queue.peek();
    const live = unit?.filter((t) => t.state === 'queued') ?? [];
    return live.length > 0 && slot.handle.takes?.(live.map((t) => t.attempt.job)) === false;
  }

  /** Gives the worker a unit: false when none of its jobs could be sent (the worker stays idle). */
  private assign(slot: Slot, unit: Tracked[]): boolean {
    slot.jobs = new Deque();
    this.slots.busy(slot);
    if (!this.send(slot, unit)) {
      this.slots.idle(slot);
      return false;
    }
    this.begin(slot);
    return true;
  }

  /**
   * Sends jobs to the worker in one message; how many went. A message that cannot be copied to the worker (the
   * structured clone of a thread's postMessage, the 'advanced' serialization of a process's IPC channel: a call's
   * argument is a function, a symbol, a WeakMap…) is thrown out by the sending side whole: then each job goes on
   * its own, and those that cannot be sent fail alone, as Python's pickling error fails only its future.
   */
  private send(slot: Slot, jobs: Tracked[]): number {
    const error = this.post(slot, jobs);
    if (error === undefined) return jobs.length;
    if (jobs.length === 1) {
      this.refuse(jobs[0]!, error);
      return 0;
    }
    let sent = 0;
    for (const t of jobs) {
      const e = this.post(slot, [t]);
      if (e === undefined) sent++;
      else this.refuse(t, e);
    }
    return sent;
  }

  /** Sends one message; the error the sending side threw (nothing was sent), else undefined. */
  private post(slot: Slot, jobs: Tracked[]): unknown {
    try {
      for (const t of jobs) {
        const job = t.attempt.job;
        if (job.kind !== 'call') continue;
        // Each argument as deep as a return value may be (the list of them is not a level of theirs).
        for (const arg of job.call.args) {
          const deep = tooDeepToSend(arg);
          if (deep) throw new RangeError(deep);
        }
      }
      slot.handle.send({
        type: 'batch',
        worker: slot.id,
        capture: this.capture,
        jobs: jobs.map((t) => ({ key: t.key, job: t.attempt.job })),
      });
    } catch (e) {
      return e ?? new Error(String(e));
    }
    for (const t of jobs) {
      t.state = 'sent';
      t.slot = slot;
      this.byKey.set(t.key, t);
      slot.jobs.push(t);
    }
    return undefined;
  }

  private refuse(t: Tracked, e: unknown): void {
    const job = t.attempt.job;
    const what =
      job.kind === 'call'
        ? `the arguments of ${job.call.export}() (${job.call.module})`
        : `job ${redactId(job.id)}`;
    const why = e instanceof Error ? e.message : String(e);
    this.onUnsendable(t, {
      name: 'UsageError',
      message:
        `${what} cannot be copied to a worker: ${why} ` +
        '(a worker gets a structured clone: functions, symbols, WeakMaps, WeakSets and promises cannot be copied)',
      code: NOT_SENDABLE,
    });
  }

  /** The worker runs its jobs in order, so the next job starts when the previous one is done. */
  private begin(slot: Slot): void {
    const t = slot.jobs.peek();
    // A skipped or dropped job reports 'done' (skipped) by itself; a withdrawn one too, or says it began (its
    // --timeout counts from now all the same, as its worker may be running it, unheard, in a blocking call).
    if (unheard(t) && !t.killReason) armTimeout(t, this.onTimeout);
    if (!t || t.killReason || t.withdrawn || t.reclaiming || t.state === 'cancelled') return;
    this.started(t, slot);
  }

  /** `t` runs on `slot` from now: timed, and reported started. */
  started(t: Tracked, slot: Slot): void {
    t.state = 'running';
    t.start = {
      worker: slot.id,
      pid: slot.handle.pid,
      threadId: slot.handle.threadId,
      startedAt: Date.now(),
    };
    armTimeout(t, this.onTimeout);
    t.attempt.onStart(t.start);
  }
}

/**
 * Sent, and its start known only from its worker's word (`began`, `spawned`, output, its end): withdrawn (halt,
 * deadline, signals) or being asked back (rebalance) when its turn came, so not taken as running then.
 */
export function unheard(t: Tracked | undefined): t is Tracked {
  return t !== undefined && (t.withdrawn === true || t.reclaiming === true) && t.state === 'sent';
}

/** The first of a worker's jobs not known to be over: the one it runs now, or starts next. */
export function nextToRun(slot: Slot): Tracked | undefined {
  let k = 0;
  let t = slot.jobs.at(0);
  while (t && (t.state === 'done' || t.state === 'cancelled')) t = slot.jobs.at(++k);
  return t;
}

/** An attempt sent to a worker that never began it, back to `queued`: its timers (armed while its turn had come
 * on that worker, its start unknown) are stopped, or they would fire on it in the queue. */
export function requeued(t: Tracked): void {
  t.state = 'queued';
  delete t.slot;
  delete t.reclaiming;
  t.ahead = false;
  clearTimeout(t.timer);
  clearTimeout(t.abortTimer);
  delete t.timer;
  delete t.abortTimer;
}
