/** The command line, validated into RunOptions. Every bad value is a UsageError naming the option and value. */
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import { JOBS_ZERO, jobsCount } from '../gnu/jobs.js';
import { durationProblem, parseDuration } from '../util/duration.js';
import type { PoolMode } from '../pool/handle.js';
import type { InputFormat } from '../jobs/parse.js';
import type { QueueSettings } from '../queue/producer.js';
import { queueSettings, type RawQueueOptions } from './queue-options.js';
import { gnuInput, type GnuInput, type GnuRawOptions as GnuInputRawOptions } from '../input/gnu/options.js';
import { isGnuForm } from '../input/gnu/form.js';
import { gnuOptions, type GnuOptions, type GnuRawOptions } from '../gnu/options.js';
import { parseHalt } from '../gnu/halt.js';
import { schedOptions, type RawSchedOptions } from '../sched/options.js';
import type { GateOptions } from '../sched/gate.js';
import { autoWorkers, autoSchedOptions, type SchedOptions } from '../sched/auto-options.js';
import type { Order, OutputMode, ReportOptions } from '../report/options.js';

export type { Order, OutputMode, ReporterKind } from '../report/options.js';
export type Halt = 'never' | 'soon' | 'now';

export interface RunOptions extends SchedOptions, ReportOptions {
  /** Job file path, `-` for stdin, or undefined (stdin when it is not a TTY). */
  jobFile?: string;
  each?: string;
  call?: string;
  /** Arguments of --each / --call. */
  args: string[];
  format?: InputFormat;
  nullSeparated: boolean;
  mode: PoolMode;
  workers: number;
  chunksize: number;
  order: Order;
  output: OutputMode;
  timeoutMs?: number;
  killAfterMs: number;
  deadlineMs?: number;
  retries: number;
  retryDelayMs: number;
  halt: Halt;
  /**
   * GNU parallel's exit status (contract §1a): a command given as words with `:::`/`::::`/`-a`/`--pipe`/stdin
   * lines, not --each or a job file. 1-100 failed jobs, 101 more; with --halt, the halting job's status.
   */
  gnuStatus?: boolean;
  // json, reporter, junit, report, joblog, resume, resumeFailed, quiet, color: ReportOptions (report/options.ts).
  dryRun: boolean;
  captureLimit: number;
  /** --fsync: every copy and download job is synced to disk, as with `"fsync": true` (cli/fsync.ts). */
  fsync?: boolean;
  /** --queue: run on the workers serving this queue instead of a local pool. */
  queue?: QueueSettings;
  /** GNU parallel's input form: CMD ::: A B, -a FILE, -N… (input/gnu/options.ts). */
  gnuInput?: GnuInput;
  /** GNU parallel's habits: --tag, --results DIR, --line-buffer, --pipe, --shuf (src/gnu/). */
  gnu?: GnuOptions;
  /** --delay, --memfree, --load: when the next job may start (src/sched/). */
  gate?: GateOptions;
}

export interface RawOptions extends RawQueueOptions, GnuRawOptions, GnuInputRawOptions, RawSchedOptions {
  verbose?: boolean;
  workers?: string;
  /** Set by toRunOptions when the pool size came as -j/--jobs, to name it so in messages. */
  workersFlag?: string;
  mode?: string;
  chunksize?: string;
  order?: string;
  output?: string;
  timeout?: string;
  killAfter?: string;
  deadline?: string;
  retries?: string;
  retryDelay?: string;
  halt?: string;
  failFast?: boolean;
  json?: string;
  reporter?: string;
  junit?: string;
  report?: string;
  joblog?: string;
  resume?: boolean;
  resumeFailed?: boolean;
  dryRun?: boolean;
  quiet?: boolean;
  color?: boolean;
  each?: string;
  call?: string;
  format?: string;
  null?: boolean;
  captureLimit?: string;
  fsync?: boolean;
  maxWorkers?: string;
  schedule?: string;
}

const MAX_WORKERS = 10_000;

/**
 * `-w/--workers` and `-j/--jobs`, one setting with every form (GNU parallel's -j and poolrun's -w alike):
 *   N     N workers; 0 is GNU's "as many as possible" (JOBS_ZERO: each started only when a job waits for one)
 *   N%    N percent of the cores, rounded up as GNU parallel does (at least 1)
 *   +N    cores + N            -N   cores - N (at least 1)
 * `auto` is read before this, by sched/auto-options.ts. `flag` names the option as the user wrote it.
 */
export function parseWorkers(
  value: string | undefined,
  cores = availableParallelism(),
  flag = '--workers',
  auto = true,
): number {
  if (value === undefined) return cores;
  const n = jobsCount(value, cores);
  if (n !== undefined) return n;
  throw new UsageError(`${flag}: expected ${workersForms(auto)}, got "${value}"`);
}

/** What -w/-j take, for messages. */
export function workersForms(auto: boolean): string {
  return (
    `N workers (1-${MAX_WORKERS}; 0: as many as possible, ${JOBS_ZERO}), N% of cores such as 50%, ` +
    `+N or -N (cores plus or minus N)${auto ? ', or auto' : ''}`
  );
}

