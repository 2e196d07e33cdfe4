/**
 * `--report FILE.html`: a picture of the run. One lane per worker slot, one bar per job attempt, coloured by how
 * it ended, with a header of figures (wall time, utilisation = busy time / (workers × wall)). Written atomically
 * at the end of a run, and after a stop (SIGINT, SIGTERM, --deadline, --halt) alike.
 *
 * What is kept per attempt is a few numbers; what is kept of stderr is bounded (per attempt and per run), so a
 * 10,000-job run makes a file of a few hundred KB to ~2 MB and memory does not grow with the jobs' output.
 */
import type { ExecutorEvent, JobOutput } from '../executor/executor.js';
import type { JobResult } from '../kinds/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { redactId, redactText } from '../util/redact.js';
import { shellQuote } from '../util/shell.js';
import { OutputFileError } from './files.js';
import { stderrTail } from './tail.js';
import { timelinePage, type TimelineData, type TimelineHeader } from './timeline-page.js';
import { errorLine, summaryLine } from './summary.js';
import type { RunEnd, RunInfo, RunObserver } from './types.js';
import { noteWithUsage } from './usage.js';
import { joinNotes, waitNote } from './wait-note.js';

/** Bar statuses, in the order of the page's legend; an attempt that was retried is drawn as `retried`. */
export const BAR_STATUSES = ['succeeded', 'failed', 'timed-out', 'cancelled', 'retried'] as const;
export type BarStatus = (typeof BAR_STATUSES)[number];

const ID_CHARS = 200;
const COMMAND_CHARS = 600;
/** Tail of stderr kept for an attempt that did not succeed, and for one that did (warnings, mostly). */
const FAILED_TAIL = { bytes: 2048, lines: 12 };
const OK_TAIL = { bytes: 256, lines: 3 };
/** Stderr kept for the whole report, failing attempts first: past it, tooltips say the tail was not kept. */
const FAILED_TAIL_BUDGET = 512 * 1024;
const OK_TAIL_BUDGET = 96 * 1024;

export interface TimelineOptions {
  /** `thread`, `process`, or `queue` (workers on other machines). */
  mode: string;
  /** The command line's arguments, after `poolrun`. */
  argv: string[];
}

interface Running {
  id: string;
  worker: number;
  host: string | undefined;
  pid: number;
  attempt: number;
  time: number;
}

export class TimelineReport implements RunObserver {
  private readonly jobIds: string[] = [];
  private readonly jobIndex: number[] = [];
  /** Jobs with an attempt drawn and another to come (retried): the only ones looked up by input position. */
  private readonly retrying = new Map<number, number>();
  private readonly lanes = new Map<string, number>();
  private readonly laneLabels: string[] = [];
  private readonly laneWorkers: number[] = [];
  private readonly a: TimelineData['a'] = {
    job: [],
    lane: [],
    start: [],
    dur: [],
    st: [],
    n: [],
    exit: [],
    sig: [],
    note: [],
    tail: [],
  };
  private readonly texts: string[] = [];
  private readonly textIndex = new Map<string, number>();
  private readonly running = new Map<number, Running>();
  private failedTailBytes = 0;
  private okTailBytes = 0;
  private tailsDropped = 0;
  private notStarted = 0;
  /** Jobs that waited for the jobs they run `after`: since when, and for which (src/sched/). */
  private readonly waits = new Map<number, { time: number; after: string[] }>();
  /** -w auto: the pool's width from each time on. */
  private readonly widths: { t: number[]; w: number[] } = { t: [], w: [] };

  constructor(
    private readonly target: string,
    private readonly info: RunInfo,
    private readonly opts: TimelineOptions,
  ) {
    // A local pool's slots are all drawn, idle ones included: an empty lane is part of the picture.
    if (opts.mode !== 'queue') for (let w = 1; w <= info.workers; w++) this.lane(w, undefined, 0);
  }

  event(e: ExecutorEvent): void {
    switch (e.event) {
      case 'waiting':
        this.waits.set(e.job.index, { time: e.time, after: e.after.map(redactId) });
        return;
      case 'started':
        this.running.set(e.job.index, {
          id: e.job.id,
          worker: e.worker,
          host: e.host,
          pid: e.pid,
          attempt: e.attempt,
          time: e.time,
        });
        return;
      case 'retry':
        this.running.delete(e.job.index);
        this.attempt(e.result, undefined, 'retried');
        return;
      case 'finished':
        // Cancelled while its retry waited: its last attempt is already drawn (retried), and counted once.
        if (!this.running.delete(e.job.index) && this.retrying.has(e.job.index)) {
          this.retrying.delete(e.job.index);
          return;
        }
        if (e.result.startedAt === null || e.result.worker === null) this.notStarted++;
        else this.attempt(e.result, e.output, e.result.status);
        return;
      default:
        return;
    }
  }

