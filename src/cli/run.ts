/**
 * One CLI run: jobs in, futures out, output printed in order, observers told, an exit status. Everything that
 * runs is the executor's; this file decides what to start, when to stop, and what to print.
 *
 * Stopping early, and what each reason does:
 *   --halt soon      first failure: start nothing more, let running jobs finish            exit 1
 *   --halt now       ... and kill running job trees (SIGTERM, SIGKILL after --kill-after)  exit 1
 *   --deadline       start nothing more, kill running trees, print nothing more            exit 124
 *   SIGINT/TERM/HUP  start nothing more, kill running trees, print results so far          exit 130/143/129
 *   stdout closed    as a signal (EPIPE is SIGPIPE for a program that ignores it)          exit 141
 * A second SIGINT/SIGTERM/SIGHUP SIGKILLs every running tree at once.
 */
import type { JobRunner } from '../executor/runner.js';
import {
  Executor,
  cancelledResult,
  spillFolder,
  type ExecutorEvent,
  type JobOutput,
} from '../executor/executor.js';
import { rmSync } from 'node:fs';
import { discardPrestarted, runToken } from '../pool/prestart.js';
import type { Job, JobResult } from '../kinds/types.js';
import { ProcessGroups } from '../proc/groups.js';
import { RUN_ID_VAR, Watchdog } from '../proc/watchdog.js';
import { OutputPrinter } from '../report/printer.js';
import { createObservers, statusDisplay } from '../report/index.js';
import { chalkFor } from '../report/color.js';
import { inGitHubActions } from '../report/github.js';
import { processSink, type Sink } from '../report/sink.js';
import { count, emptySummary, type RunInfo } from '../report/types.js';
import type { RunOptions } from './options.js';
import { openSource, type JobSource } from './source.js';
import { checkDistinctFiles } from './same-file.js';
import { reader } from './reader.js';
import { GnuOutput } from '../gnu/output.js';
import { redactText } from '../util/redact.js';
import { shownError } from './shown.js';
import { JobFileError } from '../errors.js';
import { tagDryRun } from '../gnu/tag.js';
import { checkResultsNames, prepareResultsRoot } from '../gnu/results.js';
import { fsyncSource } from './fsync.js';
import { leanHeapLater } from './lean-heap.js';
import { Dispatcher } from '../sched/dispatch.js';
import { DryRunOrder } from '../sched/dry-run.js';
import { RunStop } from './stop/run-stop.js';
import { haltPolicy } from './stop/halt.js';
import { startDeadline } from './stop/deadline.js';
import { stdoutClosedPolicy, watchSignals } from './stop/signals.js';
import { EXIT, applyCliDefaults, exitStatus } from './exit-status.js';

export { EXIT };

