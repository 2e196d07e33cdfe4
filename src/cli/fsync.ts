/**
 * `--fsync`: every copy and download job of the run makes its result durable (the file's data synced before the
 * rename, the folder synced after it), as if each had `"fsync": true`. Without it, and without the field, a copy
 * or download is atomic for every reader (absent or complete, never partial) but not synced: after a power loss
 * or an OS crash the destination may be missing or hold less than was copied, as after `cp` or `rsync`.
 */
import type { Job } from '../kinds/types.js';
import type { JobSource } from './source.js';

/** Marks one job durable, if it is of a kind that writes a file; other kinds are left as they are. */
export function markFsync(job: Job): Job {
  if (job.kind === 'copy') job.copy.fsync = true;
  else if (job.kind === 'download') job.download.fsync = true;
  return job;
}

/** The same source, each job marked as it is read (a streamed source is not read ahead). */
export function fsyncSource(source: JobSource): JobSource {
  const { jobs, batches } = source;
  const out: JobSource = { ...source };
  if (Array.isArray(jobs)) {
    for (const j of jobs as Job[]) markFsync(j);
  } else if (Symbol.asyncIterator in Object(jobs)) {
    out.jobs = markAsync(jobs as AsyncIterable<Job>);
  } else {
    out.jobs = markSync(jobs as Iterable<Job>);
  }
  if (batches) out.batches = markBatches(batches);
  return out;
}

function* markSync(jobs: Iterable<Job>): Generator<Job> {
  for (const j of jobs) yield markFsync(j);
}

async function* markAsync(jobs: AsyncIterable<Job>): AsyncGenerator<Job> {
  for await (const j of jobs) yield markFsync(j);
}

async function* markBatches(batches: AsyncIterable<Job[]>): AsyncGenerator<Job[]> {
  for await (const b of batches) {
    for (const j of b) markFsync(j);
    yield b;
  }
}