  width(w: number, time: number): void {
    this.widths.t.push(Math.max(0, time - this.info.startedAt));
    this.widths.w.push(w);
  }

  async end(run: RunEnd): Promise<void> {
    const wallMs = run.summary.durationMs;
    // Nothing should still be running at the end; if something is, it is drawn up to the end of the run.
    for (const [index, r] of this.running) {
      const job = this.job(index, r.id, false);
      this.push(
        job,
        this.lane(r.worker, r.host, r.pid),
        r.time - this.info.startedAt,
        undefined,
        'cancelled',
        r.attempt,
      );
      this.setText('note', 'still running when the report was written');
    }
    this.running.clear();
    const html = timelinePage(this.data(wallMs), this.header(run));
    try {
      await writeFileAtomic(this.target, html);
    } catch (e) {
      throw new OutputFileError(`--report: could not write ${this.target}: ${(e as Error).message}`);
    }
  }

  private attempt(r: JobResult, output: JobOutput | undefined, status: BarStatus): void {
    if (r.worker === null || r.startedAt === null) return;
    const job = this.job(r.index, r.id, status === 'retried');
    const start = Date.parse(r.startedAt) - this.info.startedAt;
    this.push(
      job,
      this.lane(r.worker, r.host ?? undefined, r.pid ?? 0),
      start,
      r.durationMs ?? 0,
      status,
      r.attempts,
    );
    const last = this.a.job.length - 1;
    this.a.exit[last] = r.exitCode;
    this.a.sig[last] = r.signal;
    const wait = this.waits.get(r.index);
    this.waits.delete(r.index);
    const note = noteWithUsage(joinNotes(wait && waitNote(wait, Date.parse(r.startedAt)), noteFor(r)), r);
    if (note) this.setText('note', note);
    this.keepTail(r, output, status === 'succeeded' ? OK_TAIL : FAILED_TAIL, status === 'succeeded');
  }

  private push(job: number, lane: number, start: number, dur: number | undefined, st: BarStatus, n: number) {
    const a = this.a;
    a.job.push(job);
    a.lane.push(lane);
    a.start.push(Math.max(0, Math.round(start)));
    a.dur.push(dur === undefined ? -1 : Math.max(0, Math.round(dur)));
    a.st.push(BAR_STATUSES.indexOf(st));
    a.n.push(n);
    a.exit.push(null);
    a.sig.push(null);
    a.note.push(-1);
    a.tail.push(-1);
  }

  private keepTail(r: JobResult, output: JobOutput | undefined, size: typeof OK_TAIL, ok: boolean): void {
    const tail = stderrTail(r, output, size.bytes, size.lines, (t) => redactText(cleanText(t)));
    if (!tail) return;
    const bytes = Buffer.byteLength(tail);
    if (ok ? this.okTailBytes + bytes > OK_TAIL_BUDGET : this.failedTailBytes + bytes > FAILED_TAIL_BUDGET) {
      this.tailsDropped++;
      this.a.tail[this.a.tail.length - 1] = -2;
      return;
    }
    if (ok) this.okTailBytes += bytes;
    else this.failedTailBytes += bytes;
    this.setText('tail', tail);
  }

  /** Sets the last attempt's note or tail to a shared string (the same warning on every job is kept once). */
  private setText(column: 'note' | 'tail', text: string): void {
    let i = this.textIndex.get(text);
    if (i === undefined) {
      i = this.texts.push(text) - 1;
      this.textIndex.set(text, i);
    }
    this.a[column][this.a[column].length - 1] = i;
  }

  /** The job's position in the page's job list; `more`: another attempt of it will come. */
  private job(index: number, id: string, more: boolean): number {
    let j = this.retrying.get(index);
    if (j === undefined) {
      id = redactId(id);
      j = this.jobIds.push(id.length > ID_CHARS ? `${id.slice(0, ID_CHARS - 1)}…` : id) - 1;
      this.jobIndex.push(index);
    }
    if (more) this.retrying.set(index, j);
    else this.retrying.delete(index);
    return j;
  }

