/**
 * `--resume` / `--resume-failed`: leave out the jobs an earlier run's joblog records as done (`--resume` with
 * `--results` also those that left their output there, as GNU parallel's does). A job is matched
 * by its id and the hash of what it does, so an edited job runs again. The log holds ids as every output shows
 * them, secrets masked (util/redact.ts): a job's id is masked the same way before it is compared. `--resume`
 * skips every job the log records as finished, failed ones included (GNU parallel's meaning); `--resume-failed`
 * skips only those that succeeded. Jobs poolrun cancelled or killed are not in the log, so both run them again. A job left out counts
 * for the jobs that run `after` it as what the log records: succeeded only with Exitval 0 and Signal 0, so with
 * `--resume` the dependents of a job that failed earlier end cancelled, as in the run that failed.
 */
import { UsageError } from '../errors.js';
import { firstInvalidByte } from '../util/utf8.js';
import { printable } from '../util/text.js';
import { redactId } from '../util/redact.js';
import { readJoblogLines } from '../report/joblog-file.js';
import type { Job } from '../kinds/types.js';
import { jobHash, joblogKey, parseJoblog } from '../report/joblog.js';
import type { JobSource } from './source.js';
import type { RunOptions } from './options.js';

export interface ResumeLog {
  /** Keys (id + hash) of the jobs to leave out, each with whether it succeeded (the last line for it). */
  done: Map<string, boolean>;
  /** Lines that could not be read as poolrun joblog lines. */
  malformed: number;
  /** --resume with --results: whether the job left its output there in an earlier run (then it is left out too). */
  inResults?: (job: Job) => boolean;
}

/**
 * Reads the earlier run's joblog; a missing file means nothing is done yet (the first run of a resumable job).
 * Read a piece at a time, each line at most MAX_LINE_BYTES: a joblog is poolrun's own file, so one that is not a
 * regular file, holds a line past the limit or bytes that are not UTF-8 is some other file given by mistake,
 * and is refused (exit 2) rather than read whole or half-trusted.
 */
export function readResumeLog(file: string, rerunFailed: boolean): ResumeLog {
  const refuse = (why: string) => new UsageError(`--joblog: cannot resume from ${printable(file)}: ${why}`);
  const done = new Map<string, boolean>();
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
      const ok = e.exitval === 0 && e.signal === 0;
      // The log stores ids masked (report/joblog.ts); one an older poolrun wrote raw is masked here alike.
      const key = joblogKey(redactId(e.id), e.hash);
      // The last line for a job says how it ended (a --resume-failed run appends its new outcome).
      if (!rerunFailed || ok) done.set(key, ok);
    }
  });
  return { done, malformed };
}

/**
 * What --resume / --resume-failed leave out: the joblog's records (a warning through `warn` for lines that are
 * not poolrun's), and with --resume and --results, the jobs whose output is there.
 */
export async function resumeLog(opts: RunOptions, warn: (line: string) => void): Promise<ResumeLog> {
  const log: ResumeLog =
    opts.joblog !== undefined
      ? readResumeLog(opts.joblog, opts.resumeFailed)
      : { done: new Map(), malformed: 0 };
  if (log.malformed)
    warn(
      `poolrun: warning: --joblog ${opts.joblog}: ${log.malformed} line(s) are not poolrun joblog lines; ignored\n`,
    );
  const results = opts.resume ? opts.gnu?.resultsDir : undefined;
  if (results !== undefined) {
    const { alreadyInResults } = await import('../gnu/results.js');
    const spec = { dir: results, context: opts.gnu?.context };
    log.inResults = (j: Job) => alreadyInResults(spec, j);
  }
  return log;
}

/** undefined: not done; true: done and succeeded; false: done, failed. */
function doneAs(log: ResumeLog, job: Job): boolean | undefined {
  const logged = log.done.size > 0 ? log.done.get(joblogKey(redactId(job.id), jobHash(job))) : undefined;
  // Output there says the job ran, not how it ended: GNU parallel leaves it out all the same.
  return logged ?? (log.inResults?.(job) ? true : undefined);
}

/** A job left out, and whether the log records it succeeded. */
export type OnSkip = (job: Job, succeeded: boolean) => void;

/**
 * The source without the jobs the log records as done; each one left out is reported to `onSkip` as the
 * iteration passes it (so output printed in input order can step over its position).
 */
export function skipDone(source: JobSource, log: ResumeLog, onSkip: OnSkip): JobSource {
  const { jobs, name } = source;
  if (source.total !== undefined && Symbol.iterator in Object(jobs)) {
    const list = Array.isArray(jobs) ? (jobs as Job[]) : [...(jobs as Iterable<Job>)];
    // Hashed once: the count needs to know which are done before the run, the iteration as it goes.
    const done = list.map((j) => doneAs(log, j));
    const total = done.filter((d) => d === undefined).length;
    return { name, total, jobs: skipping(list, done, onSkip) };
  }
  return { name, jobs: skippingAsync(jobs, log, onSkip) };
}

function* skipping(jobs: Job[], done: Array<boolean | undefined>, onSkip: OnSkip): Generator<Job> {
  for (let i = 0; i < jobs.length; i++) {
    const d = done[i];
    if (d !== undefined) onSkip(jobs[i]!, d);
    else yield jobs[i]!;
  }
}

async function* skippingAsync(
  jobs: Iterable<Job> | AsyncIterable<Job>,
  log: ResumeLog,
  onSkip: OnSkip,
): AsyncGenerator<Job> {
  for await (const j of jobs) {
    const d = doneAs(log, j);
    if (d !== undefined) onSkip(j, d);
    else yield j;
  }
}
