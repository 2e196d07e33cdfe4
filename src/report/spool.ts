/**
 * Records of finished jobs (one JSON result, one JUnit testcase), kept on disk instead of in memory: each is
 * appended to a temp file as it comes, in completion order, and only its offset is remembered; at the end they
 * are copied out in input order. A million-job run costs ~12 bytes of memory per job, not a whole result.
 */
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempFolder } from '../util/temp-root.js';
import type { Sink } from './sink.js';
import { writeAll, writeFileAtomicWith } from '../util/atomic.js';

const BUFFER = 64 * 1024;
const PIECE = 1024 * 1024;

export class OrderedSpool {
  private dir: string | undefined;
  private fd: number | undefined;
  private buf = Buffer.allocUnsafe(BUFFER);
  private used = 0;
  private size = 0;
  private records = 0;
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private readonly cleanup = () => this.dispose();

  /** `sep` goes between records when they are written out (stored before each, skipped before the first). */
  constructor(private readonly sep: string) {}

  /** How many records are held. */
  get count(): number {
    return this.records;
  }

  add(index: number, record: string): void {
    if (this.fd === undefined) {
      this.dir = tempFolder('spool-');
      this.fd = openSync(join(this.dir, 'records'), 'w+', 0o600);
      process.once('exit', this.cleanup);
    }
    if (index >= this.offsets.length) this.grow(index + 1);
    const data = Buffer.from(this.sep + record);
    if (this.lengths[index] === 0) this.records++;
    this.offsets[index] = this.size;
    this.lengths[index] = data.length;
    this.size += data.length;
    if (this.used + data.length > this.buf.length) this.flushBuffer();
    if (data.length > this.buf.length) writeAll(this.fd, data);
    else this.used += data.copy(this.buf, this.used);
  }

  /** Writes head, the records in index order, and tail to `write`, waiting whenever it asks to. */
  async copyTo(
    write: (b: Buffer) => boolean | Promise<void>,
    wait: () => Promise<void>,
    head: string,
    tail: string,
  ): Promise<void> {
    const put = async (b: Buffer) => {
      const r = write(b);
      if (r === false) await wait();
      else if (r instanceof Promise) await r;
    };
    await put(Buffer.from(head));
    if (this.fd !== undefined) {
      this.flushBuffer();
      let skip = Buffer.byteLength(this.sep);
      let runStart = -1;
      let runEnd = -1;
      const emit = async () => {
        for (let pos = runStart; pos < runEnd;) {
          const want = Math.min(PIECE, runEnd - pos);
          const piece = Buffer.allocUnsafe(want);
          const n = readSync(this.fd!, piece, 0, want, pos);
          if (n <= 0) break;
          pos += n;
          const from = Math.min(skip, n);
          skip -= from;
          if (from < n) await put(piece.subarray(from, n));
        }
      };
      for (let i = 0; i < this.offsets.length; i++) {
        const len = this.lengths[i]!;
        if (len === 0) continue;
        const off = this.offsets[i]!;
        if (off === runEnd) {
          runEnd += len;
          continue;
        }
        if (runStart !== -1) await emit();
        runStart = off;
        runEnd = off + len;
      }
      if (runStart !== -1) await emit();
    }
    await put(Buffer.from(tail));
  }

  /** Writes the whole document to `file` atomically (temp file in the same folder, fsync, rename). */
  writeFile(file: string, head: string, tail: string): Promise<void> {
    return writeFileAtomicWith(file, (write) =>
      this.copyTo(
        (b) => {
          write(b);
          return true;
        },
        () => Promise.resolve(),
        head,
        tail,
      ),
    );
  }

  /** Writes the whole document to stdout, at the pace stdout takes it. */
  async writeStdout(sink: Sink, head: string, tail: string): Promise<void> {
    await this.copyTo(
      (b) => sink.stdout(b),
      () => sink.drained(),
      head,
      tail,
    );
  }

  dispose(): void {
    process.off('exit', this.cleanup);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private flushBuffer(): void {
    if (this.used && this.fd !== undefined) writeAll(this.fd, this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private grow(min: number): void {
    let n = this.offsets.length;
    while (n < min) n *= 2;
    const o = new Float64Array(n);
    o.set(this.offsets);
    const l = new Uint32Array(n);
    l.set(this.lengths);
    this.offsets = o;
    this.lengths = l;
  }
}
