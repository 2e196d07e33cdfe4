/**
 * Is process group `pgid` still one of this run's? A group id is the pid of its leader; once the leader has been
 * reaped and no member is left, the kernel may hand the number to any new process, which may make it a group of
 * its own (setsid). So a number alone never says whose group it is. Two things do, neither fooled by pid reuse:
 *
 * - the leader itself, while it exists (zombie included: it holds the number): its start time (/proc/PID/stat
 *   field 22, clock ticks since boot) was taken when the group was registered, from a process whose parent was
 *   the worker that spawned it;
 * - a member that carries this run's token (POOLRUN_RUN_ID=TOKEN in /proc/PID/environ, inherited from the job):
 *   a number held by a member of ours cannot be anyone else's group at the same time. This covers a group whose
 *   leader has exited while a grandchild lives on in it.
 *
 * Where /proc cannot be read (not Linux), nothing can be checked and every registered group is taken as ours.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { RUN_ID_VAR } from './watchdog.js';

export interface ProcStat {
  /** Field 3: R, S, D, Z (a zombie, not yet reaped), X (dead)… */
  state: string;
  ppid: number;
  pgrp: number;
  /** Field 22, as written (clock ticks since boot): compared as a string, never as a rounded number. */
  start: string;
}

const NUL = Buffer.from([0]);
const statBuf = Buffer.alloc(2048);
let proc: boolean | undefined;

/** Whether /proc describes processes here. */
export function procAvailable(): boolean {
  if (proc === undefined) {
    try {
      proc = readStat(process.pid) !== undefined;
    } catch {
      proc = false;
    }
  }
  return proc;
}

/**
 * /proc/PID/stat, undefined when there is no such process. The command name (field 2) may hold anything,
 * spaces and parentheses included: the fields are read after its last `)`.
 */
