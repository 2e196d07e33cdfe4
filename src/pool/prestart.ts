/**
 * Start-up overlap for the CLI: bin/poolrun.js starts the first worker thread before it loads the rest of
 * poolrun, so the thread's own start (an isolate, Node's bootstrap for it, the worker's modules: ~35 ms here)
 * runs on another core while the main thread loads the CLI's modules and reads the job file (~60 ms). The pool
 * adopts it as its first thread worker (pool.ts); a run that has no use for it (process mode, --queue,
 * --dry-run, a job file with a problem) ends it, and it never keeps the process alive.
 *
 * Its jobs need the run's token in their environment (POOLRUN_RUN_ID, see proc/watchdog.ts), and a thread's
 * environment is copied when it starts: the token is chosen here and handed to the thread, and the run then
 * takes it as its own (cli/run.ts).
 */
import { ThreadWorker } from './thread.js';

let early: ThreadWorker | undefined;
let token: string | undefined;
let expiry: NodeJS.Timeout | undefined;

/** Not adopted by then, it is of no use: the run has found something else to do (or is still reading input). */
const ADOPT_WITHIN_MS = 5000;

/** Starts a worker thread now, unless the command line shows it will not be needed. Once per process. */
export function prestartWorker(argv: readonly string[]): void {
  if (token !== undefined || !worthStarting(argv)) return;
  token = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex');
  early = new ThreadWorker(undefined, token);
  early.unref();
  expiry = setTimeout(discardPrestarted, ADOPT_WITHIN_MS).unref();
}

/** The token of the pre-started worker's environment: the run's token, when a worker was pre-started. */
export function prestartedToken(): string | undefined {
  return token;
}

/** The pre-started worker, once, for a pool's first thread worker (one with no initializer). */
export function adoptPrestarted(): ThreadWorker | undefined {
  const w = early;
  early = undefined;
  clearTimeout(expiry);
  return w;
}

/** Ends the pre-started worker if nothing has adopted it. */
export function discardPrestarted(): void {
  adoptPrestarted()?.kill();
}

/**
 * A cheap look at the arguments (commander parses them properly later): a thread will be wanted unless they
 * name process mode, a queue, a dry run, help, the version or the `worker` subcommand. A wrong guess costs a
 * thread started for nothing, or the overlap; never a behaviour.
 */
function worthStarting(argv: readonly string[]): boolean {
  if (argv[0] === 'worker') return false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (/^--(dry-run|queue|help|version)(=|$)/.test(a) || /^-[a-zA-Z]*[hV]$/.test(a)) return false;
    if (a === '--mode=process' || /^-[a-zA-Z]*mprocess$/.test(a)) return false;
    if ((a === '--mode' || /^-[a-zA-Z]*m$/.test(a)) && argv[i + 1] === 'process') return false;
  }
  return true;
}
