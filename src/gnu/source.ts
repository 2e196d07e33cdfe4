/** GNU parallel's ways in and around a job source: --pipe's blocks, --shuf's random order. */
import type { Job } from '../kinds/types.js';
import type { JobSource } from '../input/source.js';
import type { GnuOptions } from './options.js';
import { pipeSource } from './pipe.js';

export function pipeSourceFor(opts: { gnu?: GnuOptions; workers: number; dryRun?: boolean }): JobSource {
  return pipeSource({
    pipe: opts.gnu!.pipe!,
    workers: opts.workers,
    dryRun: opts.dryRun === true,
    warn: (m) => process.stderr.write(`poolrun: ${m}\n`),
  });
}

/**
 * --shuf: every job read first, then run in a random order (Fisher-Yates). A job's index is its place in that
 * order (the order output is printed in, as GNU's -k --shuf prints it, and the joblog's Seq); its id stays its
 * input position, as the {#} already expanded in its command does: what the joblog matches a job by for --resume
 * (its id and what it does) must not change with the next shuffle, and `after` names jobs by their ids.
 */
export async function shuffled(source: JobSource, random: () => number = Math.random): Promise<JobSource> {
  const all: Job[] = [];
  for await (const j of source.jobs) all.push(j);
  for (let i = all.length - 1; i > 0; i--) {
    const k = Math.floor(random() * (i + 1));
    [all[i], all[k]] = [all[k]!, all[i]!];
  }
  const jobs = all.map((j, index) => ({ ...j, index }));
  const out: JobSource = { jobs, total: jobs.length, name: source.name };
  if (source.finished) out.finished = source.finished;
  return out;
}