  /**
   * A local pool's lane is its slot. A queue worker's slots are numbered on its own host, and one host may run
   * several `poolrun worker`s: there a lane is a host, a process and a slot (a process-mode worker that was
   * replaced gets a new lane).
   */
  private lane(worker: number, host: string | undefined, pid: number): number {
    const key = host === undefined ? String(worker) : `${host}\0${pid}\0${worker}`;
    let l = this.lanes.get(key);
    if (l === undefined) {
      const label = host === undefined ? `worker ${worker}` : `${host} · pid ${pid} · worker ${worker}`;
      l = this.laneLabels.push(label) - 1;
      this.laneWorkers.push(worker);
      this.lanes.set(key, l);
    }
    return l;
  }

  private data(wallMs: number): TimelineData {
    // Lanes of remote workers in host, process and slot order; attempts refer to lanes by position.
    const order = [...this.lanes.entries()].sort(([a], [b]) => laneKeyCompare(a, b)).map(([, l]) => l);
    const position = new Array<number>(order.length);
    order.forEach((l, p) => (position[l] = p));
    const lane = this.a.lane.map((l) => position[l]!);
    let end = wallMs;
    for (let i = 0; i < this.a.start.length; i++) {
      if (this.a.dur[i]! < 0) this.a.dur[i] = Math.max(0, wallMs - this.a.start[i]!);
      end = Math.max(end, this.a.start[i]! + this.a.dur[i]!);
    }
    return {
      v: 1,
      wallMs,
      axisMs: Math.max(1, end),
      statuses: [...BAR_STATUSES],
      lanes: order.map((l) => this.laneLabels[l]!),
      laneWorkers: order.map((l) => this.laneWorkers[l]!),
      jobs: { id: this.jobIds, index: this.jobIndex },
      a: { ...this.a, lane },
      texts: this.texts,
      ...(this.widths.t.length ? { width: this.widths } : {}),
    };
  }

  private header(run: RunEnd): TimelineHeader {
    const busyMs = this.a.dur.reduce((sum, d) => sum + d, 0);
    // Queue mode: the capacity is the remote slots that took work; locally, the pool's size.
    const workers = this.opts.mode === 'queue' ? this.lanes.size : this.info.workers;
    const wallMs = run.summary.durationMs;
    return {
      command: commandLine(this.opts.argv),
      summary: summaryLine(run.summary, run.stop).replace(/^poolrun: /, ''),
      source: redactText(this.info.name),
      mode: this.opts.mode,
      workers,
      startedAt: this.info.startedAt,
      wallMs,
      busyMs,
      utilisation: workers > 0 && wallMs > 0 ? busyMs / (workers * wallMs) : 0,
      summaryCounts: run.summary,
      notStarted: this.notStarted,
      tailsDropped: this.tailsDropped,
    };
  }
}

/** What the tooltip says beside the exit status: why a job that has none ended (timeout, an exception). */
function noteFor(r: JobResult): string | undefined {
  const first = errorLine(r);
  if (first === undefined) return undefined;
  return r.error!.name === 'Error' || r.error!.name === 'TimeoutError' ? first : `${r.error!.name}: ${first}`;
}

// Escape sequences (colours, cursor moves) and C0 controls but tab and newline: job output is untrusted text.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Stderr as a terminal would have left it: colours dropped, a line rewritten with \r shows its last version. */
export function cleanText(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const plain = line.replace(ESCAPES, '').replace(/\r+$/, '');
      return plain.slice(plain.lastIndexOf('\r') + 1).replace(CONTROLS, '\ufffd');
    })
    .join('\n')
    .trimEnd();
}

function laneKeyCompare(a: string, b: string): number {
  const pa = a.split('\0');
  const pb = b.split('\0');
  if (pa.length !== pb.length) return pa.length - pb.length;
  // [host, pid, slot] or [slot]: the host by name, numbers by value.
  for (let k = 0; k < pa.length; k++) {
    const x = pa[k]!;
    const y = pb[k]!;
    if (x === y) continue;
    if (k === 0 && pa.length > 1) return x < y ? -1 : 1;
    return Number(x) - Number(y);
  }
  return 0;
}

/** The command line as a shell would take it; `--each CMD` with 100,000 arguments shows the first ones. */
function commandLine(argv: string[]): string {
  let line = 'poolrun';
  for (let k = 0; k < argv.length; k++) {
    const word = shellQuote(redactText(argv[k]!));
    if (line.length + word.length > COMMAND_CHARS) return `${line} … (${argv.length - k} more arguments)`;
    line += ` ${word}`;
  }
  return line;
}
