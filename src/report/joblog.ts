/**
 * `--joblog FILE`: GNU parallel's joblog, one tab-separated line per finished job, written as each job finishes,
 * so that a run killed at any moment leaves a log that `--resume` can trust.
 *
 * Each line is written with one write(2) at once: from then on it survives poolrun's own death (SIGKILL, a
 * crash). Against the machine's death it is fdatasync'd as well, off the main thread and coalesced (one sync in
 * flight; lines written meanwhile go with the next): a sync per line on the main thread cost ~1 ms per job here,
 * 5 ms under load, as much as starting the job's process.
 *
 * GNU parallel's nine columns (Seq Host Starttime JobRuntime Send Receive Exitval Signal Command) cannot say
 * which job a line is about once the job file is edited: Seq is a position. Two columns follow Command: JobId
 * and JobHash (a hash of what the job does), so `--resume` skips a job only when both still match. Tools that
 * read GNU's columns by position still work; Command is escaped (\t \n \r \\) so that a line is always one line
 * of exactly eleven fields.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import { syncDirSync } from '../util/atomic.js';
import {
  closeSync,
  constants as fsConstants,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { checkFolder, notRegular, reason } from './files.js';
import type { ExecutorEvent, JobOutput } from '../executor/executor.js';
import type { Job, JobResult } from '../kinds/types.js';
import { describeJob } from '../kinds/describe.js';
import { kindOf } from '../kinds/index.js';
import { UsageError } from '../errors.js';
import { printable } from '../util/text.js';
import { redactId } from '../util/redact.js';
import type { RunObserver } from './types.js';
import type { Sink } from './sink.js';
import type { ReportOptions } from './options.js';

export const JOBLOG_COLUMNS = [
  'Seq',
  'Host',
  'Starttime',
  'JobRuntime',
  'Send',
  'Receive',
  'Exitval',
  'Signal',
  'Command',
  'JobId',
  'JobHash',
] as const;

export const HEADER = `${JOBLOG_COLUMNS.join('\t')}\n`;

/**
 * What a job does, hashed: its kind and action, cwd and env. Not its id or position (the log matches those
 * separately), nor timeout or retries (how patiently it runs, not what it does).
 */
export function jobHash(job: Job): string {
  const action = job.shown ?? kindOf(job).hashed(job);
  const what = { kind: job.kind, action, cwd: job.cwd ?? null, env: job.env ?? null };
  return createHash('sha256').update(stableJson(what)).digest('hex').slice(0, 16);
}

/** The key a job is matched by in the log. */
export function joblogKey(id: string, hash: string): string {
  return `${id}\0${hash}`;
}

/** GNU parallel's Exitval: -1 for a job poolrun killed; never 0 for one that did not succeed. */
export function exitval(r: JobResult): number {
  if (r.status === 'succeeded') return 0;
  if (r.status === 'timed-out' || r.status === 'cancelled') return -1;
  if (r.exitCode) return r.exitCode;
  if (r.signal) return 0; // GNU parallel: died of a signal of its own; the Signal column says which
  return 1; // a call that threw, a copy or download that failed
}

export function formatJoblogLine(result: JobResult, job: Job, received: number): string {
  const started = result.startedAt === null ? Date.now() : Date.parse(result.startedAt);
  const signal = result.signal ? ((constants.signals as Record<string, number>)[result.signal] ?? 0) : 0;
  const fields = [
    String(result.index + 1),
    ':', // Host: this machine, as GNU parallel writes it
    (started / 1000).toFixed(3),
    ((result.durationMs ?? 0) / 1000).toFixed(3).padStart(10),
    '0',
    String(received),
    String(exitval(result)),
    String(signal),
    escapeField(describeJob(job)),
    escapeField(redactId(result.id)),
    jobHash(job),
  ];
  return `${fields.join('\t')}\n`;
}

export interface JoblogEntry {
  seq: number;
  exitval: number;
  signal: number;
  id: string;
  hash: string;
}

export interface ParsedJoblog {
  entries: JoblogEntry[];
  /** Lines that are not joblog lines of poolrun's (a torn last line is not counted: it is expected). */
  malformed: number;
}

/** Reads a joblog; a torn last line (poolrun killed mid-write) and lines without JobId/JobHash are skipped. */
export function parseJoblog(text: string): ParsedJoblog {
  const entries: JoblogEntry[] = [];
  let malformed = 0;
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  for (const line of complete.split('\n')) {
    if (line === '' || line.startsWith('Seq\t')) continue;
    const f = line.split('\t');
    const entry =
      f.length === JOBLOG_COLUMNS.length && /^\d+$/.test(f[0]!) && /^[0-9a-f]{16}$/.test(f[10]!)
        ? {
            seq: Number(f[0]),
            exitval: Number(f[6]),
            signal: Number(f[7]),
            id: unescapeField(f[9]!),
            hash: f[10]!,
          }
        : undefined;
    if (entry && Number.isInteger(entry.exitval) && Number.isInteger(entry.signal)) entries.push(entry);
    else malformed++;
  }
  return { entries, malformed };
}

/**
 * Writes the joblog. Without --resume the file starts afresh with the header (as GNU parallel does); with it,
 * lines are appended to the earlier run's, after cutting off a torn last line so the new ones start clean.
 * Only jobs that ran to an outcome of their own are logged: a job poolrun cancelled or killed (halt, deadline,
 * a signal) did not finish, and --resume must run it again.
 */