export async function run(opts: RunOptions, sink?: Sink): Promise<number> {
  let onStdoutClosed = (_code?: string) => {};
  const out = sink ?? processSink((code) => onStdoutClosed(code));
  await checkDistinctFiles(opts);
  let source = await openSource(opts);
  // --results NAME with a replacement string: each job's NAME is checked before it runs (gnu/results.ts).
  // A `{` may be a --header name, known only once the header is read: each job is looked at.
  if (opts.gnu?.resultsDir !== undefined && !opts.dryRun) prepareResultsRoot(opts.gnu.resultsDir);
  if (opts.gnu?.resultsDir !== undefined && opts.gnu.resultsDir.includes('{'))
    source = checkResultsNames(source, { dir: opts.gnu.resultsDir, context: opts.gnu.context });
  if (opts.gnu?.shuf) source = await (await import('../gnu/source.js')).shuffled(source);
  if (opts.fsync) source = fsyncSource(source);

  let skipped = 0;
  let onSkip: (job: Job, succeeded: boolean) => void = () => {};
  if (opts.resume || opts.resumeFailed) {
    // Loaded only here: it brings the joblog reader, which a run without --resume has no use for.
    const { resumeLog, skipDone } = await import('./resume.js');
    const log = await resumeLog(opts, (line) => out.stderr(line));
    source = skipDone(source, log, (job, succeeded) => {
      skipped++;
      onSkip(job, succeeded);
    });
  }

  if (opts.schedule === 'longest-first')
    source = (await import('../sched/longest-first.js')).byJoblog(source, opts.joblog!);

  if (opts.dryRun) {
    discardPrestarted();
    const order = new DryRunOrder();
    onSkip = (job, succeeded) => order.skipped(job, succeeded);
    for await (const { job: j, text } of order.items(source.jobs)) {
      if (!out.stdout(tagDryRun(opts.gnu, j, text))) await out.drained();
      source.finished?.(j);
    }
    await out.drained();
    return EXIT.ok;
  }

  let wakeSubmitter: (() => void) | undefined;
  // Holds jobs until the jobs they run `after` succeeded, and --delay/--memfree/--load (src/sched/).
  let sched: Dispatcher | undefined = undefined;
  // The stop rules (halt, deadline, signals, closed stdout): cli/stop/.
  const runStop = new RunStop({
    cancelPending: () => {
      ex.cancelPending();
      sched?.stop();
    },
    killRunning: (o) => ex.killRunning(o),
    killAll: () => groups.killAll(),
    notice,
    wake: () => wakeSubmitter?.(),
  });

  onStdoutClosed = stdoutClosedPolicy(runStop, opts.killAfterMs);
  const started = Date.now();
  const stopLeanHeap = leanHeapLater();

  // Every job inherits this run's token, so the watchdog can find a job's processes even if poolrun dies before
  // it has registered their group (see proc/watchdog.ts).
  const token = runToken();
  // Of no use to a run without local workers, or one of the other mode.
  discardPrestarted(opts.queue ? undefined : opts.mode);
  const previousToken = process.env[RUN_ID_VAR];
  process.env[RUN_ID_VAR] = token;
  const groups = new ProcessGroups({ watchdog: new Watchdog({ killAfterMs: opts.killAfterMs, token }) });
  // Last line of defence: whatever way this process leaves, no job's process group outlives it.
  // Output past the capture limit spills here; it is read after the executor has shut down (printing in order
  // can lag behind the jobs), so it is removed when the run is over, not by the executor.
  const spillDir = spillFolder();
  const removeSpills = () => rmSync(spillDir, { recursive: true, force: true });
  const onExit = () => {
    groups.close();
    removeSpills();
  };
  process.on('exit', onExit);

  const summary = emptySummary();
  const failures: JobResult[] = [];
  // NDJSON events, `--json -` and `--junit -` own stdout: neither job output nor --call's values are printed
  // (they are in the events and results; NDJSON still streams output as events).
  const ndjson = statusDisplay(opts) === 'ndjson';
  const ownsStdout = opts.json === '-' || opts.junit === '-' || ndjson;
  const output = ownsStdout ? 'none' : opts.output;
  const values = opts.call !== undefined && !ownsStdout;
  const runInfo: RunInfo = {
    total: source.total,
    workers: opts.workers,
    startedAt: started,
    name: source.name,
  };
  const reporting = await createObservers(opts, out, runInfo);
  const observers = reporting.observers;
  // GNU parallel's output habits (--tag, --results DIR, --line-buffer): src/gnu/output.ts.
  const gnuOut = opts.gnu
    ? new GnuOutput(opts.gnu, (m) => out.stderr(`poolrun: ${redactText(m)}\n`))
    : undefined;
  const printer = new OutputPrinter(
    {
      order: opts.order,
      output,
      values,
      github: inGitHubActions(),
      annotations: ownsStdout || values ? 'stderr' : 'stdout',
      colors: { stdout: chalkFor(process.stdout, opts.color), stderr: chalkFor(process.stderr, opts.color) },
      onPrinted: (r) => {
        reporting.printed?.(r);
        wakeSubmitter?.();
      },
      ...(gnuOut?.prefixesLines ? { linePrefix: gnuOut.linePrefix } : {}),
      ...(opts.gnu?.keepOrder && opts.order === 'input' ? { ordered: true } : {}),
      dropKilled: opts.gnuStatus === true,
      endLines: process.stdout.isTTY === true && output === 'group',
    },
    reporting.sink,
  );
  const needResults =
    opts.json !== undefined || opts.junit !== undefined || opts.report !== undefined || ndjson;

  // A job --resume leaves out still holds its place in input order: step the printer over it.
  onSkip = (job, succeeded) => {
    sched?.skipped(job, succeeded);
    if (opts.order === 'input' && !runStop.deadlinePassed)
      printer.finished(cancelledResult(job, 0), undefined);
  };

  const finished = (result: JobResult, jobOutput: JobOutput | undefined) => {
    count(summary, result);
    if (result.status !== 'succeeded') failures.push(result);
    // Past the deadline nothing more is printed: in input order, output stops at the first job that was not
    // done in time, as Python's map(timeout) stops yielding (so line N of stdout is still job N's).
    if (!runStop.deadlinePassed) printer.finished(result, jobOutput);
    // Its dependents learn why it did not succeed before a halt it causes stops what still waits.
    if (result.status !== 'succeeded') sched?.failed(result);
    onHalt(result);
    sched?.finished(result);
    wakeSubmitter?.();
  };

  const onEvent = (e: ExecutorEvent): void | Promise<void> => {
    // --queue: every result names its worker's host; null for a job that ran nowhere (README, "--queue").
    if (opts.queue && e.event === 'finished') e.result.host ??= null;
    percentTimeout?.event(e);
    for (const o of observers) o.event(e);
    gnuOut?.event(e);
    if (e.event === 'output') {
      if (!runStop.deadlinePassed) printer.output(e.job, e.stream, e.data);
      // The job may send more once this piece has left the process (printed, or an NDJSON event): with a slow
      // reader, its worker stops reading the job's pipes instead of poolrun holding what stdout has not taken.
      return reporting.sink.drained();
    }
    if (e.event === 'finished') {
      finished(e.result, gnuOut ? gnuOut.finished(e.job, e.result, e.output) : e.output);
      source.finished?.(e.job);
    } else if (e.event === 'started') sched?.started(e.job, e.attempt);
    else if (e.event === 'retry') sched?.retrying(e.job);
  };

  const runnerOptions = {
    maxWorkers: opts.workers,
    killAfter: opts.killAfterMs,
    retries: opts.retries,
    retryDelay: opts.retryDelayMs,
    captureLimit: opts.captureLimit,
    capture: {
      keep: output !== 'none' || needResults,
      stream: output === 'stream' || (ndjson && opts.output === 'stream'),
      spill: output === 'group',
    },
    onEvent,
    groups,
    spillDir,
    workerStdout: 'stderr' as const,
  };
  // --queue: the same run on `poolrun worker`s elsewhere (bullmq is loaded only then).
  const ex: JobRunner = opts.queue
    ? await (
        await import('../queue/open.js')
      ).openQueueRunner(opts.queue, {
        ...runnerOptions,
        quiet: opts.quiet,
        halt: opts.halt,
        deadlineMs: opts.deadlineMs,
      })
    : new Executor(opts.mode, runnerOptions);
  sched = new Dispatcher({
    runner: ex,
    workers: opts.workers,
    gate: opts.gate,
    emit: (e) => void onEvent(e),
  });
  const percentTimeout =
    opts.gnu?.timeoutPercent !== undefined && ex instanceof Executor
      ? new (await import('../gnu/timeout.js')).TimeoutPercent({
          percent: opts.gnu.timeoutPercent,
          // Only jobs without a limit of their own: neither a timeout nor `"timeout": null` (the job file wins).
          timeOut: (j) => j.timeoutMs === undefined && !j.noTimeout && ex.timeOut(j),
        })
      : undefined;
  const auto =
    opts.auto && ex instanceof Executor
      ? (await import('../sched/auto-runner.js')).startAutoWidth(ex, opts.auto, observers)
      : undefined;

  function notice(message: string): void {
    // Through the live view's sink, when there is one, so the notice scrolls above it. NDJSON keeps stderr
    // silent: the summary event carries the stop (`stop`), as with --quiet.
    if (!opts.quiet && opts.reporter !== 'ndjson') reporting.sink.stderr(`poolrun: ${message}\n`);
  }

  const onHalt = haltPolicy(runStop, opts.halt);
  const unwatchSignals = watchSignals(process, runStop, opts.killAfterMs);
  const clearDeadline = startDeadline(runStop, opts.deadlineMs);

  let unwritten = false;
  let badInput: JobFileError | undefined;
  try {
    await submitAll(source);
    await ex.shutdown({ wait: true });
    clearDeadline();

    if (!runStop.deadlinePassed) await printer.flush();
    else await printer.settle();
    summary.durationMs = Date.now() - started;
    failures.sort((a, b) => a.index - b.index);
    if (skipped) notice(`--resume: ${skipped} job(s) the joblog records as done were not run again`);
    for (const o of observers) {
      try {
        await o.end({ summary, failures, stop: runStop.reason });
      } catch (e) {
        // A results file that could not be written is said, and the exit status is not 0; the others still run.
        unwritten = true;
        out.stderr(`poolrun: ${(e as Error).message}\n`);
      }
    }
  } catch (e) {
    // The run ends early (a bad line in streamed input) and groups.close() below kills every job's process
    // group. A job started a moment ago may not be registered yet: its process exists before its worker's
    // message saying so arrives (under load a pid file it wrote was read, and the run ended, first: 2 runs in
    // 30 left the job running). Wait for those messages, briefly.
    if (ex instanceof Executor) await ex.spawnsKnown(1000);
    throw e;
  } finally {
    auto?.stop();
    percentTimeout?.stop();
    clearDeadline();
    groups.close();
    removeSpills();
    process.off('exit', onExit);
    unwatchSignals();
    if (previousToken === undefined) delete process.env[RUN_ID_VAR];
    else process.env[RUN_ID_VAR] = previousToken;
    stopLeanHeap();
  }
  await out.drained();
  if (badInput) return EXIT.usage;
  const status = exitStatus(summary, runStop, opts.gnuStatus === true);
  return status === EXIT.ok && unwritten ? EXIT.failed : status;

  /**
   * Feeds the executor as jobs arrive, a chunk at a time (process mode sends a chunk per message), and at
   * most `window` unfinished jobs ahead, so a million-line input runs in bounded memory. Jobs are taken as
   * many at a time as are at hand: what is submitted in one go reaches a worker in one message.
   */
  async function submitAll(src: JobSource): Promise<void> {
    const chunksize = opts.mode === 'process' ? opts.chunksize : 1;
    const window = Math.max(1024, opts.workers * chunksize * 4);
    // Once full, the window waits for a quarter of it to free up: one wake-up per many jobs, not one per job.
    const resume = window - (window >> 2);
    // A known list reports its never-started jobs as cancelled; a stream is not read any further.
    const known = src.total !== undefined;
    let read = 0;
    const nextBatch = reader(src, known ? undefined : runStop.stopped);
    // A bad line of streamed input, once jobs were submitted, stops the run as a signal would (nothing more
    // starts, running trees get TERM then KILL) and the results so far are still written: --json, --junit,
    // --report, the joblog and the summary say what ran. The run then exits 2 with the line's location.
    const next = async (room: number): Promise<Job[] | undefined> => {
      try {
        return await nextBatch(room);
      } catch (e) {
        if (!(e instanceof JobFileError) || read === 0) throw e;
        badInput = e;
        reporting.sink.stderr(`poolrun: ${shownError(e)}\n`);
        if (!runStop.reason) {
          runStop.reason = 'input';
          runStop.stopStarting(true);
        }
        return undefined;
      }
    };
    let chunk: Job[] = [];
    const notRun: Job[] = [];
    const unfinished = () => ex.pending + printer.backlog + sched!.held;
    for (let batch = await next(window); batch; batch = await next(window - unfinished())) {
      read += batch.length;
      for (let i = 0; i < batch.length; i++) {
        const job = applyCliDefaults(batch[i]!, opts);
        if (runStop.reason) {
          if (!known) break;
          notRun.push(job);
          continue;
        }
        // Taken (submitted now) or held by the scheduler (a dependency, --delay/--load/--memfree): either way it
        // counts in the window below, so that held jobs never make poolrun read a whole pipe.
        if (sched!.take(job)) {
          chunk.push(job);
          if (chunk.length >= chunksize) {
            ex.submitJobs(chunk);
            chunk = [];
          }
        }
        // Finished jobs whose output stdout has not taken yet count too: a slow reader slows the run down.
        if (unfinished() >= window && !runStop.reason && !sched!.needsInput) {
          if (chunk.length && sched!.held) ex.submitJobs(chunk.splice(0));
          while (unfinished() > resume && !runStop.reason && !sched!.needsInput) {
            await new Promise<void>((resolve) => (wakeSubmitter = resolve));
            wakeSubmitter = undefined;
          }
        }
      }
      if (runStop.reason && !known) break;
    }
    // A streamed input has ended: from now on the live view knows the total (done/total, an ETA).
    if (!known && !runStop.reason) runInfo.total = read;
    if (runStop.reason) notRun.unshift(...chunk);
    else if (chunk.length) ex.submitJobs(chunk);
    await sched!.idle();
    for (const job of notRun) {
      void onEvent({
        event: 'finished',
        job,
        result: cancelledResult(job, 0),
        output: undefined,
        time: Date.now(),
      });
    }
  }
}
