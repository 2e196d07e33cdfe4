/**
 * What a run reports, and where: the status display on stderr (a live view on a terminal, plain lines
 * elsewhere, NDJSON events on stdout, nothing with --quiet), and the files written at the end.
 */
import type { RunOptions } from '../cli/options.js';
import { chalkFor } from './color.js';
import { checkWritable } from './files.js';
import { NdjsonReporter } from './ndjson.js';
import { PlainReporter } from './plain.js';
import { JunitFile } from './junit.js';
import { joblogObserver } from './joblog.js';
import { ResultsFile } from './results.js';
import { TimelineReport } from './timeline.js';
import type { Sink } from './sink.js';
import { TtyReporter } from './tty.js';
import type { RunInfo, RunObserver } from './types.js';
import { sameTerminal } from './which.js';

export interface Reporting {
  observers: RunObserver[];
  /** Where job output goes: through the live view when there is one, so it scrolls above it. */
  sink: Sink;
}

export function createObservers(opts: RunOptions, sink: Sink, run: RunInfo): Reporting {
  // Checked before anything starts: a typo in a path costs nothing.
  if (opts.json !== undefined && opts.json !== '-') checkWritable('--json', opts.json);
  if (opts.junit !== undefined) checkWritable('--junit', opts.junit);
  if (opts.report !== undefined) checkWritable('--report', opts.report);
  const observers: RunObserver[] = [];
  const summary = {
    argv: process.argv.slice(2),
    ...(opts.joblog !== undefined ? { joblog: opts.joblog } : {}),
  };
  let out = sink;
  const display = statusDisplay(opts);
  if (display === 'ndjson') observers.push(new NdjsonReporter((line) => sink.stdout(line)));
  if (display === 'plain') {
    const c = chalkFor(process.stderr, opts.color);
    observers.push(new PlainReporter((line) => sink.stderr(`${line}\n`), c, summary));
  }
  if (display === 'tty') {
    const c = chalkFor(
      process.stderr.isTTY ? process.stderr : { isTTY: true, getColorDepth: () => 4 },
      opts.color,
    );
    const tty = new TtyReporter(sink, process.stderr, sameTerminal(), run, c, summary);
    observers.push(tty);
    out = tty.sink;
  }
  if (opts.json !== undefined) observers.push(new ResultsFile(opts.json, out));
  if (opts.junit !== undefined) observers.push(new JunitFile(opts.junit, run));
  if (opts.joblog !== undefined) observers.push(joblogObserver(opts.joblog, opts, out));
  if (opts.report !== undefined) {
    const mode = opts.queue ? 'queue' : opts.mode;
    observers.push(new TimelineReport(opts.report, run, { mode, argv: summary.argv }));
  }
  return { observers, sink: out };
}

export function statusDisplay(opts: RunOptions): 'tty' | 'plain' | 'ndjson' | 'none' {
  if (opts.reporter === 'ndjson') return 'ndjson';
  if (opts.quiet) return 'none';
  if (opts.reporter === 'auto') return process.stderr.isTTY ? 'tty' : 'plain';
  return opts.reporter;
}
