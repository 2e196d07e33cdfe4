/**
 * One line per state change on stderr, for logs and pipes: `HH:MM:SS.mmm status id (worker, duration, exit)`,
 * no cursor codes, colour only when forced (or on a terminal with `--reporter plain`). The summary at the end.
 */
import type { ChalkInstance } from 'chalk';
import type { ExecutorEvent } from '../executor/executor.js';
import { formatDuration } from '../util/duration.js';
import { describeEnd, Slowest, summaryLines, type SummaryOptions } from './summary.js';
import { statusColor } from './color.js';
import { clock, printable } from '../util/text.js';
import { redactId } from '../util/redact.js';
import type { RunEnd, RunObserver } from './types.js';

export { clock } from '../util/text.js';

export class PlainReporter implements RunObserver {
  private readonly slowest = new Slowest();

  constructor(
    private readonly write: (line: string) => void,
    private readonly c: ChalkInstance,
    private readonly summary: Omit<SummaryOptions, 'slowest' | 'color'> = {},
  ) {}

  event(e: ExecutorEvent): void {
    const c = this.c;
    const time = (t: number) => c.dim(clock(t));
    switch (e.event) {
      case 'started':
        this.write(
          `${time(e.time)} ${statusColor(c, 'started')('started')} ${printable(redactId(e.job.id))} ` +
            `(worker ${e.worker}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''})`,
        );
        return;
      case 'retry':
        this.write(
          `${time(e.time)} ${statusColor(c, e.result.status)(e.result.status)} ${printable(redactId(e.job.id))}` +
            `${describeEnd(e.result)}; retrying${e.delayMs ? ` in ${formatDuration(e.delayMs)}` : ''}`,
        );
        return;
      case 'requeued':
        this.write(`${time(e.time)} ${c.yellow('requeued')} ${printable(redactId(e.job.id))} (${e.reason})`);
        return;
      case 'finished':
        this.slowest.add(e.result);
        this.write(
          `${time(e.time)} ${statusColor(c, e.result.status)(e.result.status)} ${printable(redactId(e.job.id))}` +
            describeEnd(e.result),
        );
        return;
      default:
        return;
    }
  }

  end(run: RunEnd): void {
    const lines = summaryLines(run, { ...this.summary, slowest: this.slowest, color: this.c });
    for (const line of lines) this.write(line);
  }
}