export class JoblogWriter implements RunObserver {
  private fd: number | undefined;
  private warned = false;
  private dirty = false;
  private syncing = false;
  private closing = false;
  /** What begin() has still to do: empty a fresh log, or cut a resumed one's torn tail; undefined once done. */
  private pending: 'fresh' | 'append' | undefined;

  constructor(
    private readonly file: string,
    append: boolean,
    private readonly warn: (message: string) => void,
  ) {
    this.fd = openJoblog(file, append);
    this.pending = append ? 'append' : 'fresh';
    if (append) this.begin();
  }

  /**
   * A fresh log is emptied and given its header only when the run begins (its first event, or its end): a run
   * refused before any job (exit 2: a `::::` file that is not there, a bad first line on stdin) leaves the
   * earlier log as it was, so --resume-failed still knows what that run did.
   */
  private begin(): void {
    if (this.fd === undefined || this.pending === undefined) return;
    const fresh = this.pending === 'fresh';
    this.pending = undefined;
    try {
      if (fresh) ftruncateSync(this.fd, 0);
      else cutTornTail(this.fd);
      if (fstatSync(this.fd).size === 0) writeSync(this.fd, HEADER);
      fdatasyncSync(this.fd);
      syncDirSync(dirname(this.file));
    } catch (e) {
      if (!fresh) {
        closeSync(this.fd);
        this.fd = undefined;
        throw new UsageError(`--joblog: cannot write ${printable(this.file)}: ${reason(e)}`);
      }
      this.failed(e);
    }
  }

  event(e: ExecutorEvent): void {
    this.begin();
    if (e.event !== 'finished' || e.result.status === 'cancelled') return;
    this.write(formatJoblogLine(e.result, e.job, received(e.result, e.output)));
  }

  end(): void {
    this.begin();
    if (this.fd === undefined || this.closing) return;
    this.closing = true;
    try {
      if (this.dirty || this.syncing) fdatasyncSync(this.fd);
    } catch (e) {
      this.failed(e);
    }
    // A sync still in flight holds the descriptor: it is closed when that returns, so its number is not reused.
    if (!this.syncing) closeSync(this.fd);
  }

  private write(line: string): void {
    if (this.fd === undefined || this.closing) return;
    try {
      writeSync(this.fd, line);
    } catch (e) {
      this.failed(e);
      return;
    }
    this.dirty = true;
    this.sync();
  }

  private sync(): void {
    if (this.syncing || !this.dirty || this.fd === undefined) return;
    const fd = this.fd;
    this.syncing = true;
    this.dirty = false;
    fdatasync(fd, (e) => {
      this.syncing = false;
      if (e) this.failed(e);
      if (this.closing) closeSync(fd);
      else this.sync();
    });
  }

  private failed(e: unknown): void {
    // The run goes on (its jobs matter more than their log), but the user learns that --resume will redo work.
    if (!this.warned) this.warn(`--joblog: cannot write ${printable(this.file)}: ${(e as Error).message}`);
    this.warned = true;
  }
}

/**
 * Opens the joblog to write (appending, and readable to cut a torn tail, when resuming): a regular file, or a
 * new one in a folder that exists. Non-blocking, so a FIFO is refused instead of waiting for a reader, and
 * checked after opening, so nothing is truncated or written that is not a regular file.
 */
function openJoblog(file: string, append: boolean): number {
  checkFolder('--joblog', file, dirname(file));
  const refuse = (st: Stats) =>
    new UsageError(`--joblog: cannot write ${printable(file)}: it is ${notRegular(st)}, not a regular file`);
  let st: Stats | undefined;
  try {
    st = statSync(file);
  } catch {
    st = undefined;
  }
  if (st && !st.isFile()) throw refuse(st);
  const flags = append
    ? fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NONBLOCK
    : fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_NONBLOCK;
  let fd: number;
  try {
    fd = openSync(file, flags, 0o666);
  } catch (e) {
    throw new UsageError(`--joblog: cannot write ${printable(file)}: ${reason(e)}`);
  }
  const now = fstatSync(fd);
  if (!now.isFile()) {
    closeSync(fd);
    throw refuse(now);
  }
  return fd;
}

/** The --joblog observer of a run: appends after an earlier run's lines when resuming, else starts afresh. */
export function joblogObserver(file: string, opts: ReportOptions, sink: Sink): JoblogWriter {
  return new JoblogWriter(file, opts.resume || opts.resumeFailed, (m) =>
    sink.stderr(`poolrun: warning: ${m}\n`),
  );
}

/** GNU parallel's Receive: bytes of output the job wrote on stdout (as kept; 0 with --output none). */
export function received(r: JobResult, out: JobOutput | undefined): number {
  if (out?.stdoutFile) {
    try {
      return statSync(out.stdoutFile).size;
    } catch {
      /* already printed and removed */
    }
  }
  return out ? out.stdout.length : Buffer.byteLength(r.stdout);
}

/** Truncates a file after its last newline: what follows was a line being written when poolrun died. */
function cutTornTail(fd: number): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const buf = Buffer.alloc(Math.min(size, 64 * 1024));
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - buf.length);
    const n = readSync(fd, buf, 0, end - start, start);
    const nl = buf.subarray(0, n).lastIndexOf(0x0a);
    if (nl !== -1) {
      if (start + nl + 1 !== size) ftruncateSync(fd, start + nl + 1);
      return;
    }
    end = start;
  }
  ftruncateSync(fd, 0);
}

function escapeField(s: string): string {
  return s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
}

function unescapeField(s: string): string {
  return s.replace(/\\([\\tnr])/g, (_, c: string) => ({ '\\': '\\', t: '\t', n: '\n', r: '\r' })[c]!);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
