/**
 * What a run's exit status is (README "Output and exit statuses", contract §6 and §1a), and how the CLI's
 * --timeout fills a job that has no limit of its own: small rules of cli/run.ts, kept apart.
 */
import { constants as osConstants } from 'node:os';
import type { Job } from '../kinds/types.js';
import type { Summary } from '../report/types.js';
import type { RunOptions } from './options.js';
import type { RunStop } from './stop/run-stop.js';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  deadline: 124,
  sighup: 129,
  sigint: 130,
  sigpipe: 141,
  sigterm: 143,
} as const;

export function exitStatus(summary: Summary, runStop: RunStop, gnu: boolean): number {
  switch (runStop.reason) {
    case 'SIGINT':
      return EXIT.sigint;
    case 'SIGTERM':
      return EXIT.sigterm;
    case 'SIGHUP':
      return EXIT.sighup;
    case 'EPIPE':
      return EXIT.sigpipe;
    case 'deadline':
      return EXIT.deadline;
  }
  if (summary.succeeded === summary.total) return EXIT.ok;
  if (!gnu) return EXIT.failed;
  // GNU parallel's form (contract §1a): --halt exits with the halting job's status (255 for a timeout, 128+n for
  // signal n); otherwise 1-100 is the number of failed (or timed-out) jobs, 101 more than 100.
  const h = runStop.haltedBy;
  if (runStop.reason === 'halt' && h) {
    if (h.status === 'timed-out') return 255;
    if (h.exitCode !== null) return h.exitCode & 255 || EXIT.failed;
    const n = h.signal ? osConstants.signals[h.signal as NodeJS.Signals] : undefined;
    return n ? 128 + n : EXIT.failed;
  }
  return Math.min(101, Math.max(1, summary.failed + summary.timedOut));
}

/** A job's own field, then the file's defaults (both in job already), then the option; `"timeout": null` wins. */
export function applyCliDefaults(job: Job, opts: RunOptions): Job {
  // No limit, even under --timeout N%; the mark stays off the queue's wire (its workers would refuse it).
  if (job.noTimeout) {
    if (!opts.queue) return job;
    const { noTimeout: _, ...rest } = job;
    return rest;
  }
  if (opts.timeoutMs !== undefined && job.timeoutMs === undefined)
    return { ...job, timeoutMs: opts.timeoutMs };
  return job;
}
