import type { Job } from '../jobs/types.js';
import { redactText, redactUrl } from '../util/redact.js';
import { shellQuote } from '../util/shell.js';

/**
 * One line that says what a job would do (`--dry-run`, the joblog's Command column). It is shown and stored,
 * so it goes through the one redactor: a URL's user, password and query values, `password=…`, never appear.
 */
export function describeJob(job: Job): string {
  return redactText(describe(job));
}

function describe(job: Job): string {
  switch (job.kind) {
    case 'run':
      return typeof job.run === 'string'
        ? job.run
        : job.run.map((word) => shellQuote(redactText(word))).join(' ');
    case 'copy':
      return `copy ${shellQuote(job.copy.from)} ${shellQuote(job.copy.to)}${job.copy.overwrite ? ' (overwrite)' : ''}`;
    case 'download':
      // The whole URL as one word (it may hold spaces), redacted before it is quoted.
      return `download ${shellQuote(redactUrl(job.download.url))} ${shellQuote(job.download.to)}`;
    case 'call':
      return `call ${job.call.module}#${job.call.export}(${job.call.args.map(argText).join(', ')})`;
  }
}

function argText(a: unknown): string {
  try {
    return JSON.stringify(a) ?? String(a);
  } catch {
    return '…'; // nested too deep to write out: the run refuses it anyway
  }
}
