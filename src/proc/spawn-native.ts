/**
 * The posix_spawn spawner (native/spawn.c, built at `npm install` by scripts/build-addon.mjs). The addon hands back
 * the pid and the parent ends of the stdout/stderr pipes; they are read as net.Sockets, as child_process does. The
 * exit comes from the addon's reap (wait4 on this pid only, WNOHANG, with its rusage), asked when both pipes have
 * closed (a child's exit closes them) and on a backing-off timer meanwhile (a grandchild may hold them open).
 *
 * Peak memory: Linux counts, in a process's peak RSS, the memory of the address space it left by exec; a child
 * started by posix_spawn (a vfork: it shares poolrun's memory until it execs) so carries poolrun's own peak. A
 * job's peak is therefore only known when it is above what poolrun's process had used when it started the job:
 * otherwise maxRssKiB is null (never poolrun's number passed off as the job's).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { nodeSpawn } from './spawn-node.js';
import type { Exit, Helper, Spawned, SpawnOptions, Usage } from './spawn-types.js';

type Reaped = [
  code: number,
  signal: number,
  userUs: number,
  systemUs: number,
  maxRss: number,
  groupGone: number,
];

interface Addon {
  spawn(
    file: string,
    argv: string[],
    envp: string[],
    cwd: string | null,
    briefMs: number,
  ):
    | [
        pid: number,
        stdoutFd: number,
        stderrFd: number,
        selfMaxRss: number,
        leaderStart: string | undefined,
        exit?: Reaped,
        stdout?: Buffer,
        stderr?: Buffer,
      ]
    | number;
  reap(pid: number, waitMs: number): Reaped | undefined;
  spawnHelper(file: string, argv: string[], envp: string[]): [pid: number, stdinFd: number] | number;
}

/** Longest wait between two reaps of a child whose pipes are still open (a grandchild holds them, or it runs). */
const MAX_POLL_MS = 100;
/**
 * How long the reap asked when both pipes have closed may wait for the exit (native/spawn.c reap): an exit closes
 * the files a moment before the process becomes a zombie, and a timer instead would hold the job's slot for 1 ms
 * or more. A process that closed its stdio and runs on costs this once.
 */
const EXIT_WAIT_MS = 2;
/**
 * How long the worker waits inside the spawn for a job to end (native/spawn.c spawn briefMs): a job that has
 * exited and closed its pipes by then comes back whole, output and exit, without the two sockets, their events
 * and the reaping timer that cost more than a tiny job itself (issue 15, B1). A worker runs one job at a time, so
 * it had nothing else to do meanwhile, but for messages about that job (output acks, `spawned`: delayed by this).
 */
const BRIEF_MS = 3;

let addon: Addon | undefined;
let loadError: string | undefined;

/** The addon's file, beside src/ and dist/ alike (both are two levels under the package). */
/** A path, not a URL's pathname: that is percent-encoded (a space is %20), and the addon would not load. */
export const ADDON_PATH = fileURLToPath(new URL('../../native/build/poolrun_spawn.node', import.meta.url));

/** true, or why the addon cannot be loaded. */
export function loadNative(): true | string {
  if (addon) return true;
  if (loadError !== undefined) return loadError;
  try {
    if (process.platform !== 'linux') throw new Error(`not available on ${process.platform}`);
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
    return true;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n', 1)[0]! : String(e);
    loadError = (e as { code?: string }).code === 'MODULE_NOT_FOUND' ? `${ADDON_PATH} is missing` : msg;
    return loadError;
  }
}

/** A signal's name as Node gives it: the first of its aliases (SIGABRT, not SIGIOT; SIGIO, not SIGPOLL). */
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, n] of Object.entries(constants.signals))
  if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name as NodeJS.Signals);
/** An errno's code as libuv names it: the first of its aliases (EAGAIN, not EWOULDBLOCK). */
const ERRNO_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) if (!ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);

/** Node's spawn error for `errno` (positive): `spawn FILE CODE`, with errno, code, syscall, path and spawnargs. */
function spawnError(errno: number, file: string, args: string[]): Error {
  const code = ERRNO_NAMES.get(errno) ?? `Unknown system error ${errno}`;
  return Object.assign(new Error(`spawn ${file} ${code}`), {
    errno: -errno,
    code,
    syscall: `spawn ${file}`,
    path: file,
    spawnargs: args,
  });
}

const RUNTIME_ERRORS = new Set(
  ['EACCES', 'EAGAIN', 'EMFILE', 'ENFILE', 'ENOENT'].map((c) => constants.errno[c as 'EACCES']),
);

function ended(data?: Buffer): Readable {
  const r = new Readable({ read() {} });
  if (data) r.push(data);
  r.push(null);
  return r;
}

/** An exit as the addon's reap gives it; the peak only when above poolrun's own at the spawn (see above). */
function toExit(x: Reaped, floor: number): Exit {
  const [code, signal, userUs, sysUs, rss, gone] = x;
  const usage: Usage = {
    userMs: Math.round(userUs / 1000),
    systemMs: Math.round(sysUs / 1000),
    maxRssKiB: rss > floor ? rss : null,
  };
  const exit: Exit = { code: code >= 0 ? code : null, signal: SIGNAL_NAMES.get(signal) ?? null, usage };
  if (gone) exit.groupGone = true;
  return exit;
}

