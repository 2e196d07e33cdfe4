import {
  groupIndex,
  groupMembers,
  killTokenCarriers,
  leaderPresent,
  leaderStart,
  ownsGroup,
  signalTagged,
  workerTag,
  groupHasLiving,
} from './owner.js';
import { newToken, type Watchdog } from './watchdog.js';

/**
 * The registry of live process groups, held by the main thread only. Every shell job runs as the leader of its
 * own group; killing `-pgid` reaches its grandchildren too, which execa's timeout and worker.terminate() do not.
 *
 * pid numbers are reused (pid_max is 32768 here): once a job's leader has been reaped and its group is empty, the
 * number may become anyone's group. So no signal goes to a number unless the group still holds a process of this
 * run (owner.ts): the leader seen at registration (by its start time), or a member carrying the run's token. That
 * is checked before the first TERM, again before the KILL of the escalation, and before every KILL at exit; the
 * watchdog checks the same way in its sweep. A group that is not ours any more is forgotten, unsignalled.
 */
interface Group {
  /** Distinguishes registrations of one number: a timer of an older one does nothing. */
  serial: number;
  /** The leader's start time, while it may still exist; undefined once it is known to be gone. */
  leader: string | undefined;
}

export class ProcessGroups {
  private readonly live = new Map<number, Group>();
  private readonly escalations = new Map<number, NodeJS.Timeout>();
  /** The SIGKILL due to what an ended worker started (endWorkerChildren), by the worker's tag. */
  private readonly taggedKills = new Map<string, NodeJS.Timeout>();
  private nextSerial = 1;
  /** Kills what is registered here if this process dies without doing it (see watchdog.ts). */
  readonly watchdog: Watchdog | undefined;
  /**
   * The run's token, which every job inherits as POOLRUN_RUN_ID (the pool hands it to its workers): a process
   * carrying it is one of ours. The watchdog's when it has one (the CLI's run token), otherwise a new one.
   */
  readonly token: string;

  constructor(opts: { watchdog?: Watchdog; token?: string } = {}) {
    this.watchdog = opts.watchdog;
    this.token = opts.token ?? opts.watchdog?.token ?? newToken();
    this.watchdog?.useToken(this.token);
  }

  /**
   * A job's leader `pgid` was spawned by `parent` (its worker's pid). `leader`: its start time as its worker read
   * it before reaping it (null: could not be read); when not given, read at once: if the leader has been reaped
   * already, its number may be someone else's by now, and only a member carrying the token makes it ours.
   */
  add(pgid: number, parent?: number, known?: string | null): void {
    // The kernel reused this number, so the old group is empty: its pending SIGKILL must not hit the new one.
    const stale = this.escalations.get(pgid);
    if (stale) {
      clearTimeout(stale);
      this.escalations.delete(pgid);
    }
    if (this.live.has(pgid)) this.watchdog?.remove(pgid);
    const leader = known !== undefined ? (known ?? undefined) : leaderStart(pgid, parent);
    this.live.set(pgid, { serial: this.nextSerial++, leader });
    this.watchdog?.add(pgid, leader);
  }

  /**
   * The job's leader has exited and its pipes closed. Anything left in its group (a daemonised grandchild that
   * closed its stdio) must not outlive the job: TERM it, then KILL after the grace. `gone`: the group was seen
   * empty after the leader was reaped (the worker's reap, native path): nothing can join an empty group, so there
   * is nothing to signal, and its number may already be anyone's.
   */
  release(pgid: number, killAfterMs: number, gone = false): void {
    const g = this.live.get(pgid);
    if (!g) return;
    g.leader = undefined; // reaped: the job has ended
    if (this.escalations.has(pgid)) return; // already being killed: let that finish
    if (gone) {
      this.forget(pgid);
      return;
    }
    if (!this.signalOwn(pgid, 'SIGTERM')) {
      this.forget(pgid);
      return;
    }
    this.escalate(pgid, killAfterMs);
  }

  /** Whether the group still has a process that has not exited (a signal would reach it): owner.ts groupHasLiving. */
  alive(pgid: number): boolean {
    return groupHasLiving(pgid);
  }

