import { stat } from 'node:fs/promises';
import type { JobContext } from '../context.js';
import type { Outcome } from '../outcome.js';
import { Capture } from '../capture.js';
import { plainArgv, shellEnv } from './direct.js';
import { spawnJob } from '../../proc/spawn.js';
import { emptyOutcome } from '../outcome.js';
import { errnoCode } from '../job-error.js';
import type { SerializedError } from '../types.js';
import { RUN_ID_VAR } from '../../proc/watchdog.js';
import { groupHasLiving } from '../../proc/owner.js';

function spawnPiped(
  file: string,
  args: string[],
  options: { cwd: string | undefined; env: NodeJS.ProcessEnv; detached: boolean; brief: boolean },
) {
  // The spawn path (posix_spawn addon or child_process) is chosen in proc/spawn.ts; always a group of its own.
  return spawnJob(file, args, options);
}

let envCopy: Record<string, string | undefined> | undefined;

/**
 * process.env read key by key goes through C++ on every access: a plain copy, taken once, is far cheaper to
 * spread per job. Only a call job's code (or the initializer, which runs before any job) can change process.env
 * in this worker, so the worker calls envMayHaveChanged() after each call job.
 */
function baseEnv(): Record<string, string | undefined> {
  return (envCopy ??= sortedEnv());
}

/**
 * process.env in name order: a job sees its variables in the same order whichever thread started it (a worker
 * thread's copy of process.env lists them in another order than the main thread's, and a job may start from
 * either: pool/hybrid.ts).
 */
function sortedEnv(): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env).sort()) out[k] = process.env[k];
  return out;
}

export function envMayHaveChanged(): void {
  envCopy = undefined;
}

/**
 * What a job's two pipes can still hold once its processes have all exited (Linux's default pipe is 64 KiB; a
 * program may grow its own), read after a stop even while streamed output is held back.
 */
const HELD_BACK_MAX = 128 * 1024;
/** How long held-back output may give no byte after a stop before the pipes are let go all the same. */
const HELD_BACK_STALL_MS = 5000;

/**
 * Runs a shell job in a process group of its own (`detached: true`), so the main thread can kill the whole
 * tree with `kill(-pgid)`. Settles when the process has exited and its stdout/stderr are closed, as a shell
 * would: grandchildren that keep the pipes open keep the job running (and are killed with it on timeout).
 * Once poolrun kills the job (its timeout, a cancel, a stop: the main thread says `abort`), the job is over
 * when its group is empty: a process that left the group (`setsid`) and holds the pipes is not waited for (it
 * dies at the run's end, by the run's token), or a timeout would last as long as that process does.
 */
