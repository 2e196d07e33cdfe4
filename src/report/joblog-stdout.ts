/**
 * `--joblog -`: the joblog on stdout, as GNU parallel writes it there: the header first, then each job's line
 * right after that job's output, so a job's line follows what it printed (in input order with --order input,
 * as `parallel -k --joblog -`). A job whose output is never printed (past a --deadline) gets its line at the end.
 * Nothing is read back: --resume and --schedule longest-first need a file (cli/options.ts refuses them).
 */
import type { ExecutorEvent } from '../executor/executor.js';
import type { JobResult } from '../kinds/types.js';
import { formatJoblogLine, HEADER, received } from './joblog.js';
import type { Sink } from './sink.js';
import type { RunObserver } from './types.js';

export class JoblogStdout implements RunObserver {
  /** Lines of finished jobs whose output is not printed yet, by index. */
  private readonly waiting = new Map<number, string>();

  constructor(private readonly sink: Sink) {
    sink.stdout(HEADER);
  }

  event(e: ExecutorEvent): void {
    if (e.event !== 'finished' || e.result.status === 'cancelled') return;
    this.waiting.set(e.result.index, formatJoblogLine(e.result, e.job, received(e.result, e.output)));
  }

  /** The job's output has just been printed: its line follows it. */
  printed(result: JobResult): void {
    const line = this.waiting.get(result.index);
    if (line === undefined) return;
    this.waiting.delete(result.index);
    this.sink.stdout(line);
  }

  end(): Promise<void> {
    for (const index of [...this.waiting.keys()].sort((a, b) => a - b))
      this.sink.stdout(this.waiting.get(index)!);
    this.waiting.clear();
    return this.sink.drained();
  }
}
