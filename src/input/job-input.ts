/**
 * A job file or stdin, as a JobSource. JSON documents are read whole. JSONL and lines are read line by line:
 *
 * - from a regular file, twice: first every line is checked (a file with any problem runs nothing, and all
 *   its problems are listed), then the jobs are read again as they are submitted, so a file of millions of
 *   lines is never held in memory (small files are kept from the first pass);
 * - from a pipe, once, as the lines arrive: jobs start while the producer is still writing. A bad line can
 *   only be seen when it arrives; it stops the run (jobs started before it are killed) with its location and
 *   exit status 2.
 */
import { createReadStream, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { JobLineParser, type LineFormat } from '../jobs/lines.js';
import type { OwnFile } from '../jobs/destinations.js';
import { jobsWord, streamStopped } from '../jobs/issues.js';
import { formatFromExtension, parseJobBytes, sniffFormat, type InputFormat } from '../jobs/parse.js';
import type { Job } from '../kinds/types.js';
import { streamedSource, type JobSource } from './source.js';
import { fileSource, peek, readAll, stdinSource, type ByteSource } from './bytes.js';
import { records } from './records.js';
import { rawPath, shownPath } from '../util/argv.js';
import {
  documentTooLargeMessage,
  InputTooLarge,
  LineTooLong,
  lineTooLongMessage,
  MAX_DOCUMENT_BYTES,
  MAX_LINE_BYTES,
} from '../util/limits.js';
import { ProblemList } from '../jobs/issues.js';

/** A JSONL/lines file with at most this many jobs is kept in memory after it has been checked. */
const KEEP_CHECKED = 50_000;

export interface JobInputOptions {
  /** A path, or undefined for stdin. */
  file?: string;
  format?: InputFormat;
  /** The run's own files (its outputs, the job file): a copy or download writing one is exit 2. */
  own?: readonly OwnFile[];
}

export async function openJobInput(opts: JobInputOptions): Promise<JobSource> {
  let src: ByteSource;
  let baseDir = process.cwd();
  let format = opts.format;
  if (opts.file === undefined) src = stdinSource();
  else {
    const file = opts.file;
    // The bytes the user typed, when they are no UTF-8 (a Buffer path): `j\xe9.txt` is found.
    const path = rawPath(file);
    // The name as messages and locations show it: a control character in it is written as an escape.
    const shown = shownPath(path);
    let st: Stats;
    try {
      st = statSync(path);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (file === '') throw new UsageError('expected a job file name, got an empty argument ("")');
      throw new UsageError(
        e.code === 'ENOENT'
          ? `job file not found: ${shown}${notFoundHint(file)}`
          : `cannot read job file ${shown}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`,
      );
    }
    if (st.isDirectory())
      throw new UsageError(`job file is a directory: ${shown} (expected a .json, .jsonl or .txt file)`);
    // A named pipe, or <(command), is a stream like stdin.
    src = st.isFile() ? fileSource(path, st) : { kind: 'stream', name: shown, chunks: streamOf(path) };
    // <(command) names a descriptor (/dev/fd/63), not a folder: its paths resolve as stdin's, from the current one.
    baseDir = /^\/(?:dev\/fd|proc\/[^/]+\/fd)\//.test(resolve(file)) ? process.cwd() : dirname(resolve(file));
    format ??= formatFromExtension(file);
  }
  try {
    const own = opts.own ?? [];
    return src.kind === 'file'
      ? await fromFile(src, baseDir, format, own)
      : await fromStream(src, baseDir, format, own);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EISDIR' || code === 'ENOENT')
      throw new UsageError(`cannot read job file ${src.name}: ${(e as Error).message}`);
    throw e;
  }
}

function streamOf(path: string | Buffer): AsyncIterable<Buffer> {
  return createReadStream(path) as AsyncIterable<Buffer>;
}

async function fromFile(
  src: Extract<ByteSource, { kind: 'file' }>,
  baseDir: string,
  format: InputFormat | undefined,
  own: readonly OwnFile[],
): Promise<JobSource> {
  if (format === undefined) {
    const { head, close } = await peek(src.chunks(), endOfSniff());
    await close();
    format = sniffFormat(head.toString('utf8'));
  }
  if (format === 'json') {
    if (src.size > MAX_DOCUMENT_BYTES) throw tooLarge(src.name);
    const jobs = parseJobBytes(await src.readAll(), { name: src.name, baseDir, format, own }).jobs;
    return { jobs, total: jobs.length, name: src.name };
  }
  // First pass: check every line.
  const check = new JobLineParser(format, src.name, baseDir, 'any', own);
  let kept: Job[] | undefined = [];
  try {
    for await (const batch of records(src.chunks(), 0x0a)) {
      batch.items.forEach((line, k) => {
        const job = check.push(line, batch.first + k);
        if (job && kept) {
          kept.push(job);
          if (kept.length > KEEP_CHECKED) kept = undefined;
        }
      });
    }
  } catch (e) {
    if (!(e instanceof LineTooLong)) throw e;
    // The problems found before it are listed too; nothing has run.
    check.problems.add(lineProblem(src.name, e));
  }
  check.end();
  if (kept) return { jobs: kept, total: kept.length, name: src.name };
  return {
    ...streamedSource(src.name, readLines(src.chunks(), format, src.name, baseDir, 'changed', own)),
    total: check.count,
  };
}

async function fromStream(
  src: Extract<ByteSource, { kind: 'stream' }>,
  baseDir: string,
  format: InputFormat | undefined,
  own: readonly OwnFile[],
): Promise<JobSource> {
  let chunks = src.chunks;
  if (format === undefined) {
    const p = await peek(chunks, endOfSniff());
    format = sniffFormat(p.head.toString('utf8'));
    chunks = p.all;
  }
  if (format === 'json') {
    let bytes: Buffer;
    try {
      bytes = await readAll(chunks, MAX_DOCUMENT_BYTES);
    } catch (e) {
      if (e instanceof InputTooLarge) throw tooLarge(src.name);
      throw e;
    }
    const jobs = parseJobBytes(bytes, { name: src.name, baseDir, format, own }).jobs;
    return { jobs, total: jobs.length, name: src.name };
  }
  return streamedSource(src.name, readLines(chunks, format, src.name, baseDir, 'stream', own));
}

/**
 * Jobs from lines as they are read, a batch per chunk of input. A problem ends the iteration with the error;
 * `why` words it: a file that changed between the check and the run, or a stream whose bad line came after
 * jobs had started.
 */
async function* readLines(
  chunks: AsyncIterable<Buffer>,
  format: LineFormat,
  name: string,
  baseDir: string,
  why: 'changed' | 'stream',
  own: readonly OwnFile[],
): AsyncGenerator<Job[]> {
  const parser = new JobLineParser(format, name, baseDir, why === 'stream' ? 'earlier' : 'checked', own);
  let yielded = 0;
  const lines = records(chunks, 0x0a);
  for (;;) {
    let next: IteratorResult<{ first: number; items: Buffer[] }>;
    try {
      next = await lines.next();
    } catch (e) {
      if (!(e instanceof LineTooLong)) throw e;
      parser.problems.add(lineProblem(name, e));
      throw parser.problems.error(name, streamStopped(yielded));
    }
    if (next.done) break;
    const batch = next.value;
    const jobs: Job[] = [];
    for (let k = 0; k < batch.items.length; k++) {
      const job = parser.push(batch.items[k]!, batch.first + k);
      if (job) jobs.push(job);
    }
    if (!parser.problems.empty) {
      // Every problem of the lines at hand is listed; jobs read with them are not handed out.
      const tail =
        yielded !== 0 && why === 'changed'
          ? `the file changed after it was checked: the run was stopped after ${jobsWord(yielded)}`
          : streamStopped(yielded);
      throw parser.problems.error(name, tail);
    }
    if (jobs.length) {
      yielded += jobs.length;
      yield jobs;
    }
  }
  parser.end();
}

/** A line past the limit, as a located problem. */
export function lineProblem(name: string, e: LineTooLong): { where: string; message: string } {
  return { where: `${name}:${e.line}`, message: lineTooLongMessage(e.limit) };
}

function tooLarge(name: string): Error {
  const problems = new ProblemList();
  problems.add({ where: name, message: documentTooLargeMessage() });
  return problems.error(name);
}

/**
 * Enough of the input to apply the format rule: its first non-blank byte, and its first line if that is `{`
 * (at most a line's limit of it: a longer first line is no JSONL line).
 */
function endOfSniff(): (chunk: Buffer) => boolean {
  let first: number | undefined;
  let seen = 0;
  return (chunk) => {
    seen += chunk.length;
    if (seen > MAX_LINE_BYTES) return true;
    let from = 0;
    if (first === undefined) {
      for (; from < chunk.length; from++) {
        const b = chunk[from]!;
        // blanks, and the bytes of a UTF-8 byte-order mark
        if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0xef && b !== 0xbb && b !== 0xbf)
          break;
      }
      if (from === chunk.length) return false;
      first = chunk[from];
      if (first !== 0x7b) return true;
    }
    return chunk.indexOf(0x0a, from) !== -1;
  };
}

/** A lone plain word that is no file may be a command meant for stdin's lines, as GNU parallel reads it. */
function notFoundHint(file: string): string {
  return /^[\w.+-]+$/.test(file) && !/\.(json|jsonl|ndjson|txt)$/i.test(file)
    ? ` (to run it once per line of stdin, as GNU parallel does: poolrun ${file} {} :::: -)`
    : '';
}