export function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  dflt: T,
): T {
  if (value === undefined) return dflt;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${name}: expected one of ${allowed.join(', ')}, got "${value}"`);
}

export function duration(name: string, value: string | undefined, allowZero = false): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || (!allowZero && ms === 0)) {
    throw new UsageError(`${name}: ${durationProblem(value, allowZero ? '0' : '1ms')}`);
  }
  return ms;
}

function integer(name: string, value: string | undefined, min: number, max: number, dflt: number): number {
  if (value === undefined) return dflt;
  if (/^\d+$/.test(value.trim())) {
    const n = Number(value);
    if (n >= min && n <= max) return n;
  }
  throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got "${value}"`);
}

export function bytes(name: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const m = /^(\d+)\s*([kmg]i?b?|b)?$/i.exec(value.trim());
  if (m) {
    const unit = (m[2] ?? 'b').toLowerCase()[0]!;
    const mult = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1;
    const n = Number(m[1]) * mult;
    if (n >= 1024 && n <= 1024 ** 3) return n;
  }
  throw new UsageError(`${name}: expected a size from 1KiB to 1GiB such as 512K or 4M, got "${value}"`);
}

/** `--joblog -` writes the joblog on stdout (GNU's): nothing to read back, and stdout must not be taken. */
function joblogToStdout(opts: RunOptions): void {
  const flag = opts.resumeFailed ? '--resume-failed' : '--resume';
  if (opts.resume || opts.resumeFailed)
    throw new UsageError(`${flag} reads the earlier run's log: give --joblog a file name, not - (stdout)`);
  if (opts.schedule === 'longest-first')
    throw new UsageError(
      '--schedule longest-first reads durations from the joblog: give --joblog a file name, not - (stdout)',
    );
  if (opts.json === '-')
    throw new UsageError('--joblog - and --json - both write to stdout: give one of them a file name');
  if (opts.reporter === 'ndjson')
    throw new UsageError('--joblog - and --reporter ndjson both write to stdout: give --joblog a file name');
  if (opts.junit === '-')
    throw new UsageError('--joblog - and --junit - both write to stdout: give one of them a file name');
}

