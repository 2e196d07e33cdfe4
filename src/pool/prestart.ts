/**
 * Start-up overlap for the CLI: bin/poolrun.js starts the first worker (a thread, or a process with
 * `--mode process`) before it loads the rest of poolrun, so the worker's own start (~40 ms for a thread, ~75 ms
 * for a process here) runs on another core while the main thread loads the CLI's modules and reads the job
 * file (~70 ms). The pool adopts it as its first worker of that mode (pool.ts); a run that has no use for it
 * (the other mode, --queue, --dry-run, a job file with a problem) ends it, and it never keeps the process alive.
 *
 * Its jobs need the run's token in their environment (POOLRUN_RUN_ID, see proc/watchdog.ts), and a worker's
 * environment is copied when it starts: the token is chosen here and handed to the worker, and the run then
 * takes it as its own (cli/run.ts).
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { PoolMode, WorkerHandle } from './handle.js';
import { ProcessWorker } from './process.js';
import { ThreadWorker } from './thread.js';
import { EARLY_SPEC, splitArgv } from '../util/argv-split.js';

let early: { mode: PoolMode; handle: WorkerHandle } | undefined;
let token: string | undefined;
let expiry: NodeJS.Timeout | undefined;

/** Not adopted by then, it is of no use: the run has found something else to do (or is still reading input). */
const ADOPT_WITHIN_MS = 5000;

/** Starts a worker now, unless the command line shows it will not be needed. Once per process. */
export function prestartWorker(argv: readonly string[]): void {
  const mode = modeWanted(argv);
  if (token !== undefined || !mode) return;
  token = newToken();
  const handle = mode === 'thread' ? new ThreadWorker(undefined, token) : new ProcessWorker(undefined, token);
  handle.unref();
  early = { mode, handle };
  expiry = setTimeout(() => discardPrestarted(), ADOPT_WITHIN_MS).unref();
}

/** The run's token: the pre-started worker's, when there is one (its environment has it already). */
export function runToken(): string {
  return token ?? newToken();
}

function newToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex');
}

/** The pre-started worker, once, for a pool's first worker of its mode (one with no initializer). */
export function adoptPrestarted(mode: PoolMode): WorkerHandle | undefined {
  if (early?.mode !== mode) return undefined;
  const { handle } = early;
  early = undefined;
  clearTimeout(expiry);
  return handle;
}

/** Ends the pre-started worker if nothing has adopted it, unless it is of the mode `keep` (the run's). */
export function discardPrestarted(keep?: PoolMode): void {
  if (!early || early.mode === keep) return;
  const { handle } = early;
  early = undefined;
  clearTimeout(expiry);
  handle.close();
}

/**
 * A cheap look at the arguments (commander parses them properly later), split where main.ts splits them
 * (util/argv-split.ts): which mode's worker the run will want, or none when they ask for a queue, a dry run, help,
 * the version or the `worker` subcommand. Words after the options (--each's and --call's arguments, the job
 * file) are never read as options here either. A wrong guess costs a worker started for nothing, or the overlap;
 * never a behaviour.
 */
export function modeWanted(argv: readonly string[]): PoolMode | undefined {
  const split = splitArgv(argv, EARLY_SPEC);
  if (split.subcommand) return undefined;
  let mode: PoolMode = 'thread';
  let calls = false;
  for (const { name, value } of split.parsed) {
    if (['--dry-run', '--queue', '--help', '--version'].includes(name)) return undefined;
    if (name === '--mode' && (value === 'thread' || value === 'process')) mode = value;
    if (name === '--call') calls = true;
  }
  // In thread mode the first slot starts shell jobs from the main thread, and its thread only once it is given
  // a second job or anything else (hybrid.ts): a thread started here would be wasted on a run of one shell job
  // (~8 ms of its wall time here, and ~25 ms of CPU), so one is started ahead only for --call, or a job file
  // that names a kind a thread runs.
  if (mode === 'process' || calls) return mode;
  const file = split.operands.length === 1 && !split.argumentsAfter ? split.operands[0]! : undefined;
  return file !== undefined && file !== '-' && namesThreadKind(file) ? mode : undefined;
}

/** How much of a job file is looked at: its first jobs. */
const PEEK_BYTES = 16384;

/**
 * Whether the start of a job file (a regular file only: never a FIFO or a terminal, which a read would wait on
 * or take from) names a call, a copy or a download as a key. A guess: the file is read properly later.
 */
function namesThreadKind(file: string): boolean {
  let fd: number | undefined;
  try {
    // Only a regular file is opened: opening a FIFO would let its writer go on (and die on the next write when
    // this closes it), and opening a device may act.
    if (!statSync(file).isFile()) return false;
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    if (!fstatSync(fd).isFile()) return false;
    const buf = Buffer.allocUnsafe(PEEK_BYTES);
    const text = buf.toString('latin1', 0, readSync(fd, buf, 0, PEEK_BYTES, 0));
    return /"(?:call|copy|download)"\s*:/.test(text);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
