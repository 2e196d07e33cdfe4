/**
 * A run's stop state, shared by its stop policies (halt.ts, deadline.ts, signals.ts): why it stopped, and what
 * stopping does. Each policy is small and takes what it listens to as a parameter (the process emitter, a
 * result), so it can be tested with a plain EventEmitter and fake actions.
 */
import type { StopReason } from '../../report/types.js';
import type { JobResult } from '../../kinds/types.js';

export type Interrupt = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'EPIPE';

/** What stopping does to the run. */
export interface StopActions {
  /** Cancels every job that has not started. */
  cancelPending(): void;
  /** TERMs every running job's tree (KILL after --kill-after); with `now`, KILLs it at once. */
  killRunning(opts?: { now?: boolean }): void;
  /** KILLs every process group the run knows (a second signal). */
  killAll(): void;
  /** Says why on stderr (unless --quiet). */
  notice(message: string): void;
  /** Wakes the submitter if it waits for room, so that it sees the stop. */
  wake(): void;
}

export class RunStop {
  /** Why the run stopped early; undefined while it has not. */
  reason: StopReason | undefined;
  /** The failure that halted the run (--halt): GNU parallel's form exits with its status. */
  haltedBy: JobResult | undefined;
  /** The first signal (or closed stdout) that interrupted the run. */
  interrupted: Interrupt | undefined;
  /** Past --deadline: nothing more is printed. */
  deadlinePassed = false;
  /** Resolves once the run starts nothing more (a streamed input stops being read). */
  readonly stopped: Promise<'stopped'>;
  private markStopped!: () => void;

  constructor(readonly actions: StopActions) {
    this.stopped = new Promise<'stopped'>((resolve) => (this.markStopped = () => resolve('stopped')));
  }

  /** Start nothing more; with `kill`, TERM every running tree (KILL after --kill-after). */
  stopStarting(kill: boolean): void {
    this.actions.cancelPending();
    if (kill) this.actions.killRunning();
    this.actions.wake();
    this.markStopped();
  }
}
