/** A stream of jobs as the run reads it, whatever it comes from (cli/source.ts opens one). */
import type { Job } from '../kinds/types.js';

export interface JobSource {
  /** The jobs, in input order; an async iterable when they are read as they arrive. */
  jobs: Iterable<Job> | AsyncIterable<Job>;
  /**
   * The same stream of jobs in the batches it is read in (one per chunk of input), for a reader that takes
   * many at a time. A reader uses either this or `jobs`, never both.
   */
  batches?: AsyncIterable<Job[]>;
  /** How many, when known before the run (a streamed input does not know). */
  total?: number;
  /** Shown in messages. */
  name: string;
  /** Told when a job of this source has finished for good (--pipe frees its block). */
  finished?: (job: Job) => void;
}

/** A streamed source from its batches: `jobs` takes them one job at a time. */
export function streamedSource(name: string, batches: AsyncIterable<Job[]>): JobSource {
  return { name, batches, jobs: flatten(batches) };
}

async function* flatten(batches: AsyncIterable<Job[]>): AsyncGenerator<Job> {
  for await (const batch of batches) yield* batch;
}
