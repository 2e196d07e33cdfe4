/**
 * --dry-run with dependencies: the jobs in the order they would start if every job succeeded (a job after all
 * the jobs it runs after, otherwise in input order), each that waits preceded by a `#` line naming what it
 * waits for. Without `after`, the input order and the lines of describeJob, as before. With --resume, a job
 * left out as done is not waited for; one the joblog records as failed leaves its dependents out, each shown
 * as a `#` line saying why it will not run.
 */
import { describeJob } from '../kinds/describe.js';
import type { Job } from '../kinds/types.js';
import { DepTracker, type DepOutcome } from './deps.js';
import { redactId, redactText } from '../util/redact.js';

export interface DryRunItem {
  job: Job;
  /** What is printed for it (newline-terminated). */
  text: string;
}

export class DryRunOrder {
  private readonly deps = new DepTracker();
  /** Ids of the jobs --resume leaves out as succeeded: nobody waits for them. */
  private readonly doneOk = new Set<string>();
  private readonly work: DepOutcome[] = [];

  /** A job --resume leaves out (called while the input is read, before the next job comes). */
  skipped(job: Job, succeeded: boolean): void {
    if (succeeded) this.doneOk.add(job.id);
    this.work.push(...this.deps.skipped(job, succeeded));
  }

  async *items(jobs: Iterable<Job> | AsyncIterable<Job>): AsyncGenerator<DryRunItem> {
    for await (const job of jobs) {
      this.work.push(...this.deps.add(job));
      yield* this.flush();
    }
    yield* this.flush();
    // Still waiting at the end: cannot happen (the parser rejects unknown ids). Shown last, in input order.
    for (const o of this.deps.drain(() => ({ name: '', message: '' }))) yield this.item(o.job);
  }

  private *flush(): Generator<DryRunItem> {
    while (this.work.length) {
      const o = this.work.shift()!;
      if (!o.ready) {
        yield {
          job: o.job,
          text: `# ${JSON.stringify(redactId(o.job.id))} ${redactText(o.error.message)}\n`,
        };
        continue;
      }
      yield this.item(o.job);
      this.work.push(...this.deps.finished(o.job.index, 'succeeded', o.job.id));
    }
  }

  private item(job: Job): DryRunItem {
    return { job, text: dryRunLine(job, this.doneOk) };
  }
}

export function dryRunLine(job: Job, done: ReadonlySet<string> = new Set()): string {
  const after = (job.after ?? []).filter((a) => !done.has(a));
  const waits = after.length
    ? `# ${JSON.stringify(redactId(job.id))} waits for ${after.map((a) => JSON.stringify(redactId(a))).join(', ')}\n`
    : '';
  return `${waits}${describeJob(job)}\n`;
}
