/** One line per state change on stderr, for logs and pipes: no cursor codes, no colour unless forced. */
import type { ExecutorEvent } from '../executor/executor.js';
import type { JobResult } from '../jobs/types.js';
import { formatDuration } from '../util/duration.js';
import type { RunEnd, RunObserver, Summary } from './types.js';

export function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function describeEnd(r: JobResult): string {
  const parts: string[] = [];
  if (r.worker !== null) parts.push(`worker ${r.worker}`);
  if (r.durationMs !== null) parts.push(formatDuration(r.durationMs));
  if (r.signal) parts.push(`signal ${r.signal}`);
  else if (r.exitCode !== null) parts.push(`exit ${r.exitCode}`);
  if (r.attempts > 1) parts.push(`attempt ${r.attempts}`);
  // A shell job's exit status says it all; anything else (a crashed worker, a spawn error) needs its message.
  if (r.error && r.status !== 'succeeded' && (r.exitCode === null || r.kind !== 'run'))
    parts.push(r.error.message.split('\n', 1)[0]!);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export function summaryLine(s: Summary): string {
  const parts = [`${s.succeeded} succeeded`];
  if (s.failed) parts.push(`${s.failed} failed`);
  if (s.timedOut) parts.push(`${s.timedOut} timed out`);
  if (s.cancelled) parts.push(`${s.cancelled} cancelled`);
  return `poolrun: ${s.total} job${s.total === 1 ? '' : 's'}: ${parts.join(', ')} in ${formatDuration(s.durationMs)}`;
}

export function failureLines(failures: JobResult[], max = 20): string[] {
  const lines = failures.slice(0, max).map((r) => `  ${r.status} ${r.id}${describeEnd(r)}`);
  if (failures.length > max) lines.push(`  … and ${failures.length - max} more`);
  return lines;
}

export class PlainReporter implements RunObserver {
  constructor(private readonly write: (line: string) => void) {}

  event(e: ExecutorEvent): void {
    switch (e.event) {
      case 'started':
        this.write(
          `${clock(e.time)} started ${e.job.id} (worker ${e.worker}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''})`,
        );
        return;
      case 'retry':
        this.write(
          `${clock(e.time)} ${e.result.status} ${e.job.id}${describeEnd(e.result)}; retrying` +
            (e.delayMs ? ` in ${formatDuration(e.delayMs)}` : ''),
        );
        return;
      case 'finished':
        this.write(`${clock(e.time)} ${e.result.status} ${e.job.id}${describeEnd(e.result)}`);
        return;
      default:
        return;
    }
  }

  end({ summary, failures }: RunEnd): void {
    this.write(summaryLine(summary));
    for (const line of failureLines(failures)) this.write(line);
  }
}
