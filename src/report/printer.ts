/**
 * Prints jobs' output on stdout/stderr: whole per job (`group`) in input or completion order, line by line
 * with an `[id] ` prefix (`stream`), or not at all. Output that spilled to a file is copied from it in
 * pieces, each written only once the previous one has left the process, so a job that printed gigabytes is
 * printed whole without being held in memory, however slowly stdout is read.
 */
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import type { ChalkInstance } from 'chalk';
import type { JobOutput } from '../executor/executor.js';
import type { Job, JobResult } from '../kinds/types.js';
import type { Order, OutputMode } from './options.js';
import { Deque } from '../util/deque.js';
import { jobColor } from './color.js';
import { stringify } from '../util/json.js';
import { errorAnnotation, GROUP_END, groupStart } from './github.js';
import { LineSplitter } from './lines.js';
import type { Sink } from './sink.js';
import { KINDS } from '../kinds/index.js';
import { redactId } from '../util/redact.js';
import { printable } from '../util/text.js';

export interface PrinterOptions {
  order: Order;
  output: OutputMode;
  /**
   * --call: stdout carries one JSON line per job (its return value); what the functions printed goes to stderr.
   * false when stdout carries something else (NDJSON events, `--json -`, `--junit -`): the values are in that.
   */
  values: boolean;
  /** GitHub Actions: fold each job's grouped output in ::group::/::endgroup::, annotate failures. */
  github?: boolean;
  /** Where failure annotations go: stderr when stdout carries data (--call values, NDJSON events). */
  annotations?: 'stdout' | 'stderr';
  /** Colours for the `[id] ` prefixes of `--output stream`, per stream (level 0: none). */
  colors?: { stdout: ChalkInstance; stderr: ChalkInstance };
  /** Called each time a finished job's output has been printed (the submitter waits on the backlog). */
  onPrinted?: (result: JobResult) => void;
  /** `--output stream`: the prefix of a job's lines instead of `[id] ` (GNU's --line-buffer, --tag). */
  linePrefix?: (job: { id: string; index: number }) => Buffer;
  /**
   * `--output stream` in input order (GNU's `-k --line-buffer`): the oldest unfinished job's lines are printed as
   * they come; a later job's are held (in memory) until every job before it has finished.
   */
  ordered?: boolean;
  /**
   * GNU parallel's form: a job killed while it ran (`--halt now`, a signal: `cancelled` after it started) prints
   * nothing, as GNU discards what the jobs it kills printed (it is still in --json); in input order, neither does
   * any job after it, as `parallel -k` never prints what it held behind a killed job.
   */
  dropKilled?: boolean;
  /**
   * stdout is a terminal: each job's output ends its last line (a newline added where it has none), so that the
   * next job's output, a status line or the live area starts on a line of its own. A pipe or a file gets the bytes.
   */
  endLines?: boolean;
}

interface Held {
  result: JobResult;
  output: JobOutput | undefined;
}

const PIECE = 1024 * 1024;
const NL = Buffer.from('\n');

export class OutputPrinter {
  private next = 0;
  /** GNU's form, input order: a killed job was dropped, and so is every job after it (dropKilled). */
  private droppingRest = false;
  private readonly held = new Map<number, Held>();
  private readonly queue = new Deque<Held>();
  private readonly lines = new LineSplitter();
  private busy = false;
  private idleWaiters: Array<() => void> = [];
  private piece: Buffer | undefined;
  private stdoutAtLineStart = true;
  private stderrAtLineStart = true;
  /** `ordered`: the lines of jobs after the oldest unfinished one, by index, in the order they came. */
  private readonly waiting = new Map<
    number,
    { job: { id: string; index: number }; lines: Array<{ stream: 'stdout' | 'stderr'; pieces: Buffer[] }> }
  >();

  constructor(
    private readonly opts: PrinterOptions,
    private readonly sink: Sink,
  ) {}

  /** Finished jobs whose output is not printed yet (waiting for an earlier job, or for stdout). */
  get backlog(): number {
    return this.held.size + this.queue.length;
  }

  /** `--output stream`: whole lines as they come, each prefixed with the job id. */
  output(job: Job, stream: 'stdout' | 'stderr', data: Buffer): void {
    if (this.opts.output !== 'stream') return;
    const pieces = this.lines.push(`${job.index}\0${stream}`, data);
    if (!pieces.length) return;
    if (this.opts.ordered && job.index !== this.next) {
      const w = this.waiting.get(job.index);
      if (w) w.lines.push({ stream, pieces });
      else
        this.waiting.set(job.index, { job: { id: job.id, index: job.index }, lines: [{ stream, pieces }] });
    } else this.writeLines(job, stream, pieces);
  }

  /** `ordered`: the lines job `index` printed while an earlier job ran (stream mode never waits to print). */
  private writeWaiting(index: number): void {
    const w = this.waiting.get(index);
    if (!w) return;
    this.waiting.delete(index);
    for (const { stream, pieces } of w.lines) this.writeLines(w.job, stream, pieces);
  }

