/** Which observers a run gets: the status display, and the files it writes at the end. */
import type { RunOptions } from '../cli/options.js';
import type { Sink } from './printer.js';
import { PlainReporter } from './plain.js';
import { ResultsFile } from './results.js';
import { joblogObserver } from './joblog.js';
import type { RunObserver } from './types.js';

export function createObservers(opts: RunOptions, sink: Sink): RunObserver[] {
  const observers: RunObserver[] = [];
  if (!opts.quiet) observers.push(new PlainReporter((line) => sink.stderr(`${line}\n`)));
  if (opts.json !== undefined) observers.push(new ResultsFile(opts.json, (s) => sink.stdout(s)));
  if (opts.joblog !== undefined) observers.push(joblogObserver(opts.joblog, opts, sink));
  return observers;
}
