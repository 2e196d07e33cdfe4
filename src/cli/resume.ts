/**
 * `--resume` / `--resume-failed`: leave out the jobs an earlier run's joblog records as done. A job is matched
 * by its id and the hash of what it does, so an edited job runs again. `--resume` skips every job the log
 * records as finished, failed ones included (GNU parallel's meaning); `--resume-failed` skips only those that
 * succeeded. Jobs poolrun cancelled or killed are not in the log, so both run them again.
 */
import { UsageError } from '../errors.js';
import { firstInvalidByte } from '../util/utf8.js';
import { printable } from '../util/text.js';
import { readJoblogLines } from '../report/joblog-file.js';
import type { Job } from '../kinds/types.js';
import { jobHash, joblogKey, parseJoblog } from '../report/joblog.js';
import type { JobSource } from './source.js';

export interface ResumeLog {
  /** Keys (id + hash) of the jobs to leave out. */
  done: Set<string>;
  /** Lines that could not be read as poolrun joblog lines. */
  malformed: number;
}

/**
 * Reads the earlier run's joblog; a missing file means nothing is done yet (the first run of a resumable job).
 * Read a piece at a time, each line at most MAX_LINE_BYTES: a joblog is poolrun's own file, so one that is not a
 * regular file, holds a line past the limit or bytes that are not UTF-8 is some other file given by mistake,
 * and is refused (exit 2) rather than read whole or half-trusted.
 */
export function readResumeLog(file: string, rerunFailed: boolean): ResumeLog {
  const refuse = (why: string) => new UsageError(`--joblog: cannot resume from ${printable(file)}: ${why}`);
  const done = new Set<string>();
  let malformed = 0;
  readJoblogLines(file, refuse, (first, lines) => {
    lines.forEach((line, k) => {
      const bad = firstInvalidByte(line);
      if (bad !== -1)
        throw refuse(`line ${first + k} is not valid UTF-8 (byte ${bad + 1}): not a joblog poolrun wrote`);
    });
    const parsed = parseJoblog(lines.map((l) => `${l.toString('utf8')}\n`).join(''));
    malformed += parsed.malformed;
    for (const e of parsed.entries) {
      if (!rerunFailed || (e.exitval === 0 && e.signal === 0)) done.add(joblogKey(e.id, e.hash));
    }
  });
  return { done, malformed };
}

function isDone(log: ResumeLog, job: Job): boolean {
  return log.done.size > 0 && log.done.has(joblogKey(job.id, jobHash(job)));
}

/**
 * The source without the jobs the log records as done; each one left out is reported to `onSkip` as the
 * iteration passes it (so output printed in input order can step over its position).
 */
export function skipDone(source: JobSource, log: ResumeLog, onSkip: (job: Job) => void): JobSource {
  const { jobs, name } = source;
  if (source.total !== undefined && Symbol.iterator in Object(jobs)) {
    const list = Array.isArray(jobs) ? (jobs as Job[]) : [...(jobs as Iterable<Job>)];
    // Hashed once: the count needs to know which are done before the run, the iteration as it goes.
    const done = list.map((j) => isDone(log, j));
    const total = done.filter((d) => !d).length;
    return { name, total, jobs: skipping(list, done, onSkip) };
  }
  return { name, jobs: skippingAsync(jobs, log, onSkip) };
}

function* skipping(jobs: Job[], done: boolean[], onSkip: (job: Job) => void): Generator<Job> {
  for (let i = 0; i < jobs.length; i++) {
    if (done[i]) onSkip(jobs[i]!);
    else yield jobs[i]!;
  }
}

async function* skippingAsync(
  jobs: Iterable<Job> | AsyncIterable<Job>,
  log: ResumeLog,
  onSkip: (job: Job) => void,
): AsyncGenerator<Job> {
  for await (const j of jobs) {
    if (isDone(log, j)) onSkip(j);
    else yield j;
  }
}
