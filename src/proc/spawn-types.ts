/** The spawners' shared types (spawn.ts chooses a spawner; spawn-native.ts and spawn-node.ts implement it). */
import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/** What a job's process tree cost, from wait4's rusage (proc/spawn.ts); maxRssKiB null when not known. */
export interface Usage {
  userMs: number;
  systemMs: number;
  maxRssKiB: number | null;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** null on the node path, and when the spawn failed. */
  usage: Usage | null;
  /** Its process group was empty once it was reaped (native path only): nothing of the job is left to signal. */
  groupGone?: boolean;
}

export interface SpawnOptions {
  cwd: string | undefined;
  env: NodeJS.ProcessEnv;
  /**
   * The caller's thread may wait a few ms inside the spawn for the job to end (a worker, which runs one job at a
   * time): a tiny job then comes back finished (native path; spawn-native.ts BRIEF_MS). Never on the main thread.
   */
  brief?: boolean;
}

/**
 * A started (or failed) process: events 'error' (spawn failure, as Node's ChildProcess) and 'close' (code, signal)
 * once it has exited and stdout/stderr are closed; `exited` resolves at the same time with its usage too.
 */
export interface Spawned extends EventEmitter {
  /** undefined when the spawn failed. */
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<Exit>;
  /** The exit's usage, once 'close' has been emitted (null before, and where it is not measured). */
  readonly usage: Usage | null;
  /** Exit's groupGone, once 'close' has been emitted (false before, and where it is not known). */
  readonly groupGone?: boolean;
  /**
   * The leader's start time (/proc/PID/stat field 22, see proc/owner.ts), read by the spawner before the child
   * could be reaped (native path); undefined where it was not read.
   */
  readonly leaderStart?: string;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

/**
 * A helper process of poolrun's own (the watchdog: proc/watchdog.ts), in a session of its own, fed on its stdin,
 * its stdout and stderr on /dev/null. Neither it nor its stdin holds the event loop open.
 */
export interface Helper {
  readonly pid: number | undefined;
  readonly stdin: Writable;
  /** Says when it could not be started (node path: the spawn's 'error' event; the native one throws instead). */
  onError(fn: () => void): void;
  /** Once it has been told to exit: reaped when it has (the node path reaps by itself). */
  reapWhenGone(): void;
}
