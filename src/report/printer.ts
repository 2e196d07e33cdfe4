/**
 * Prints jobs' output on stdout/stderr: whole per job (`group`) in input or completion order, line by line
 * with an `[id] ` prefix (`stream`), or not at all. Output that spilled to a file is copied from it in
 * pieces, so a job that printed gigabytes is printed whole without being held in memory.
 */
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import type { JobOutput } from '../executor/executor.js';
import type { Job, JobResult } from '../jobs/types.js';
import type { Order, OutputMode } from '../cli/options.js';

export interface Sink {
  stdout(data: Buffer | string): void;
  stderr(data: Buffer | string): void;
}

export interface PrinterOptions {
  order: Order;
  output: OutputMode;
  /** --call: stdout carries each return value as a JSON line; what the functions printed goes to stderr. */
  values: boolean;
}

interface Held {
  result: JobResult;
  output: JobOutput | undefined;
}

const NL = Buffer.from('\n');

export class OutputPrinter {
  private next = 0;
  private readonly held = new Map<number, Held>();
  private readonly partial = new Map<string, Buffer>();

  constructor(
    private readonly opts: PrinterOptions,
    private readonly sink: Sink,
  ) {}

  /** Jobs whose output waits for an earlier job (input order). */
  get waiting(): number {
    return this.held.size;
  }

  /** `--output stream`: whole lines as they come, each prefixed with the job id. */
  output(job: Job, stream: 'stdout' | 'stderr', data: Buffer): void {
    if (this.opts.output !== 'stream') return;
    const key = `${job.index}\0${stream}`;
    const prev = this.partial.get(key);
    const buf = prev ? Buffer.concat([prev, data]) : data;
    const last = buf.lastIndexOf(0x0a);
    if (last === -1) {
      this.partial.set(key, buf);
      return;
    }
    this.partial.delete(key);
    if (last < buf.length - 1) this.partial.set(key, buf.subarray(last + 1));
    this.writeLines(job, stream, buf.subarray(0, last + 1));
  }

  finished(result: JobResult, output: JobOutput | undefined): void {
    if (this.opts.order === 'completion') {
      this.print(result, output);
      return;
    }
    this.held.set(result.index, { result, output });
    for (let h = this.held.get(this.next); h; h = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.next++;
      this.print(h.result, h.output);
    }
  }

  /** Prints whatever is still held (the run ended before an earlier job did), in order. */
  flush(): void {
    for (const index of [...this.held.keys()].sort((a, b) => a - b)) {
      const h = this.held.get(index)!;
      this.held.delete(index);
      this.print(h.result, h.output);
    }
  }

  private print(result: JobResult, output: JobOutput | undefined): void {
    if (this.opts.output === 'stream') {
      this.flushPartial(result, 'stdout');
      this.flushPartial(result, 'stderr');
    } else if (this.opts.output === 'group' && output) {
      const toStderr = this.opts.values;
      this.copy(output.stdout, output.stdoutFile, toStderr ? 'stderr' : 'stdout');
      this.copy(output.stderr, output.stderrFile, 'stderr');
    } else if (output) {
      for (const f of [output.stdoutFile, output.stderrFile]) if (f) rmSync(f, { force: true });
    }
    if (this.opts.values && result.status === 'succeeded') {
      this.sink.stdout(`${JSON.stringify(result.value ?? null)}\n`);
    } else if (this.opts.output !== 'none' && result.kind === 'call' && result.value !== null) {
      // A call job in a job file: its return value is part of what it printed, after its own output.
      this.sink.stdout(`${JSON.stringify(result.value)}\n`);
    }
  }

  private copy(head: Buffer, file: string | undefined, to: 'stdout' | 'stderr'): void {
    const write = (b: Buffer) => (to === 'stdout' ? this.sink.stdout(b) : this.sink.stderr(b));
    if (!file) {
      if (head.length) write(head);
      return;
    }
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(1024 * 1024);
      for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) write(Buffer.from(buf.subarray(0, n)));
    } finally {
      closeSync(fd);
      rmSync(file, { force: true });
    }
  }

  private flushPartial(result: JobResult, stream: 'stdout' | 'stderr'): void {
    const key = `${result.index}\0${stream}`;
    const rest = this.partial.get(key);
    if (!rest) return;
    this.partial.delete(key);
    this.writeLines({ id: result.id }, stream, Buffer.concat([rest, NL]));
  }

  private writeLines(job: { id: string }, stream: 'stdout' | 'stderr', lines: Buffer): void {
    const prefix = Buffer.from(`[${job.id}] `);
    const parts: Buffer[] = [];
    let start = 0;
    for (let nl = lines.indexOf(0x0a, start); nl !== -1; nl = lines.indexOf(0x0a, start)) {
      parts.push(prefix, lines.subarray(start, nl + 1));
      start = nl + 1;
    }
    const out = Buffer.concat(parts);
    if (stream === 'stdout' && !this.opts.values) this.sink.stdout(out);
    else this.sink.stderr(out);
  }
}
