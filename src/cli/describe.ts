import type { Job } from '../jobs/types.js';
import { shellQuote } from '../util/shell.js';

/** One line that says what a job would do (`--dry-run`). */
export function describeJob(job: Job): string {
  switch (job.kind) {
    case 'run':
      return typeof job.run === 'string' ? job.run : job.run.map(shellQuote).join(' ');
    case 'copy':
      return `copy ${shellQuote(job.copy.from)} ${shellQuote(job.copy.to)}${job.copy.overwrite ? ' (overwrite)' : ''}`;
    case 'download':
      return `download ${redactUrl(job.download.url)} ${shellQuote(job.download.to)}`;
    case 'call':
      return `call ${job.call.module}#${job.call.export}(${job.call.args.map((a) => JSON.stringify(a)).join(', ')})`;
  }
}

/** Credentials in a URL never reach a log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = u.password ? '***' : '';
    }
    return u.href;
  } catch {
    return url;
  }
}