  /** TERM the whole group now, KILL it after `killAfterMs` if anything is left. */
  terminate(pgid: number, killAfterMs: number): void {
    if (!this.live.has(pgid)) return;
    if (!this.signalOwn(pgid, 'SIGTERM')) {
      this.forget(pgid);
      return;
    }
    if (!this.escalations.has(pgid)) this.escalate(pgid, killAfterMs);
  }

  /** SIGKILL one group now (a second Ctrl-C). */
  kill(pgid: number): void {
    if (!this.live.has(pgid)) return;
    this.signalOwn(pgid, 'SIGKILL');
    const timer = this.escalations.get(pgid);
    if (timer) clearTimeout(timer);
    this.escalations.delete(pgid);
    this.forget(pgid);
  }

  /**
   * A worker has been ended under a job (a call's timeout, a cancel) or has died under one: the processes it
   * started that still run are in no group poolrun knows (a call's children), so they are found by the worker's
   * tag (owner.ts WORKER_TAG_VAR), which they inherit: SIGTERM now, SIGKILL after `killAfterMs` (with `now`,
   * SIGKILL at once). Called again for the same worker once it has exited (it may have started a child meanwhile):
   * SIGTERM to what is found, and the SIGKILL is still due, or due anew if it has been sent already.
   */
  endWorkerChildren(pid: number, threadId: number, killAfterMs: number, now = false): void {
    const tag = workerTag(this.token, pid, threadId);
    if (now) {
      clearTimeout(this.taggedKills.get(tag));
      this.taggedKills.delete(tag);
      signalTagged(tag, 'SIGKILL');
      return;
    }
    if (!signalTagged(tag, 'SIGTERM') || this.taggedKills.has(tag)) return;
    const timer = setTimeout(() => {
      this.taggedKills.delete(tag);
      signalTagged(tag, 'SIGKILL');
    }, killAfterMs);
    timer.unref();
    this.taggedKills.set(tag, timer);
  }

  /** SIGKILL every group now (second Ctrl-C, exit). Synchronous, so it is safe in an exit path. */
  killAll(): void {
    for (const [tag, timer] of this.taggedKills) {
      clearTimeout(timer);
      signalTagged(tag, 'SIGKILL');
    }
    this.taggedKills.clear();
    const members = groupIndex();
    for (const pgid of this.live.keys()) {
      this.signalOwn(pgid, 'SIGKILL', members);
      this.watchdog?.remove(pgid);
    }
    for (const t of this.escalations.values()) clearTimeout(t);
    this.escalations.clear();
    this.live.clear();
  }

  /**
   * killAll(), then every other process of this run (its token): what a job left outside its group (setsid), the
   * job of a worker that died before it could say what it spawned, a child a call started. Then the watchdog goes:
   * nothing is left for it to guard.
   */
  close(): void {
    this.killAll();
    killTokenCarriers(this.token);
    this.watchdog?.close();
  }

  /**
   * Starts the watchdog now, before any group: a worker is starting, and what it runs (a call that starts
   * processes, a worker process blocked in a call) must not outlive this process should it die (see watchdog.ts).
   */
  guard(): void {
    this.watchdog?.arm();
  }

  /** Signals the group if it still holds a process of this run; false when it holds none (or is gone). */
  private signalOwn(pgid: number, signal: NodeJS.Signals, members = groupMembers): boolean {
    const g = this.live.get(pgid);
    if (!g) return false;
    if (g.leader !== undefined && leaderPresent(pgid, g.leader)) return signalGroup(pgid, signal);
    g.leader = undefined; // gone: it never comes back, and its number may be anyone's now
    if (!ownsGroup(pgid, undefined, this.token, members)) return false;
    return signalGroup(pgid, signal);
  }

  private forget(pgid: number): void {
    this.live.delete(pgid);
    this.watchdog?.remove(pgid);
  }

  private escalate(pgid: number, killAfterMs: number): void {
    const serial = this.live.get(pgid)?.serial;
    const timer = setTimeout(() => {
      this.escalations.delete(pgid);
      if (this.live.get(pgid)?.serial !== serial) return;
      this.signalOwn(pgid, 'SIGKILL');
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
