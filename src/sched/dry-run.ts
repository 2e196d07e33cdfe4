/**
 * --dry-run with dependencies: the jobs in the order they would start if every job succeeded (a job after all
 * the jobs it runs after, otherwise in input order), each that waits preceded by a `#` line naming what it
 * waits for. Without `after`, the input order and the lines of describeJob, as before.
 */
import { describeJob } from '../kinds/describe.js';
import type { Job } from '../kinds/types.js';
import { DepTracker } from './deps.js';

export async function* startOrder(jobs: Iterable<Job> | AsyncIterable<Job>): AsyncGenerator<Job> {
  const deps = new DepTracker();
  for await (const job of jobs) {
    const work = deps.add(job);
    while (work.length) {
      const o = work.shift()!;
      if (!o.ready) continue; // cannot happen: nothing fails in a dry run
      yield o.job;
      work.push(...deps.finished(o.job.index, 'succeeded', o.job.id));
    }
  }
  // Still waiting at the end: for a job --resume left out (done earlier). Shown last, in input order.
  for (const o of deps.drain(() => ({ name: '', message: '' }))) yield o.job;
}

export function dryRunLine(job: Job): string {
  const waits = job.after?.length
    ? `# ${JSON.stringify(job.id)} waits for ${job.after.map((a) => JSON.stringify(a)).join(', ')}\n`
    : '';
  return `${waits}${describeJob(job)}\n`;
}
