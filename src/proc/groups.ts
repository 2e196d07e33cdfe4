import type { Watchdog } from './watchdog.js';

/**
 * The registry of live process groups, held by the main thread only. Every shell job runs as the leader of its
 * own group; killing `-pgid` reaches its grandchildren too, which execa's timeout and worker.terminate() do not.
 *
 * pid numbers are reused (pid_max is 32768 here), so a delayed SIGKILL is only sent if the group is still the
 * one we registered: each registration gets a token, and a timer whose token is stale does nothing.
 */
export class ProcessGroups {
  private readonly live = new Map<number, number>();
  private readonly escalations = new Map<number, NodeJS.Timeout>();
  private nextToken = 1;
  /** Kills what is registered here if this process dies without doing it (see watchdog.ts). */
  readonly watchdog: Watchdog | undefined;

  constructor(opts: { watchdog?: Watchdog } = {}) {
    this.watchdog = opts.watchdog;
  }

  add(pgid: number): void {
    // The kernel reused this number, so the old group is empty: its pending SIGKILL must not hit the new one.
    const stale = this.escalations.get(pgid);
    if (stale) {
      clearTimeout(stale);
      this.escalations.delete(pgid);
    }
    if (this.live.has(pgid)) this.watchdog?.remove(pgid);
    this.live.set(pgid, this.nextToken++);
    this.watchdog?.add(pgid);
  }

  /**
   * The job's leader has exited and its pipes closed. Anything left in its group (a daemonised grandchild that
   * closed its stdio) must not outlive the job: TERM it, then KILL after the grace.
   */
  release(pgid: number, killAfterMs: number): void {
    if (!this.live.has(pgid)) return;
    if (this.escalations.has(pgid)) return; // already being killed: let that finish
    if (!signalGroup(pgid, 'SIGTERM')) {
      this.forget(pgid);
      return;
    }
    this.escalate(pgid, killAfterMs);
  }

  /** TERM the whole group now, KILL it after `killAfterMs` if anything is left. */
  terminate(pgid: number, killAfterMs: number): void {
    if (!this.live.has(pgid)) return;
    if (!signalGroup(pgid, 'SIGTERM')) {
      this.forget(pgid);
      return;
    }
    if (!this.escalations.has(pgid)) this.escalate(pgid, killAfterMs);
  }

  /** SIGKILL one group now (a second Ctrl-C). */
  kill(pgid: number): void {
    if (!this.live.has(pgid)) return;
    signalGroup(pgid, 'SIGKILL');
    const timer = this.escalations.get(pgid);
    if (timer) clearTimeout(timer);
    this.escalations.delete(pgid);
    this.forget(pgid);
  }

  /** SIGKILL every group now (second Ctrl-C, exit). Synchronous, so it is safe in an exit path. */
  killAll(): void {
    for (const pgid of this.live.keys()) {
      signalGroup(pgid, 'SIGKILL');
      this.watchdog?.remove(pgid);
    }
    for (const t of this.escalations.values()) clearTimeout(t);
    this.escalations.clear();
    this.live.clear();
  }

  /** killAll(), then let the watchdog go: nothing is left for it to guard. */
  close(): void {
    this.killAll();
    this.watchdog?.close();
  }

  private forget(pgid: number): void {
    this.live.delete(pgid);
    this.watchdog?.remove(pgid);
  }

  private escalate(pgid: number, killAfterMs: number): void {
    const token = this.live.get(pgid);
    const timer = setTimeout(() => {
      this.escalations.delete(pgid);
      if (this.live.get(pgid) !== token) return;
      signalGroup(pgid, 'SIGKILL');
      this.forget(pgid);
    }, killAfterMs);
    timer.unref();
    this.escalations.set(pgid, timer);
  }
}

/** Sends a signal to a process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** True while any process of the group exists (zombies included). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
