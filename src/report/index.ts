/**
 * What a run reports, and where: the status display on stderr (a live view on a terminal, plain lines
 * elsewhere, NDJSON events on stdout, nothing with --quiet), and the files written at the end.
 */
import { rawArguments } from '../util/argv.js';
import type { ReportOptions } from './options.js';
import { chalkFor } from './color.js';
import { checkWritable } from './files.js';
import { PlainReporter } from './plain.js';
import type { Sink } from './sink.js';
import type { RunInfo, RunObserver } from './types.js';
import type { JobResult } from '../kinds/types.js';

export interface Reporting {
  observers: RunObserver[];
  /** Where job output goes: through the live view when there is one, so it scrolls above it. */
  sink: Sink;
  /** Told each time a job's output has been printed (`--joblog -` writes the job's line after it). */
  printed?: (result: JobResult) => void;
}

/**
 * Each reporter but the plain lines is loaded only when asked for: the live view (with string-width, ~10 ms to
 * evaluate), --junit, --report (its page and script) and the rest cost a one-job run ~20 ms of start-up when
 * loaded up front, whether used or not.
 */
export async function createObservers(opts: ReportOptions, sink: Sink, run: RunInfo): Promise<Reporting> {
  // Checked before anything starts: a typo in a path costs nothing.
  if (opts.json !== undefined && opts.json !== '-') checkWritable('--json', opts.json);
  if (opts.junit !== undefined && opts.junit !== '-') checkWritable('--junit', opts.junit);
  if (opts.report !== undefined) checkWritable('--report', opts.report);
  const observers: RunObserver[] = [];
  const summary = {
    argv: rawArguments(process.argv.slice(2)),
    ...(opts.joblog !== undefined && opts.joblog !== '-' ? { joblog: opts.joblog } : {}),
  };
  let out = sink;
  const display = statusDisplay(opts);
  if (display === 'ndjson') {
    const { NdjsonReporter } = await import('./ndjson.js');
    observers.push(new NdjsonReporter((line) => sink.stdout(line)));
  }
  if (display === 'plain') {
    const c = chalkFor(process.stderr, opts.color);
    observers.push(new PlainReporter((line) => sink.stderr(`${line}\n`), c, summary));
  }
  if (display === 'tty') {
    const c = chalkFor(
      process.stderr.isTTY ? process.stderr : { isTTY: true, getColorDepth: () => 4 },
      opts.color,
    );
    const [{ TtyReporter }, { sameTerminal }] = await Promise.all([import('./tty.js'), import('./which.js')]);
    const tty = new TtyReporter(sink, process.stderr, sameTerminal(), run, c, summary);
    observers.push(tty);
    out = tty.sink;
  }
  if (opts.json !== undefined) {
    const { ResultsFile } = await import('./results.js');
    observers.push(new ResultsFile(opts.json, out));
  }
  if (opts.junit !== undefined) {
    const { JunitFile } = await import('./junit.js');
    observers.push(new JunitFile(opts.junit, run, out));
  }
  let printed: Reporting['printed'];
  if (opts.joblog === '-') {
    const { JoblogStdout } = await import('./joblog-stdout.js');
    const log = new JoblogStdout(out);
    observers.push(log);
    printed = (r) => log.printed(r);
  } else if (opts.joblog !== undefined) {
    const { joblogObserver } = await import('./joblog.js');
    observers.push(joblogObserver(opts.joblog, opts, out));
  }
  if (opts.report !== undefined) {
    const { TimelineReport } = await import('./timeline.js');
    const mode = opts.queue ? 'queue' : opts.mode;
    observers.push(new TimelineReport(opts.report, run, { mode, argv: process.argv.slice(2) }));
  }
  return printed ? { observers, sink: out, printed } : { observers, sink: out };
}

export function statusDisplay(opts: ReportOptions): 'tty' | 'plain' | 'ndjson' | 'none' {
  if (opts.reporter === 'ndjson') return 'ndjson';
  if (opts.quiet) return 'none';
  // A dumb terminal (TERM=dumb: Emacs shell, some CI) cannot move the cursor: it gets lines, as a pipe does.
  if (opts.reporter === 'auto') return process.stderr.isTTY && process.env.TERM !== 'dumb' ? 'tty' : 'plain';
  return opts.reporter;
}
