/**
 * `--schedule longest-first`: start the jobs an earlier run found long first, so that a long job does not start
 * last and run on alone while the other workers idle. Durations come from the earlier run's --joblog (its
 * JobRuntime column), matched by JobHash, the hash of what a job does that --resume matches by too (a job whose
 * command changed is a new job); when a hash is logged more than once, its last line counts. Jobs the log does
 * not know start first of all (they may be the longest; nothing says otherwise); ties keep input order.
 *
 * Only the start order changes: a job keeps its index, so output in input order, results and the joblog's Seq
 * are as without it. A list of jobs is sorted whole; a stream (stdin) in windows of STREAM_WINDOW jobs: poolrun
 * reads that many ahead (or to the end of the stream) before it starts one.
 */
import { UsageError } from '../errors.js';
import { printable } from '../util/text.js';
import { jobHash } from '../report/joblog.js';
import { readJoblogLines } from '../report/joblog-file.js';
import type { Job } from '../kinds/types.js';
import type { JobSource } from '../input/source.js';

export type Schedule = 'input' | 'longest-first';
export const SCHEDULES: readonly Schedule[] = ['input', 'longest-first'];
export const STREAM_WINDOW = 1024;

/** Durations in ms by JobHash, from joblog text (GNU parallel's nine columns, then JobId and JobHash). */
export function durationsFrom(text: string, into = new Map<string, number>()): Map<string, number> {
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length !== 11 || !/^\d+$/.test(f[0]!) || !/^[0-9a-f]{16}$/.test(f[10]!)) continue;
    const runtime = f[3]!.trim();
    if (!/^\d+(?:\.\d+)?$/.test(runtime)) continue;
    into.set(f[10]!, Number(runtime) * 1000);
  }
  return into;
}

/**
 * Reads the durations an earlier run logged in `file`; a missing file means no history (the first run). A file
 * that is not a regular file, or has a line past the line limit, is refused (exit 2), as --resume refuses it.
 */
export function readDurations(file: string): Map<string, number> {
  const refuse = (why: string) =>
    new UsageError(
      `--schedule longest-first: cannot read durations from --joblog ${printable(file)}: ${why}`,
    );
  const durations = new Map<string, number>();
  // The columns read are ASCII: latin1 keeps every byte of the others as it is, valid UTF-8 or not.
  readJoblogLines(file, refuse, (_first, lines) =>
    durationsFrom(lines.map((line) => `${line.toString('latin1')}\n`).join(''), durations),
  );
  return durations;
}

/** Start order: jobs the log does not know first, then the longest first; ties in input order. */
export function compareForStart(durations: Map<string, number>): (a: Job, b: Job) => number {
  const key = new WeakMap<Job, number>();
  const of = (j: Job) => {
    let k = key.get(j);
    if (k === undefined) key.set(j, (k = durations.get(jobHash(j)) ?? Infinity));
    return k;
  };
  return (a, b) => {
    const da = of(a);
    const db = of(b);
    if (da !== db) return da === Infinity ? -1 : db === Infinity ? 1 : db - da;
    return a.index - b.index;
  };
}

/** The jobs in start order (a new array; the jobs themselves are unchanged). */
export function startOrder(jobs: readonly Job[], durations: Map<string, number>): Job[] {
  return [...jobs].sort(compareForStart(durations));
}

/**
 * The source in start order. A list is sorted when the run first asks for a job (not before: a job --resume
 * leaves out is reported as the iteration passes it, to a printer that exists only then).
 */
export function longestFirst(source: JobSource, durations: Map<string, number>): JobSource {
  const { jobs, name, total } = source;
  if (durations.size === 0) return source;
  if (total !== undefined && Symbol.iterator in Object(jobs)) {
    return {
      name,
      total,
      jobs: (function* () {
        yield* startOrder([...(jobs as Iterable<Job>)], durations);
      })(),
    };
  }
  return { name, jobs: windowed(jobs, durations) };
}

/** A stream in start order within a sliding window: the first of the STREAM_WINDOW jobs held goes next. */
async function* windowed(
  jobs: Iterable<Job> | AsyncIterable<Job>,
  durations: Map<string, number>,
): AsyncGenerator<Job> {
  const cmp = compareForStart(durations);
  const held: Job[] = [];
  for await (const job of jobs) {
    // Kept sorted by insertion: a window of 1024 costs a few µs per job.
    let lo = 0;
    let hi = held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(held[mid]!, job) <= 0) lo = mid + 1;
      else hi = mid;
    }
    held.splice(lo, 0, job);
    if (held.length >= STREAM_WINDOW) yield held.shift()!;
  }
  yield* held;
}

/** `--schedule longest-first --joblog FILE`: the source in start order, by the durations FILE records. */
export function byJoblog(source: JobSource, joblog: string): JobSource {
  return longestFirst(source, readDurations(joblog));
}