  finished(result: JobResult, output: JobOutput | undefined): void {
    if (this.opts.order === 'completion') {
      this.enqueue({ result, output });
      return;
    }
    // --output stream prints lines as they come; a last line without its newline when its job ends, not at the
    // job's turn in input order (which is for what has to wait: -k's held lines, a call's value).
    if (this.opts.output === 'stream' && !this.opts.ordered) {
      this.flushPartial(result, 'stdout');
      this.flushPartial(result, 'stderr');
    }
    this.held.set(result.index, { result, output });
    for (let h = this.held.get(this.next); h; h = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.next++;
      this.enqueue(h);
    }
    // The oldest unfinished job is printed live from now on: first what it printed so far.
    if (this.opts.ordered) this.writeWaiting(this.next);
  }

  /** Prints whatever is still held (the run ended before an earlier job did), in order, and waits for it all. */
  async flush(): Promise<void> {
    for (const index of [...this.held.keys()].sort((a, b) => a - b)) {
      this.enqueue(this.held.get(index)!);
      this.held.delete(index);
    }
    if (this.busy || this.queue.length) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.sink.drained();
  }

  /**
   * Waits for what is already being printed and cleans up, without printing jobs still held for an earlier one
   * (a run stopped by --deadline prints nothing more).
   */
  async settle(): Promise<void> {
    if (this.busy || this.queue.length) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.sink.drained();
    for (const h of this.held.values()) {
      for (const f of [h.output?.stdoutFile, h.output?.stderrFile]) if (f) rmSync(f, { force: true });
    }
    this.held.clear();
    this.waiting.clear();
  }

  private enqueue(h: Held): void {
    this.queue.push(h);
    if (!this.busy) this.pump();
  }

