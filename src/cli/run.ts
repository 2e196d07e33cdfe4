/**
 * One CLI run: jobs in, futures out, output printed in order, observers told, an exit status. Everything that
 * runs is the executor's; this file decides what to start, when to stop, and what to print.
 */
import { Executor, cancelledResult, type ExecutorEvent, type JobOutput } from '../executor/executor.js';
import type { Job, JobResult } from '../jobs/types.js';
import { ProcessGroups } from '../proc/groups.js';
import { OutputPrinter } from '../report/printer.js';
import { createObservers, statusDisplay } from '../report/index.js';
import { chalkFor } from '../report/color.js';
import { inGitHubActions } from '../report/github.js';
import { processSink, type Sink } from '../report/sink.js';
import { count, emptySummary, type StopReason, type Summary } from '../report/types.js';
import type { RunOptions } from './options.js';
import { openSource } from './source.js';
import { describeJob } from './describe.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, deadline: 124, sigint: 130, sigterm: 143 } as const;

export async function run(opts: RunOptions, sink: Sink = processSink()): Promise<number> {
  const source = await openSource(opts);

  if (opts.dryRun) {
    for await (const j of source.jobs) if (!sink.stdout(`${describeJob(j)}\n`)) await sink.drained();
    await sink.drained();
    return EXIT.ok;
  }

  const started = Date.now();
  const groups = new ProcessGroups();
  // Last line of defence: whatever way this process leaves, no job's process group outlives it.
  const killEverything = () => groups.killAll();
  process.on('exit', killEverything);

  const summary = emptySummary();
  const failures: JobResult[] = [];
  // NDJSON events and `--json -` own stdout: job output is not printed (NDJSON still streams it as events).
  const ndjson = statusDisplay(opts) === 'ndjson';
  const output = opts.json === '-' || ndjson ? 'none' : opts.output;
  const values = opts.call !== undefined;
  const reporting = createObservers(opts, sink, {
    total: source.total,
    workers: opts.workers,
    startedAt: started,
    name: source.name,
  });
  const observers = reporting.observers;
  const printer = new OutputPrinter(
    {
      order: opts.order,
      output,
      values,
      github: inGitHubActions(),
      annotations: ndjson || values ? 'stderr' : 'stdout',
      colors: { stdout: chalkFor(process.stdout, opts.color), stderr: chalkFor(process.stderr, opts.color) },
      onPrinted: () => wakeSubmitter?.(),
    },
    reporting.sink,
  );
  const needResults = opts.json !== undefined || opts.junit !== undefined || ndjson;

  let stop: StopReason | undefined;
  let wakeSubmitter: (() => void) | undefined;

  const finished = (result: JobResult, out: JobOutput | undefined) => {
    count(summary, result);
    if (result.status !== 'succeeded') failures.push(result);
    printer.finished(result, out);
    if ((result.status === 'failed' || result.status === 'timed-out') && opts.halt !== 'never')
      stopRun('halt');
    wakeSubmitter?.();
  };

  const onEvent = (e: ExecutorEvent) => {
    for (const o of observers) o.event(e);
    if (e.event === 'output') printer.output(e.job, e.stream, e.data);
    else if (e.event === 'finished') finished(e.result, e.output);
  };

  const ex = new Executor(opts.mode, {
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
  });

  function stopRun(reason: StopReason): void {
    if (stop) return;
    stop = reason;
    ex.cancelPending();
    if (reason !== 'halt' || opts.halt === 'now') ex.killRunning();
    wakeSubmitter?.();
  }

  // First signal: start nothing, TERM every job tree (KILL after --kill-after), report, exit 128+n.
  // A second SIGINT kills at once.
  const onSignal = (sig: 'SIGINT' | 'SIGTERM' | 'SIGHUP') => {
    if (stop === 'SIGINT' && sig === 'SIGINT') groups.killAll();
    else stopRun(sig);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  const deadline =
    opts.deadlineMs === undefined ? undefined : setTimeout(() => stopRun('deadline'), opts.deadlineMs);

  try {
    await submitAll();
    await ex.shutdown({ wait: true });
  } finally {
    clearTimeout(deadline);
    for (const s of signals) process.off(s, onSignal);
  }

  await printer.flush();
  summary.durationMs = Date.now() - started;
  failures.sort((a, b) => a.index - b.index);
  let unwritten = false;
  for (const o of observers) {
    try {
      await o.end({ summary, failures, stop });
    } catch (e) {
      // A results file that could not be written is said, and the exit status is not 0; the others still run.
      unwritten = true;
      sink.stderr(`poolrun: ${(e as Error).message}\n`);
    }
  }
  groups.killAll();
  process.off('exit', killEverything);
  await sink.drained();
  const status = exitStatus(summary, stop);
  return status === EXIT.ok && unwritten ? EXIT.failed : status;

  /**
   * Feeds the executor as jobs arrive, a chunk at a time (process mode sends a chunk per message), and at
   * most `window` unfinished jobs ahead, so a million-line input runs in bounded memory.
   */
  async function submitAll(): Promise<void> {
    const chunksize = opts.mode === 'process' ? opts.chunksize : 1;
    const window = Math.max(1024, opts.workers * chunksize * 4);
    let chunk: Job[] = [];
    const flush = () => {
      if (chunk.length && !stop) ex.submitJobs(chunk);
      chunk = [];
    };
    const unsubmitted: Job[] = [];
    for await (const raw of source.jobs) {
      const job = applyCliDefaults(raw, opts);
      if (stop) {
        // A known list reports its never-started jobs as cancelled; a stream is not read any further.
        if (source.total === undefined) break;
        unsubmitted.push(job);
        continue;
      }
      chunk.push(job);
      if (chunk.length >= chunksize) flush();
      // Finished jobs whose output stdout has not taken yet count too: a slow reader slows the run down.
      while (ex.pending + printer.backlog >= window && !stop) {
        await new Promise<void>((resolve) => (wakeSubmitter = resolve));
        wakeSubmitter = undefined;
      }
    }
    if (stop) unsubmitted.unshift(...chunk);
    else flush();
    for (const job of unsubmitted) {
      const result = cancelledResult(job, 0);
      onEvent({ event: 'finished', job, result, output: undefined, time: Date.now() });
    }
  }
}

function exitStatus(summary: Summary, stop: StopReason | undefined): number {
  switch (stop) {
    case 'SIGINT':
      return EXIT.sigint;
    case 'SIGTERM':
      return EXIT.sigterm;
    case 'SIGHUP':
      return 129;
    case 'EPIPE':
      return 141;
    case 'deadline':
      return EXIT.deadline;
    default:
      return summary.succeeded === summary.total ? EXIT.ok : EXIT.failed;
  }
}

/** Command-line settings that a job does not set itself (the job file wins, as its defaults do). */
function applyCliDefaults(job: Job, opts: RunOptions): Job {
  if (opts.timeoutMs !== undefined && job.timeoutMs === undefined)
    return { ...job, timeoutMs: opts.timeoutMs };
  return job;
}
