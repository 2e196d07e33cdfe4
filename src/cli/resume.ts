/**
 * `--resume` / `--resume-failed`: leave out the jobs an earlier run's joblog records as done. A job is matched
 * by its id and the hash of what it does, so an edited job runs again. `--resume` skips every job the log
 * records as finished, failed ones included (GNU parallel's meaning); `--resume-failed` skips only those that
 * succeeded. Jobs poolrun cancelled or killed are not in the log, so both run them again.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UsageError } from '../errors.js';
import { LINE_LIMIT_WORDS, LineTooLong, MAX_LINE_BYTES } from '../util/limits.js';
import { firstInvalidByte } from '../util/utf8.js';
import { notRegular, reason } from '../report/files.js';
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
  const refuse = (why: string) => new UsageError(`--joblog: cannot resume from ${file}: ${why}`);
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { done: new Set(), malformed: 0 };
    throw refuse(reason(e));
  }
  if (!st.isFile()) throw refuse(`it is ${notRegular(st)}, not a regular file`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw refuse(reason(e));
  }
  const done = new Set<string>();
  let malformed = 0;
  const take = (text: string) => {
    const parsed = parseJoblog(text);
    malformed += parsed.malformed;
    for (const e of parsed.entries) {
      if (!rerunFailed || (e.exitval === 0 && e.signal === 0)) done.add(joblogKey(e.id, e.hash));
    }
  };
  try {
    if (!fstatSync(fd).isFile()) throw refuse('it is not a regular file');
    for (const { first, lines } of lineBatches(fd)) {
      lines.forEach((line, k) => {
        const bad = firstInvalidByte(line);
        if (bad !== -1)
          throw refuse(`line ${first + k} is not valid UTF-8 (byte ${bad + 1}): not a joblog poolrun wrote`);
      });
      take(lines.map((l) => `${l.toString('utf8')}\n`).join(''));
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof LineTooLong)
      throw refuse(`line ${e.line} is longer than ${LINE_LIMIT_WORDS}: not a joblog poolrun wrote`);
    throw refuse(reason(e));
  } finally {
    closeSync(fd);
  }
  return { done, malformed };
}

/**
 * The complete lines of a file (without their newline), a batch per read. A last line without its newline is a
 * line poolrun was writing when it died: it is left out, as parseJoblog would.
 */
function* lineBatches(fd: number): Generator<{ first: number; lines: Buffer[] }> {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let n = 1;
  for (;;) {
    const got = readSync(fd, buf, 0, buf.length, null);
    if (got === 0) return;
    const chunk = buf.subarray(0, got);
    const lines: Buffer[] = [];
    let start = 0;
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, start)) {
      const part = chunk.subarray(start, i);
      if (pendingBytes + part.length > MAX_LINE_BYTES)
        throw new LineTooLong(n + lines.length, MAX_LINE_BYTES);
      lines.push(pending.length ? Buffer.concat([...pending, part]) : Buffer.from(part));
      pending = [];
      pendingBytes = 0;
      start = i + 1;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES) throw new LineTooLong(n + lines.length, MAX_LINE_BYTES);
      pending.push(Buffer.from(chunk.subarray(start)));
    }
    if (lines.length) {
      yield { first: n, lines };
      n += lines.length;
    }
  }
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