  /**
   * Prints what is queued, in order, synchronously while nothing has to wait: most jobs print in one go, and a
   * million of them should not cost a million promises. A print that waits (a full pipe, a spill file) carries
   * on once it is done.
   */
  private pump(): void {
    this.busy = true;
    for (let h = this.queue.shift(); h; h = this.queue.shift()) {
      let printing: Promise<void> | undefined;
      try {
        printing = this.print(h.result, h.output);
      } catch (e) {
        this.printFailed(h, e);
      }
      if (printing) {
        void this.resumeAfter(printing, h);
        return;
      }
      this.opts.onPrinted?.(h.result);
    }
    this.busy = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async resumeAfter(printing: Promise<void>, h: Held): Promise<void> {
    try {
      await printing;
    } catch (e) {
      this.printFailed(h, e);
    }
    this.opts.onPrinted?.(h.result);
    this.pump();
  }

  private printFailed(h: Held, e: unknown): void {
    this.sink.stderr(
      `poolrun: could not print the output of ${printable(redactId(h.result.id))}: ${(e as Error).message}\n`,
    );
  }

  /** Prints one finished job; returns a promise only when it has to wait. */
  private print(result: JobResult, output: JobOutput | undefined): Promise<void> | undefined {
    const o = this.opts;
    const killed = result.status === 'cancelled' && result.startedAt !== null;
    if (o.dropKilled && o.output === 'group' && (killed || this.droppingRest)) {
      this.droppingRest ||= o.order === 'input';
      for (const f of [output?.stdoutFile, output?.stderrFile]) if (f) rmSync(f, { force: true });
      return undefined;
    }
    const group = o.output === 'group' && o.github === true && !o.values && hasOutput(result, output);
    if (group) this.out(groupStart(result.id));
    let body: Promise<void> | undefined;
    try {
      body = this.printBody(result, output);
    } catch (e) {
      this.endPrint(result, group, false);
      throw e;
    }
    if (!body) {
      this.endPrint(result, group, true);
      return undefined;
    }
    return body.then(
      () => this.endPrint(result, group, true),
      (e: unknown) => {
        this.endPrint(result, group, false);
        throw e;
      },
    );
  }

  /** Closes the job's GitHub group; after a job printed whole, its failure annotation. */
  private endPrint(result: JobResult, group: boolean, printed: boolean): void {
    if (this.opts.endLines) {
      if (!this.stdoutAtLineStart) this.out('\n');
      if (!this.stderrAtLineStart) this.err('\n');
    }
    if (group) {
      if (!this.stdoutAtLineStart) this.out('\n');
      this.out(GROUP_END);
    }
    const note = printed && this.opts.github ? errorAnnotation(result) : undefined;
    if (note) {
      if ((this.opts.annotations ?? 'stdout') === 'stdout') {
        if (!this.stdoutAtLineStart) this.out('\n');
        this.out(note);
      } else this.sink.stderr(note);
    }
  }

  private printBody(result: JobResult, output: JobOutput | undefined): Promise<void> | undefined {
    const o = this.opts;
    if (o.output === 'stream') {
      this.writeWaiting(result.index);
      this.flushPartial(result, 'stdout');
      this.flushPartial(result, 'stderr');
    } else if (o.output === 'group' && output) {
      const stdoutTo = o.values ? 'stderr' : 'stdout';
      const first = this.copy(output.stdout, output.stdoutFile, stdoutTo);
      if (first) {
        return first
          .then(() => this.copy(output.stderr, output.stderrFile, 'stderr'))
          .then(() => this.printValue(result));
      }
      const second = this.copy(output.stderr, output.stderrFile, 'stderr');
      if (second) return second.then(() => this.printValue(result));
    } else if (output) {
      for (const f of [output.stdoutFile, output.stderrFile]) if (f) rmSync(f, { force: true });
    }
    this.printValue(result);
    return undefined;
  }

  /**
   * A call's return value: the data of --call, or part of what a call job in a job file printed. With --call every
   * job has its line, so line N is job N's: its value, or `null` when it returned nothing or did not succeed (threw,
   * timed out, was cancelled or not run); the results (--json) say which.
   */
  private printValue(result: JobResult): void {
    const o = this.opts;
    if (o.values) {
      this.out(`${stringify(result.status === 'succeeded' ? (result.value ?? null) : null)}\n`);
    } else if (
      o.output !== 'none' &&
      KINDS[result.kind].returnsValue &&
      result.status === 'succeeded' &&
      result.value !== null
    ) {
      // A call job in a job file: its return value is part of what it printed, after its own output (with
      // --output stream, a line of it, with its prefix).
      const line = `${stringify(result.value)}\n`;
      if (o.output === 'stream') this.writeLines(result, 'stdout', [Buffer.from(line)]);
      else this.out(line);
    }
  }

  private out(data: Buffer | string): boolean {
    if (data.length) this.stdoutAtLineStart = lastByte(data) === 0x0a;
    return this.sink.stdout(data);
  }

  /** A job's stderr, as `out` is its stdout. */
  private err(data: Buffer | string): boolean {
    if (data.length) this.stderrAtLineStart = lastByte(data) === 0x0a;
    return this.sink.stderr(data);
  }

  /** Prints one stream of a job; returns a promise only when it has to wait (a full pipe, a spill file). */
  private copy(head: Buffer, file: string | undefined, to: 'stdout' | 'stderr'): Promise<void> | undefined {
    if (file) return this.copyFile(file, to);
    if (!head.length) return undefined;
    const written = to === 'stdout' ? this.out(head) : this.err(head);
    return written ? undefined : this.sink.drained();
  }

  private async copyFile(file: string, to: 'stdout' | 'stderr'): Promise<void> {
    const write = (b: Buffer) => (to === 'stdout' ? this.out(b) : this.err(b));
    const fd = openSync(file, 'r');
    try {
      // One buffer for the whole copy, reused once the previous piece has left the process: fresh pieces
      // would be garbage that V8 collects late (tens of MB of ArrayBuffers before a GC).
      this.piece ??= Buffer.allocUnsafeSlow(PIECE);
      for (;;) {
        const n = readSync(fd, this.piece, 0, PIECE, null);
        if (n <= 0) break;
        write(this.piece.subarray(0, n));
        await this.sink.drained();
      }
    } finally {
      closeSync(fd);
      rmSync(file, { force: true });
    }
  }

  private flushPartial(result: JobResult, stream: 'stdout' | 'stderr'): void {
    const rest = this.lines.rest(`${result.index}\0${stream}`);
    if (rest) this.writeLines(result, stream, [rest], true);
  }

  /** Each piece gets the prefix and ends with a newline (a piece cut from an over-long line gets one too). */
  private writeLines(
    job: { id: string; index: number },
    stream: 'stdout' | 'stderr',
    pieces: Buffer[],
    last = false,
  ): void {
    const toStdout = stream === 'stdout' && !this.opts.values;
    const color = this.opts.colors?.[toStdout ? 'stdout' : 'stderr'];
    // The id as the status lines show it: masked, and one line that cannot drive the terminal.
    const id = printable(redactId(job.id));
    const prefix = this.opts.linePrefix
      ? this.opts.linePrefix(job)
      : Buffer.from(color ? jobColor(color, job.index)(`[${id}]`) + ' ' : `[${id}] `);
    const parts: Buffer[] = [];
    for (const p of pieces) {
      parts.push(prefix, p);
      // A job's last line without a newline stays without one under GNU's --line-buffer/--tag prefixes, as GNU prints it.
      if (p[p.length - 1] !== 0x0a && !(last && this.opts.linePrefix)) parts.push(NL);
    }
    const out = Buffer.concat(parts);
    if (toStdout) this.out(out);
    else this.sink.stderr(out);
  }
}

function hasOutput(r: JobResult, o: JobOutput | undefined): boolean {
  if (KINDS[r.kind].returnsValue && r.value !== null) return true;
  return !!o && (o.stdout.length > 0 || o.stderr.length > 0 || !!o.stdoutFile || !!o.stderrFile);
}

function lastByte(d: Buffer | string): number {
  return typeof d === 'string' ? d.charCodeAt(d.length - 1) : d[d.length - 1]!;
}