class NativeSpawned extends EventEmitter implements Spawned {
  pid: number | undefined;
  stdout: Readable;
  stderr: Readable;
  readonly exited: Promise<Exit>;
  usage: Usage | null = null;
  groupGone = false;
  leaderStart: string | undefined;

  constructor(a: Addon, file: string, args: string[], options: SpawnOptions) {
    super();
    const env = envp(options.env);
    let resolveExit!: (e: Exit) => void;
    this.exited = new Promise<Exit>((r) => (resolveExit = r));
    let open = 3; // the exit and both streams
    let exit: Exit = { code: null, signal: null, usage: null };
    const closed = () => {
      if (--open > 0) return;
      this.usage = exit.usage;
      this.groupGone = exit.groupGone === true;
      resolveExit(exit);
      this.emit('close', exit.code, exit.signal);
    };
    const r = a.spawn(file, [file, ...args], env, options.cwd ?? null, options.brief ? BRIEF_MS : 0);
    if (typeof r === 'number') {
      // As Node: a run-time error is an 'error' event; any other (ENOTDIR for a cwd that is a file...) is thrown.
      if (!RUNTIME_ERRORS.has(-r)) {
        const code = ERRNO_NAMES.get(-r) ?? `Unknown system error ${r}`;
        throw Object.assign(new Error(`spawn ${code}`), { errno: r, code, syscall: 'spawn' });
      }
      this.pid = undefined;
      this.stdout = ended();
      this.stderr = ended();
      exit = { code: r, signal: null, usage: null };
      const err = spawnError(-r, file, [file, ...args]);
      process.nextTick(() => {
        this.emit('error', err);
        open = 1;
        closed();
      });
      return;
    }
    const [pid, outFd, errFd, floor, leaderStart, finished] = r;
    this.pid = pid;
    this.leaderStart = leaderStart;
    if (finished) {
      // It ended within the spawn: its output is read and it is reaped; the streams only hand the output on.
      this.stdout = ended(r[6]);
      this.stderr = ended(r[7]);
      exit = toExit(finished, floor);
      this.stdout.on('close', closed);
      this.stderr.on('close', closed);
      closed();
      return;
    }
    this.stdout = new Socket({ fd: outFd, readable: true, writable: false });
    this.stderr = new Socket({ fd: errFd, readable: true, writable: false });
    let reaped = false;
    let timer: NodeJS.Timeout | undefined;
    let pipes = 2;
    const reap = (waitMs = 0): boolean => {
      if (reaped) return true;
      const x = a.reap(pid, waitMs);
      if (!x) return false;
      reaped = true;
      clearTimeout(timer);
      exit = toExit(x, floor);
      closed();
      return true;
    };
    // Until it is reaped: soon after each pipe closes (an exit closes both), and backing off up to MAX_POLL_MS.
    const poll = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (!reap()) poll(Math.min(ms * 2, pipes ? MAX_POLL_MS : 10));
      }, ms);
    };
    const pipeClosed = () => {
      pipes--;
      closed();
      if (!reap(pipes ? 0 : EXIT_WAIT_MS)) poll(1);
    };
    this.stdout.on('close', pipeClosed);
    this.stderr.on('close', pipeClosed);
    poll(5);
  }
}

/** Strings with a NUL byte cannot be passed to exec: Node's spawn says so (it throws), so it is left to say it. */
function hasNul(file: string, args: string[], options: SpawnOptions): boolean {
  if (file.includes('\0') || (options.cwd?.includes('\0') ?? false)) return true;
  if (args.some((a) => a.includes('\0'))) return true;
  for (const k in options.env) if (k.includes('\0') || options.env[k]?.includes('\0')) return true;
  return false;
}

export function nativeSpawn(file: string, args: string[], options: SpawnOptions): Spawned {
  if (!addon || hasNul(file, args, options)) return nodeSpawn(file, args, options);
  return new NativeSpawned(addon, file, args, options);
}

/**
 * A helper (the watchdog) by posix_spawn (native/spawn.c spawnHelper): no fork of poolrun, which cost 4-7 ms of the
 * main thread at every run's start (BENCHMARKS.md, "B6: the watchdog without a fork"), and more in a big process.
 * Throws as Node's spawn does when it cannot start.
 */
export function nativeHelper(a: Addon, file: string, args: string[], env: NodeJS.ProcessEnv): Helper {
  const r = a.spawnHelper(file, [file, ...args], envp(env));
  if (typeof r === 'number') throw spawnError(-r, file, [file, ...args]);
  const [pid, fd] = r;
  const stdin = new Socket({ fd, readable: false, writable: true });
  stdin.unref();
  return {
    pid,
    stdin,
    onError() {},
    reapWhenGone() {
      // It exits at once on `q` or end-of-file; polled a little while, never holding the event loop.
      let ms = 5;
      const poll = () => {
        if (a.reap(pid, 0) || ms > 2000) return;
        ms *= 2;
        setTimeout(poll, ms).unref();
      };
      setTimeout(poll, ms).unref();
    },
  };
}

/** The addon, when it is loaded (proc/spawn.ts: the helper's spawn). */
export function loadedAddon(): Addon | undefined {
  return addon;
}

/** An environment as exec takes it: `NAME=value` strings, in the object's order, unset names left out. */
function envp(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const k in env) {
    const v = env[k];
    if (v !== undefined) out.push(`${k}=${v}`);
  }
  return out;
}