export function toRunOptions(raw: RawOptions, args: string[]): RunOptions {
  // The queue first, from --queue or POOLRUN_QUEUE alike: the checks below refuse what a queue cannot do
  // (--pipe, --timeout N%, -w auto) whichever way the URL came.
  const queue = queueSettings(raw);
  if (queue && raw.queue === undefined) raw.queue = queue.url;
  // GNU parallel's exit status is for its form (a command given as words), not --each / --call / a job file.
  const eachGiven = raw.each !== undefined || raw.call !== undefined;
  // -j/--jobs is -w/--workers (every form: N, N%, +N, -N, 0, auto), named as the user wrote it in messages.
  if (raw.jobs !== undefined) {
    if (raw.workers !== undefined)
      throw new UsageError('-j/--jobs and -w/--workers both set the pool size: give one of them');
    raw.workers = raw.jobs;
    raw.workersFlag = '-j/--jobs';
    delete raw.jobs;
  }
  // GNU parallel's command form (`CMD ::: A B`, `-a FILE`, `seq 3 | poolrun echo`, --pipe): its --retries N is N
  // tries in all, and its --timeout 0 is no limit (GNU's man page; its --retries 0, forever, is one try here).
  const gnuForm =
    raw.pipe === true || (raw.each === undefined && raw.call === undefined && isGnuForm(args, raw.argFile));
  const gnuRetries = gnuForm && raw.retries !== undefined;
  if (gnuForm && raw.timeout !== undefined && parseDuration(raw.timeout) === 0) delete raw.timeout;
  // GNU parallel's habits first: -j becomes --workers, --line-buffer --output stream, --pipe takes the command words.
  const gnu = gnuOptions(raw, args);
  args = gnu.args;
  if (raw.each !== undefined && raw.call !== undefined)
    throw new UsageError('--each and --call cannot be used together');
  const mode = oneOf('--mode', raw.mode, ['thread', 'process'] as const, 'thread');
  let halt = parseHalt(raw.halt);
  if (raw.failFast) {
    // commander fills in --halt's default ('never'): only an explicit other value conflicts.
    if (raw.halt !== undefined && halt !== 'soon' && halt !== 'never')
      throw new UsageError('--fail-fast means --halt soon; it cannot be combined with --halt ' + halt);
    halt = 'soon';
  }
  const opts: RunOptions = {
    ...autoSchedOptions(raw),
    args: [],
    nullSeparated: raw.null ?? false,
    mode,
    workers: autoWorkers(raw) ?? parseWorkers(raw.workers, undefined, raw.workersFlag),
    chunksize: integer('--chunksize', raw.chunksize, 1, 100_000, 1),
    order: oneOf('--order', raw.order, ['input', 'completion'] as const, 'input'),
    output: oneOf('--output', raw.output, ['group', 'stream', 'none'] as const, 'group'),
    killAfterMs: duration('--kill-after', raw.killAfter, true) ?? 5000,
    retries: Math.max(0, integer('--retries', raw.retries, 0, 1000, 0) - (gnuRetries ? 1 : 0)),
    retryDelayMs: duration('--retry-delay', raw.retryDelay, true) ?? 0,
    halt,
    reporter: oneOf('--reporter', raw.reporter, ['auto', 'tty', 'plain', 'ndjson'] as const, 'auto'),
    resume: raw.resume ?? false,
    resumeFailed: raw.resumeFailed ?? false,
    dryRun: raw.dryRun ?? false,
    quiet: raw.quiet ?? false,
    captureLimit: bytes('--capture-limit', raw.captureLimit, 1024 * 1024),
  };
  const timeoutMs = duration('--timeout', raw.timeout);
  if (timeoutMs !== undefined) opts.timeoutMs = timeoutMs;
  const deadlineMs = duration('--deadline', raw.deadline);
  if (deadlineMs !== undefined) opts.deadlineMs = deadlineMs;
  if (raw.format !== undefined)
    opts.format = oneOf('--format', raw.format, ['json', 'jsonl', 'lines'] as const, 'json');
  if (raw.json === '')
    throw new UsageError('--json: expected a file name for the results, such as results.json, or - (stdout)');
  if (raw.json !== undefined) opts.json = raw.json;
  if (raw.junit !== undefined) {
    // `-` is stdout (as --json -).
    if (raw.junit === '')
      throw new UsageError(
        '--junit: expected a file name for the JUnit XML, such as junit.xml, or - (stdout)',
      );
    opts.junit = raw.junit;
  }
  if (raw.report !== undefined) {
    if (raw.report === '-' || raw.report === '')
      throw new UsageError('--report: expected a file name for the HTML report, such as run.html');
    opts.report = raw.report;
  }
  if (raw.joblog === '')
    throw new UsageError('--joblog: expected a file name for the joblog, such as run.log, or - (stdout)');
  if (raw.joblog !== undefined) opts.joblog = raw.joblog;
  if (raw.fsync === true) opts.fsync = true;
  if (raw.color === false) opts.color = false;
  if (gnu.options) opts.gnu = gnu.options;
  if (queue) opts.queue = queue;
  const gate = schedOptions(raw, queue !== undefined);
  if (gate) opts.gate = gate;
  // One thing on stdout: the NDJSON events, the --json document or the JUnit XML.
  const onStdout = [
    ...(opts.reporter === 'ndjson' ? ['--reporter ndjson'] : []),
    ...(opts.json === '-' ? ['--json -'] : []),
    ...(opts.junit === '-' ? ['--junit -'] : []),
  ];
  if (onStdout.length > 1) {
    const file = opts.json === '-' ? '--json' : '--junit';
    const both = onStdout.length === 2 ? 'both' : 'all';
    throw new UsageError(`${onStdout.join(' and ')} ${both} write to stdout: give ${file} a file name`);
  }
  if (opts.dryRun && onStdout.length)
    throw new UsageError(
      `--dry-run prints the commands on stdout, where ${onStdout[0]} writes too: a dry run has no results to report`,
    );
  // --resume also finds what an earlier run did in --results' files, as GNU parallel's does; --resume-failed
  // needs the log's exit statuses.
  if (opts.resumeFailed && !opts.joblog)
    throw new UsageError('--resume-failed needs --joblog FILE (the log of the earlier run)');
  if (opts.resume && !opts.joblog && opts.gnu?.resultsDir === undefined)
    throw new UsageError('--resume needs --joblog FILE (the log of the earlier run) or --results DIR');
  if (opts.joblog === '-') joblogToStdout(opts);
  const gnuIn = gnuInput(raw, args);
  if (raw.null && opts.gnu?.pipe)
    throw new UsageError(
      "-0/--null with --pipe: GNU parallel ignores it there (blocks are still cut at newlines); for records that end with NUL give --recend '\\0'",
    );
  if (raw.null && raw.each === undefined && raw.call === undefined && !gnuIn)
    throw new UsageError('-0/--null goes with --each or --call: it reads NUL-separated arguments from stdin');
  if ((raw.each !== undefined || raw.call !== undefined) && raw.format !== undefined)
    throw new UsageError(
      `--format is for job files; ${raw.each !== undefined ? '--each' : '--call'} reads one argument per line (or per NUL with -0)`,
    );
  if ((gnuIn || opts.gnu?.pipe) && !eachGiven) opts.gnuStatus = true;
  if (gnuIn) opts.gnuInput = gnuIn;
  else if (raw.each !== undefined) {
    opts.each = raw.each;
    opts.args = args;
  } else if (raw.call !== undefined) {
    opts.call = raw.call;
    opts.args = args;
  } else {
    if (args.length > 1) {
      throw new UsageError(
        `expected one job file, got ${args.length} arguments (${args.slice(0, 3).join(' ')}…); to run a command per argument use --each`,
      );
    }
    if (args[0] !== undefined) opts.jobFile = args[0];
  }
  return opts;
}