export function readStat(pid: number): ProcStat | undefined {
  let s: string;
  try {
    // One open and one read (readFileSync also stats the file, and reads again to find the end): this runs once
    // per job. The line is at most 52 numbers and a 16-byte name: well under the buffer.
    const fd = openSync(`/proc/${pid}/stat`, 'r');
    try {
      s = statBuf.toString('latin1', 0, readSync(fd, statBuf, 0, statBuf.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): field n is f[n - 3].
  const ppid = Number(f[1]);
  const pgrp = Number(f[2]);
  const start = f[19];
  if (!Number.isInteger(ppid) || !Number.isInteger(pgrp) || !start || !/^\d+$/.test(start)) return undefined;
  return { state: f[0]!, ppid, pgrp, start };
}

/**
 * The start time of `pgid` as the leader of its own group and a child of `parent`: what a group is recognised by
 * later. Undefined when no such process exists (the leader has been reaped already, its number perhaps taken).
 */
export function leaderStart(pgid: number, parent?: number): string | undefined {
  if (!procAvailable()) return undefined;
  const st = readStat(pgid);
  if (!st || st.pgrp !== pgid) return undefined;
  if (parent !== undefined && st.ppid !== parent) return undefined;
  return st.start;
}

/** Whether the leader recorded as `start` still exists (the number is then certainly its group's). */
export function leaderPresent(pgid: number, start: string): boolean {
  const st = readStat(pgid);
  return st !== undefined && st.pgrp === pgid && st.start === start;
}

/**
 * Whether group `pgid` has a process that has not exited: zombies are not counted (a process that left the group
 * and is orphaned is reaped by init, or never when poolrun is PID 1 in a container). Where /proc cannot tell,
 * any process, zombie or not, counts.
 */
export function groupHasLiving(pgid: number): boolean {
  if (!procAvailable()) return groupExists(pgid);
  // Its leader, living, answers with one read; /proc is scanned only once the leader is gone or a zombie.
  const leader = readStat(pgid);
  if (leader && leader.pgrp === pgid && leader.state !== 'Z' && leader.state !== 'X') return true;
  return scanGroups(pgid, true).has(pgid);
}

/** The pids whose process group is `pgid` (a scan of /proc: only for a group whose leader is gone). */
export function groupMembers(pgid: number): number[] {
  return scanGroups(pgid).get(pgid) ?? [];
}

/**
 * Every process's group, from one scan of /proc, for many groups checked at once (at exit). The members of a
 * group found later than the scan are not in it: only ever a reason not to signal.
 */
export function groupIndex(): (pgid: number) => number[] {
  let index: Map<number, number[]> | undefined;
  return (pgid) => (index ??= scanGroups()).get(pgid) ?? [];
}

/** pid lists by process group: of group `only`, or of all; with `living`, zombies (and the dead) left out. */
function scanGroups(only?: number, living = false): Map<number, number[]> {
  const out = new Map<number, number[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const st = readStat(pid);
    if (!st || (only !== undefined && st.pgrp !== only)) continue;
    if (living && (st.state === 'Z' || st.state === 'X')) continue;
    const pgrp = st.pgrp;
    const list = out.get(pgrp);
    if (list) list.push(pid);
    else out.set(pgrp, [pid]);
  }
  return out;
}

/** Whether process `pid`'s environment holds RUN_ID_VAR=token (unreadable or gone: no). */
export function carriesToken(pid: number, token: string): boolean {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  // Entries are NUL-terminated; the first has nothing before it, the last may lack its NUL.
  return Buffer.concat([NUL, env, NUL]).includes(`\0${RUN_ID_VAR}=${token}\0`);
}

/** True while any process of the group exists (zombies included). */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, though not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether group `pgid` holds a process of this run: its recorded leader, or a member carrying `token`.
 * `leader` is the start time recorded at registration, undefined when the leader is known to be gone; `members`
 * lists a group's processes (groupIndex() when many groups are checked at once).
 */
export function ownsGroup(
  pgid: number,
  leader: string | undefined,
  token: string,
  members: (pgid: number) => number[] = groupMembers,
): boolean {
  if (!procAvailable()) return true;
  if (leader !== undefined && leaderPresent(pgid, leader)) return true;
  if (!groupExists(pgid)) return false;
  for (const pid of members(pgid)) if (carriesToken(pid, token)) return true;
  return false;
}

/**
 * SIGKILLs every process that carries the run's token (every job inherits it, and so does each worker and each
 * child a call starts), and the group of each that leads its own (a shell job); never this process. Synchronous,
 * for an exit path; Linux only (/proc), elsewhere nothing.
 */
export function killTokenCarriers(token: string): void {
  signalCarriers('SIGKILL', (pid) => carriesToken(pid, token));
}

/**
 * What a worker's calls start (their child processes, and whatever those start) inherits WORKER_TAG_VAR: the tags
 * of the workers it descends from, space-separated (a poolrun run inside another's call adds its own), each
 * `TOKEN:PID.THREADID` (workerTag; pool/worker-tag.ts sets it). When a call times out, is cancelled, or its worker
 * dies under it, the main thread ends the processes carrying that worker's tag (signalTagged): they are in no
 * group poolrun knows. A process started with an environment of its own making (`env: {}`) does not carry it.
 */
export const WORKER_TAG_VAR = 'POOLRUN_WORKER_TAG';

/** The tag of the worker `pid`/`threadId` (0 for a worker process) of the run whose token is `token`. */
export function workerTag(token: string, pid: number, threadId: number): string {
  return `${token}:${pid}.${threadId}`;
}

/**
 * Sends `signal` to every process whose WORKER_TAG_VAR holds `tag` (and to the group of each that leads its own:
 * a child the call started `detached`); never this process. Synchronous; Linux only (/proc), elsewhere nothing.
 * How many it found.
 */
export function signalTagged(tag: string, signal: NodeJS.Signals): number {
  return signalCarriers(signal, (pid) => envValue(pid, WORKER_TAG_VAR)?.split(' ').includes(tag) === true);
}

/** Signals every process (never this one) that `matches`: the process, or its group when it leads one. How many. */
function signalCarriers(signal: NodeJS.Signals, matches: (pid: number) => boolean): number {
  if (!procAvailable()) return 0;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || !matches(pid)) continue;
    const stat = readStat(pid);
    try {
      process.kill(stat?.pgrp === pid ? -pid : pid, signal);
      n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

/** The value of variable `name` in process `pid`'s environment; undefined if absent or unreadable. */
function envValue(pid: number, name: string): string | undefined {
  let env: Buffer;
  try {
    env = Buffer.concat([NUL, readFileSync(`/proc/${pid}/environ`)]);
  } catch {
    return undefined;
  }
  // Entries are NUL-terminated (a NUL is put before the first); the last may lack its NUL.
  const key = `\0${name}=`;
  const at = env.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  const end = env.indexOf(0, start);
  return env.toString('latin1', start, end < 0 ? env.length : end);
}
