/**
 * The end of a run as a person reads it: counts per status and wall time, the slowest jobs, and what did not
 * succeed (with its exit status) so it is clear what to rerun — with the command that does it when a joblog
 * records the run.
 */
import type { ChalkInstance } from 'chalk';
import type { JobResult } from '../kinds/types.js';
import { formatDuration } from '../util/duration.js';
import { redactBytes, redactId, redactText } from '../util/redact.js';
import { shellQuote, shellWord } from '../util/shell.js';
import { statusColor } from './color.js';
import { printable } from '../util/text.js';
import type { RunEnd, StopReason, Summary } from './types.js';
import { Heaviest, heaviestLine } from './usage.js';
import { describeEnd, errorLine } from '../results/describe.js';

export { describeEnd, errorLine };

/** Keeps the few longest-running finished jobs (a status display sees every job; it keeps only these). */
export class Slowest {
  readonly jobs: Array<{ id: string; ms: number }> = [];
  /** The jobs that cost most CPU, for the "heaviest" line (report/usage.ts). */
  readonly heaviest = new Heaviest();
  constructor(private readonly keep = 3) {}

  add(r: JobResult): void {
    this.heaviest.add(r);
    if (r.durationMs === null || r.status === 'cancelled') return;
    const last = this.jobs[this.jobs.length - 1];
    if (this.jobs.length >= this.keep && last && last.ms >= r.durationMs) return;
    this.jobs.push({ id: r.id, ms: r.durationMs });
    this.jobs.sort((a, b) => b.ms - a.ms);
    if (this.jobs.length > this.keep) this.jobs.pop();
  }
}

/** Why a job ended as it did, in a few words (annotations, JUnit): undefined when nothing says more than its status. */
export function endReason(r: JobResult): string | undefined {
  if (r.status === 'timed-out') return r.error?.message ?? 'timed out';
  if (r.signal) return `killed by ${r.signal}`;
  // A program that could not be started (127/126) has an exit status and an error that says why: both are shown.
  if (r.exitCode !== null) {
    const why = errorLine(r);
    return why === undefined ? `exit status ${r.exitCode}` : `${why} (exit status ${r.exitCode})`;
  }
  if (r.error) return redactText(`${r.error.name}: ${r.error.message}`);
  return undefined;
}

const STOPPED: Record<StopReason, string> = {
  halt: 'halted after a failure',
  deadline: '--deadline reached',
  SIGINT: 'interrupted (SIGINT)',
  SIGTERM: 'terminated (SIGTERM)',
  SIGHUP: 'hung up (SIGHUP)',
  EPIPE: 'stdout closed',
  input: 'stopped at a bad line of input',
};

export function summaryLine(s: Summary, stop?: StopReason, c?: ChalkInstance): string {
  const paint = (f: (x: string) => string, x: string) => (c ? f(x) : x);
  const parts = [paint(c?.green ?? String, `${s.succeeded} succeeded`)];
  if (s.failed) parts.push(paint(c?.red ?? String, `${s.failed} failed`));
  if (s.timedOut) parts.push(paint(c?.red ?? String, `${s.timedOut} timed out`));
  if (s.cancelled) parts.push(paint(c?.yellow ?? String, `${s.cancelled} cancelled`));
  const jobs = `${s.total} job${s.total === 1 ? '' : 's'}`;
  const why = stop ? ` (${STOPPED[stop]})` : '';
  return `poolrun: ${jobs}: ${parts.join(', ')} in ${formatDuration(s.durationMs)}${why}`;
}

export interface SummaryOptions {
  slowest?: Slowest;
  /** The joblog this run wrote: the rerun hint names it. */
  joblog?: string;
  /** The command line to repeat (without `poolrun`), for the rerun hint: the user's bytes where they are not UTF-8. */
  argv?: readonly (string | Buffer)[];
  color?: ChalkInstance;
  maxFailures?: number;
}

export function summaryLines(run: RunEnd, o: SummaryOptions = {}): string[] {
  const c = o.color;
  const lines = [summaryLine(run.summary, run.stop, c)];
  const slow = o.slowest?.jobs ?? [];
  if (run.summary.total > 1 && slow.length) {
    const list = slow.map((j) => `${printable(redactId(j.id))} ${formatDuration(j.ms)}`).join(', ');
    lines.push(`  slowest: ${list}`);
  }
  const heavy = heaviestLine(o.slowest?.heaviest);
  if (run.summary.total > 1 && heavy) lines.push(heavy);
  const max = o.maxFailures ?? 20;
  for (const r of run.failures.slice(0, max)) {
    const status = c ? statusColor(c, r.status)(r.status) : r.status;
    lines.push(`  ${status} ${printable(redactId(r.id))}${describeEnd(r)}`);
  }
  if (run.failures.length > max) lines.push(`  … and ${run.failures.length - max} more`);
  if (o.joblog !== undefined && run.failures.length) {
    const args = (o.argv ?? [])
      .map((a) => Buffer.from(a))
      .filter((a) => !['--resume', '--resume-failed'].includes(a.toString()));
    // The command line is shown, so it is redacted (a --queue password, a token in a template); *** then marks
    // what the user types back in (or passes in POOLRUN_QUEUE). Each word is quoted so that typing it back passes
    // the same bytes, and shown on the line (`$'caf\xe9'`, `$'a\nb'`): no control character reaches the terminal.
    const shown = args.map(redactBytes);
    const masked = shown.some((a, k) => !a.equals(args[k]!));
    const words = ['poolrun', '--resume-failed'].map(shellQuote).concat(shown.map(shellWord));
    lines.push(
      `  to rerun what did not succeed: ${words.join(' ')}` +
        (masked ? ' (*** stands for a secret poolrun does not print)' : ''),
    );
  }
  return lines;
}
