import { stat } from 'node:fs/promises';
import type { JobContext } from '../context.js';
import type { Outcome } from '../outcome.js';
import { Capture } from '../capture.js';
import { plainArgv, shellEnv } from './direct.js';
import { spawnJob } from '../../proc/spawn.js';
import { serializeError } from '../outcome.js';
import { RUN_ID_VAR } from '../../proc/watchdog.js';

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
  return (envCopy ??= { ...process.env });
}

export function envMayHaveChanged(): void {
  envCopy = undefined;
}

/**
 * Runs a shell job in a process group of its own (`detached: true`), so the main thread can kill the whole
 * tree with `kill(-pgid)`. Settles when the process has exited and its stdout/stderr are closed, as a shell
 * would: grandchildren that keep the pipes open keep the job running (and are killed with it on timeout).
 */
export function runShell(command: string | string[], ctx: JobContext): Promise<Outcome> {
  const { job } = ctx;
  const [file, args] =
    typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0]!, command.slice(1)];
  const startedAt = Date.now();
  const out = new Capture(ctx.capture, `${ctx.key}.stdout`);
  const err = new Capture(ctx.capture, `${ctx.key}.stderr`);
  const base = baseEnv();
  const extra: Record<string, string | undefined> = {
    ...job.env,
    // GNU parallel's {%} and {#} as variables: which worker slot, which job.
    POOLRUN_WORKER: String(ctx.worker),
    POOLRUN_JOB_ID: job.id,
    POOLRUN_JOB_INDEX: String(job.index + 1),
  };
  // The run's token marks the job's processes as ours (proc/owner.ts): a job's env does not replace it.
  const token = base[RUN_ID_VAR];
  if (token !== undefined) extra[RUN_ID_VAR] = token;
  // brief: this runs in a worker, one job at a time (proc/spawn-types.ts).
  const options = { cwd: job.cwd, detached: true, brief: true };

  return new Promise<Outcome>((resolve) => {
    let child: ReturnType<typeof spawnPiped> | undefined;
    const argv = typeof command === 'string' ? plainArgv(command) : undefined;
    const direct = argv && shellEnv(base, extra, job.cwd ?? process.cwd(), argv[0]!);
    if (argv && direct) {
      child = spawnPiped(argv[0]!, argv.slice(1), { ...options, env: direct });
      if (child.pid === undefined) {
        // Not found, not executable, not a binary...: let the shell try, and say what it says.
        child.on('error', () => {});
        child = undefined;
      }
    }
    const ranDirect = child !== undefined;
    child ??= spawnPiped(file, args, { ...options, env: { ...base, ...extra } });
    if (child.pid !== undefined) ctx.spawned(child.pid, child.leaderStart);
    const spawned = child;

    const stream = ctx.capture.stream;
    const { stdout, stderr } = child;
    // Streamed output waits for the main thread to print it: past the credit, the pipes are not read, so a
    // job printing faster than stdout is read is slowed down (as it would be writing to a pipe) instead of
    // filling poolrun's memory.
    let paused = false;
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
      out.push(b);
      if (stream) forward('stdout', b);
    });
    stderr.on('data', (b: Buffer) => {
      err.push(b);
      if (stream) forward('stderr', b);
    });

    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
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
      outcome.exitCode = shellStatus(spawnError);
      void explainSpawnError(spawnError, file, job.cwd).then((error) => {
        outcome.error = error;
        resolve(outcome);
      });
    });
  });
}

/** The exit status a shell gives a program it cannot start: 127 not found, 126 for the rest (EACCES, EISDIR...). */
export function shellStatus(e: Error): number {
  return (e as { code?: unknown }).code === 'ENOENT' ? 127 : 126;
}

/** `spawn /bin/sh ENOENT` when the cwd is missing misleads: say which of the two is missing. */
async function explainSpawnError(e: Error, file: string, cwd: string | undefined) {
  const se = serializeError(e);
  if (se.code === 'ENOENT' && cwd !== undefined) {
    const isDir = await stat(cwd).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) return { ...se, message: `cwd does not exist or is not a directory: ${cwd}` };
  }
  if (se.code === 'ENOENT') return { ...se, message: `command not found: ${file}` };
  if (se.code === 'EACCES') return { ...se, message: `permission denied: ${file}` };
  return se;
}
