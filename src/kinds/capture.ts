import { closeSync, openSync } from 'node:fs';
import { writeAll } from '../util/atomic.js';
import { mkdirsSync } from '../util/mkdirs.js';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CaptureOptions } from './outcome.js';

const NOTHING = Buffer.alloc(0);

export interface Captured {
  /** At most `limit` bytes: the start of the output. */
  data: Buffer;
  truncated: boolean;
  /** Everything, when the output outgrew the limit and spilling was asked for. */
  file?: string;
}

/**
 * Holds one output stream of one job in bounded memory. Past the limit the bytes go to a file (for grouped
 * printing) or are dropped (when only the result needs them); the in-memory head is what results carry.
 */
export class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  private fd: number | undefined;
  private file: string | undefined;
  private truncated = false;

  constructor(
    private readonly opts: CaptureOptions,
    private readonly name: string,
  ) {}

  push(buf: Buffer): void {
    collectEvery(buf.length);
    if (!this.opts.keep) return;
    if (this.fd !== undefined) {
      writeAll(this.fd, buf);
      return;
    }
    if (this.size + buf.length <= this.opts.limit) {
      this.chunks.push(buf);
      this.size += buf.length;
      return;
    }
    this.truncated = true;
    if (this.opts.spill) {
      mkdirsSync(this.opts.spillDir);
      this.file = join(this.opts.spillDir, this.name);
      this.fd = openSync(this.file, 'wx', 0o600);
      for (const c of this.chunks) writeAll(this.fd, c);
      writeAll(this.fd, buf);
    }
    const room = this.opts.limit - this.size;
    if (room > 0) {
      this.chunks.push(buf.subarray(0, room));
      this.size += room;
    }
  }

  finish(): Captured {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    // An exact-size buffer of its own: structured clone copies a view's whole backing store, which for a
    // pooled or sliced chunk is far larger than the view. Nothing printed (the common case) allocates nothing.
    const data = this.size === 0 ? NOTHING : Buffer.allocUnsafeSlow(this.size);
    let off = 0;
    for (const c of this.chunks) off += c.copy(data, off);
    this.chunks = [];
    const out: Captured = { data, truncated: this.truncated };
    if (this.file) out.file = this.file;
    return out;
  }
}

/**
 * Every chunk read from a job's pipe is a fresh 64 KiB ArrayBuffer. V8 collects them only once tens of MB of
 * them are garbage, so a job printing hundreds of MB grew the worker's RSS by ~40 MB however little was kept.
 * A young-generation collection every 4 MiB read (well under a millisecond each) keeps that flat.
 */
const COLLECT_EVERY = 4 * 1024 * 1024;
let readSinceCollect = 0;
let collect: ((opts: { type: 'minor' }) => void) | null | undefined;

function collectEvery(bytes: number): void {
  readSinceCollect += bytes;
  if (readSinceCollect < COLLECT_EVERY) return;
  readSinceCollect = 0;
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as (opts: { type: 'minor' }) => void;
    } catch {
      collect = null;
    }
  }
  collect?.({ type: 'minor' });
}