export function runShell(command: string | string[], ctx: JobContext): Promise<Outcome> {
  const { job } = ctx;
  // `--`: a command that begins with `-` or `+` (`-rf a`) is a command to sh, not its options ("Illegal option -r").
  const [file, args] =
    typeof command === 'string' ? ['/bin/sh', ['-c', '--', command]] : [command[0]!, command.slice(1)];
  const startedAt = Date.now();
  const out = new Capture(ctx.capture, `${ctx.key}.stdout`);
  const err = new Capture(ctx.capture, `${ctx.key}.stderr`);
  const base = baseEnv();
  const seq = String(job.index + 1);
  const slot = String(ctx.worker);
  const extra: Record<string, string | undefined> = {
    ...job.env,
    // GNU parallel's {%} and {#} as variables: which worker slot, which job.
    POOLRUN_WORKER: slot,
    POOLRUN_JOB_ID: job.id,
    POOLRUN_JOB_INDEX: seq,
    // The same under GNU parallel's names, for its users' scripts ($PARALLEL_SEQ is {#}, $PARALLEL_JOBSLOT {%}).
    PARALLEL_SEQ: seq,
    PARALLEL_JOBSLOT: slot,
  };
  // The run's token marks the job's processes as ours (proc/owner.ts): a job's env does not replace it.
  const token = base[RUN_ID_VAR];
  if (token !== undefined) extra[RUN_ID_VAR] = token;
  // brief: in a worker, which runs one job at a time; never on the main thread (proc/spawn-types.ts).
  const options = { cwd: job.cwd, detached: true, brief: ctx.mainThread !== true };

  return new Promise<Outcome>((resolve) => {
    let child: ReturnType<typeof spawnPiped> | undefined;
    const argv = typeof command === 'string' ? plainArgv(command) : undefined;
    const direct = argv && shellEnv(base, extra, job.cwd ?? process.cwd(), argv[0]!);
    if (argv && direct) {
      try {
        child = spawnPiped(argv[0]!, argv.slice(1), { ...options, env: direct });
      } catch {
        // Thrown (a cwd that is a file: ENOTDIR...): the shell's own spawn below says it.
      }
      if (child?.pid === undefined) {
        // Not found, not executable, not a binary...: let the shell try, and say what it says.
        child?.on('error', () => {});
        child = undefined;
      }
    }
    const ranDirect = child !== undefined;
    if (!child) {
      try {
        child = spawnPiped(file, args, { ...options, env: { ...base, ...extra } });
      } catch (e) {
        // Node's spawn throws some errors instead of emitting them (ENOTDIR for a cwd that is a file): the job
        // fails as one that emitted it does, with a shell's exit status and a message that names the cause.
        void notStarted(e, file, job.cwd, startedAt).then(resolve);
        return;
      }
    }
    if (child.pid !== undefined) ctx.spawned(child.pid, child.leaderStart);
    const spawned = child;
    let closed = false;
    /** The job's pipes were let go on the abort, held by a process that left its group: it did not end by itself. */
    let cut = false;
    /** Streamed output held back (see forward below); bytes read from the pipes. Declared before onAbort runs. */
    let paused = false;
    let read = 0;
    /** Bytes read when the job's group was found empty after a stop (then a process that left it holds the pipes). */
    let emptyAt: number | undefined;
    const letGo = () => {
      if (closed || cut) return;
      cut = true;
      spawned.stdout.destroy();
      spawned.stderr.destroy();
    };
    // Past what pipes hold, read after the group emptied: an escapee writing, let go at once (a resumed stream
    // delivered megabytes between two looks, which the printer then had to write to a slow reader).
    const counted = (n: number) => {
      read += n;
      if (emptyAt !== undefined && read - emptyAt > HELD_BACK_MAX) letGo();
    };
    const signal = ctx.signal;
    const onAbort = () => {
      const pgid = spawned.pid;
      if (pgid === undefined) return;
      // What the group's processes wrote before they died is read for a moment more, then the pipes are let go.
      // Output poolrun holds back (flow control: a slow reader of its stdout) is read first: it may be the job's
      // own, still in the pipes (a review: a job done in 200 ms lost a tenth of its output to a 1 s timeout). But
      // no more than pipes hold: past that, a process that left the group is writing still (a second review: one
      // writing as fast as stdout was read kept the run from ending, through two Ctrl-Cs).
      // Nor for long without a byte: what is held back may never be taken (stdout stalled for good).
      let progress = { read: 0, at: 0 };
      const waiting = () => {
        if (read !== progress.read) progress = { read, at: Date.now() };
        // (Past HELD_BACK_MAX the pipes were let go as the bytes came: counted above.)
        return paused && Date.now() - progress.at < HELD_BACK_STALL_MS;
      };
      const check = () => {
        if (closed) return;
        if (!groupEmpty(pgid)) return void setTimeout(check, 50).unref();
        if (emptyAt === undefined) {
          emptyAt = read;
          progress = { read, at: Date.now() };
        }
        if (waiting()) return void setTimeout(check, 50).unref();
        setTimeout(() => {
          if (closed) return;
          if (waiting()) return check();
          letGo();
        }, 100).unref();
      };
      check();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });

    const stream = ctx.capture.stream;
    const { stdout, stderr } = child;
    // Streamed output waits for the main thread to print it: past the credit, the pipes are not read, so a
    // job printing faster than stdout is read is slowed down (as it would be writing to a pipe) instead of
    // filling poolrun's memory.
    const forward = (name: 'stdout' | 'stderr', b: Buffer) => {
      if (ctx.output(name, b) || paused) return;
      paused = true;
      stdout.pause();
      stderr.pause();
      ctx.whenOutputTaken(() => {
        paused = false;
        stdout.resume();
        stderr.resume();
      });
    };
    stdout.on('data', (b: Buffer) => {
      counted(b.length);
      out.push(b);
      if (stream) forward('stdout', b);
    });
    stderr.on('data', (b: Buffer) => {
      counted(b.length);
      err.push(b);
      if (stream) forward('stderr', b);
    });

    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      closed = true;
      ctx.signal.removeEventListener('abort', onAbort);
      const o = out.finish();
      const e = err.finish();
      const outcome: Outcome = {
        exitCode: code,
        signal,
        startedAt,
        durationMs: Date.now() - startedAt,
        stdout: o.data,
        stderr: e.data,
        usage: spawned.usage,
      };
      if (spawned.groupGone) outcome.groupGone = true;
      if (cut) outcome.aborted = true;
      if (ranDirect) outcome.direct = true;
      if (o.file) outcome.stdoutFile = o.file;
      if (e.file) outcome.stderrFile = e.file;
      if (o.truncated) outcome.stdoutTruncated = true;
      if (e.truncated) outcome.stderrTruncated = true;
      if (!spawnError) {
        resolve(outcome);
        return;
      }
      // Node reports -errno; a shell says 127 (not found) or 126 (found, cannot be executed): so does poolrun.
      void explainSpawnError(spawnError, file, job.cwd).then(([status, error]) => {
        outcome.exitCode = status;
        outcome.error = error;
        resolve(outcome);
      });
    });
  });
}

