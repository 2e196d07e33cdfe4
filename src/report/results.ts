/** The `--json` results document (contract §5): summary, then every result in input order. */
import type { ExecutorEvent } from '../executor/executor.js';
import type { JobResult } from '../jobs/types.js';
import type { RunEnd, RunObserver, Summary } from './types.js';
import { writeFileAtomic } from '../util/atomic.js';

export function resultsDocument(summary: Summary, results: JobResult[]): string {
  const ordered = results.filter(Boolean).sort((a, b) => a.index - b.index);
  return `${JSON.stringify({ summary, results: ordered }, null, 2)}\n`;
}

export class ResultsFile implements RunObserver {
  private readonly results: JobResult[] = [];

  constructor(
    private readonly target: string,
    private readonly stdout: (s: string) => void,
  ) {}

  event(e: ExecutorEvent): void {
    if (e.event === 'finished') this.results[e.result.index] = e.result;
  }

  end(run: RunEnd): void {
    const doc = resultsDocument(run.summary, this.results);
    if (this.target === '-') this.stdout(doc);
    else writeFileAtomic(this.target, doc);
  }
}
