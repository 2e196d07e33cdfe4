/**
 * The pool's worker slots: a worker started in a free slot (the CLI's pre-started one first), ready, busy or
 * idle (only a busy worker holds the event loop open), closed, and gone. Workers that die before they are ready
 * are counted: past MAX_STARTUP_FAILURES in a row the pool is broken instead of respawning forever.
 */
import type { SerializedError } from '../kinds/types.js';
import type { FromWorker, WorkerInit } from './protocol.js';
import type { PoolMode, WorkerExit, WorkerHandle } from './handle.js';
import type { Slot } from './types.js';
import type { ProcessGroups } from '../proc/groups.js';
import { ThreadWorker } from './thread.js';
import { ProcessWorker } from './process.js';
import { adoptPrestarted } from './prestart.js';
import { HybridWorker } from './hybrid.js';
import { RUN_ID_VAR } from '../proc/watchdog.js';
import { Deque } from '../util/deque.js';
import { describeExit } from './finish.js';

/** Consecutive workers that die before they are ready: past this the pool gives up instead of respawning forever. */
const MAX_STARTUP_FAILURES = 3;

/** How the pool hears from its workers. */
export interface SlotEvents {
  message(slot: Slot, m: FromWorker): void;
  exit(slot: Slot, exit: WorkerExit): void;
}

/** The default worker of a pool: a thread or a process, or the CLI's pre-started one (prestart.ts). */
export function workerStarter(
  mode: PoolMode,
  init: WorkerInit | undefined,
  groups: ProcessGroups,
  workerStdout: 'stdout' | 'stderr' = 'stderr',
): (id: number) => WorkerHandle {
  // Every job carries the token of the run's process groups: a process with it is one of ours (proc/owner.ts).
  const start = (): WorkerHandle =>
    mode === 'thread'
      ? new ThreadWorker(init, groups.token)
      : new ProcessWorker(init, groups.token, workerStdout);
  return () => {
    let handle: WorkerHandle | undefined;
    if (!init) {
      // The CLI's first worker may be up already (prestart.ts); it was left unref'd until wanted.
      handle = adoptPrestarted(mode);
      handle?.ref();
      // Each of the CLI's slots in thread mode starts shell jobs from the main thread until its thread, started
      // when the slot is given a second job (or a call, a copy, a download), is ready (hybrid.ts): -j N starts N
      // jobs at once, as GNU parallel does. A thread is ready 30-100 ms after it is started, and starting N of
      // them held back the jobs of the slots after the first (`-j2 --halt soon,fail=1` cancelled a second job
      // GNU runs to its end).
      if (mode === 'thread' && localJobsAllowed(groups.token)) handle = new HybridWorker(handle, start);
    }
    handle ??= start();
    groups.guard();
    return handle;
  };
}

/**
 * Whether a shell job may start from this (the main) thread: its environment must be the one a worker gives its
 * jobs. The CLI's is (cli/run.ts puts the run's token in it; a worker removes POOLRUN_QUEUE, which a local run has
 * only when it is empty).
 */
function localJobsAllowed(token: string | undefined): boolean {
  return token !== undefined && process.env[RUN_ID_VAR] === token && process.env.POOLRUN_QUEUE === undefined;
}

export class WorkerSlots {
  /**
   * Slot `id` is `all[id - 1]`: undefined while it has no worker. It grows as workers start (each in the lowest
   * free slot), never to more than `size`: a pool of a million possible workers that runs three holds three.
   */
  readonly all: (Slot | undefined)[] = [];
  /** How many workers may run at once (maxWorkers). */
  readonly size: number;
  /** close() was called: idle workers are ended rather than given work. */
  closing = false;
  /** Set once workers cannot start: every attempt submitted from then on fails with it. */
  broken: SerializedError | undefined;
  private readonly start: (id: number) => WorkerHandle;
  private readonly events: SlotEvents;
  private startupFailures = 0;
  /** The executor no longer holds the program open (shutdown without wait, nothing left queued). */
  private released = false;

  constructor(size: number, start: (id: number) => WorkerHandle, events: SlotEvents) {
    this.size = size;
    this.start = start;
    this.events = events;
  }

  /** Starts a worker in slot `id`. */
  spawn(id: number): void {
    const handle = this.start(id);
    const slot: Slot = { id, handle, state: 'starting', jobs: new Deque(), everReady: false };
    this.all[id - 1] = slot;
    handle.onMessage((m) => this.events.message(slot, m));
    handle.onExit((e) => this.events.exit(slot, e));
  }

  count(state: Slot['state']): number {
    let n = 0;
    for (const s of this.all) if (s?.state === state) n++;
    return n;
  }

  /** Every slot has a worker (starting or not). */
  full(): boolean {
    return this.all.length >= this.size && !this.all.includes(undefined);
  }

  /** Every worker has exited. */
  empty(): boolean {
    return this.all.every((s) => !s);
  }

  /** The worker said it is ready: true when that makes it idle (it was starting). */
  ready(slot: Slot, provisional = false): boolean {
    if (!provisional) {
      slot.everReady = true;
      this.startupFailures = 0;
    }
    if (slot.state !== 'starting') return false;
    slot.state = 'idle';
    slot.handle.unref();
    return true;
  }

  /** The worker has been given work: it holds the program open (unless released). */
  busy(slot: Slot): void {
    slot.state = 'busy';
    if (!this.released) slot.handle.ref();
  }

  /** The worker has run all it was given. */
  idle(slot: Slot): void {
    if (slot.state !== 'busy') return;
    slot.state = 'idle';
    slot.handle.unref();
  }

  /**
   * From now on idle workers are ended: the idle ones now (and starting ones, when `queueEmpty`). With `force`,
   * every worker is ended now.
   */
  close(force: boolean, queueEmpty: boolean): void {
    this.closing = true;
    for (const slot of this.all) {
      if (!slot) continue;
      if (force) {
        slot.state = 'closing';
        if (!this.released) slot.handle.ref();
        slot.handle.kill();
      } else if (slot.state === 'idle' || (slot.state === 'starting' && queueEmpty)) {
        this.closeSlot(slot);
      }
    }
  }

  /** Once closing: ends the workers that are idle. */
  closeIdle(): void {
    if (!this.closing) return;
    for (const slot of this.all) if (slot?.state === 'idle') this.closeSlot(slot);
  }

  /** Stops holding the event loop open: busy workers are unref'd too, and no worker is ref'd again. */
  release(): void {
    this.released = true;
    for (const slot of this.all) slot?.handle.unref();
  }

  /** The worker has exited: its slot is free. True if it was asked to (closing). */
  exited(slot: Slot): boolean {
    if (this.all[slot.id - 1] === slot) this.all[slot.id - 1] = undefined;
    return slot.state === 'closing';
  }

  /**
   * A worker died before it was ready: counted, and once MAX_STARTUP_FAILURES did in a row, the pool is broken.
   * Returns the error that breaks it then (and at every later one).
   */
  startFailed(exit: WorkerExit): SerializedError | undefined {
    this.startupFailures++;
    if (this.startupFailures < MAX_STARTUP_FAILURES) return undefined;
    this.broken = {
      name: 'BrokenWorkerError',
      message: `workers cannot start (${MAX_STARTUP_FAILURES} in a row died before they were ready): ${describeExit(exit)}`,
    };
    return this.broken;
  }

  private closeSlot(slot: Slot): void {
    slot.state = 'closing';
    // Held until it has exited, so whoever awaits close() is not left with an empty event loop.
    if (!this.released) slot.handle.ref();
    slot.handle.close();
  }
}