/**
 * No process of ours that has not exited is left in group `pgid`. Zombies do not count: an orphan that left the
 * group holding the job's pipes (setsid) and then died is reaped by init, slowly, or never when poolrun is PID 1
 * (a container without an init): the job's end waited for it as long as the process that held its pipes lived.
 */
function groupEmpty(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    // EPERM: the number is another user's group by now.
    return errnoCode(e) === 'ESRCH' || errnoCode(e) === 'EPERM';
  }
  return !groupHasLiving(pgid);
}

/** The outcome of a job whose process could not be created at all (spawn threw). */
async function notStarted(
  e: unknown,
  file: string,
  cwd: string | undefined,
  startedAt: number,
): Promise<Outcome> {
  const error = e instanceof Error ? e : new Error(String(e));
  const [status, serialized] = await explainSpawnError(error, file, cwd);
  const outcome = emptyOutcome(startedAt, serialized);
  outcome.exitCode = status;
  return outcome;
}

/** The exit status a shell gives a program it cannot start: 127 not found, 126 for the rest (EACCES, EISDIR...). */
export function shellStatus(e: Error): number {
  return (e as { code?: unknown }).code === 'ENOENT' ? 127 : 126;
}

/**
 * The exit status and the error of a job that could not be started, in words that name the cause: `spawn /bin/sh
 * ENOENT` when the cwd is missing misleads, and `spawn ENOTDIR` says nothing. A cwd that is not a folder (missing,
 * or a file) is 127 whatever the spawn said; the error has no stack (it would point inside poolrun).
 */
async function explainSpawnError(
  e: Error,
  file: string,
  cwd: string | undefined,
): Promise<[number, SerializedError]> {
  const code = errnoCode(e);
  const error = (message: string): SerializedError => ({ name: 'Error', message, ...(code ? { code } : {}) });
  if (cwd !== undefined) {
    const isDir = await stat(cwd).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) return [127, error(`cwd does not exist or is not a directory: ${cwd}`)];
  }
  if (code === 'ENOENT') return [127, error(`command not found: ${file}`)];
  if (code === 'EACCES') return [126, error(`permission denied: ${file}`)];
  return [shellStatus(e), error(`cannot run ${file}: ${code ?? e.message}`)];
}
