/**
 * `--pipe`: stdin cut into blocks at record boundaries, each block the stdin of one job, as GNU parallel 20221122
 * cuts it (its spreadstdin): read up to the next multiple of --block; pass everything up to the LAST record
 * boundary (recend followed by recstart) in what was read, keep the rest for the next block; with -N, pass N
 * records at a time; when a whole read held no boundary, the block grows (×1.3 + 1, as GNU) until a record fits;
 * at end of input the rest is the last block. Empty blocks run nothing.
 *
 * Each block is written to a file of its own (mode 0600, in a private temp folder) and the job's command reads it
 * on stdin through a pipe (`/bin/cat FILE | { command }`: a pipe, as GNU gives it), so a retried job reads its
 * block again. The file is removed when its job has finished. Backpressure: a new block is read only while fewer
 * than 2 × workers blocks wait or run, so poolrun holds one block in memory and at most 2 × workers on disk,
 * however long stdin is.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempFolder } from '../util/temp-root.js';
import { UsageError } from '../errors.js';
import type { Job } from '../kinds/types.js';
import { streamedSource, type JobSource } from '../input/source.js';
import { quoteText } from '../input/quote.js';
import type { PipeOptions } from './options.js';
import { withValues } from '../input/values.js';
import { compileTemplate, expandArgs } from '../input/template/index.js';

const TWO_GB = 2 ** 31 - 1;

export interface BlockOptions {
  blockSize: number;
  records?: number;
  recstart: Buffer;
  recend: Buffer;
  /** -r: drop lines that are only white space before cutting (GNU's `s/^\s*\n//gm`). */
  dropBlankLines?: boolean;
  /** Told each time a record outgrew the block (GNU warns). */
  onGrow?: (from: number, to: number) => void;
}

/** Reads exactly: fills a buffer to a target length unless the input ends first. */
class ExactReader {
  private chunks: Buffer[] = [];
  private held = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /** Appends to `buf` until it is `target` long; `eof` when the input ended short of it. */
  async fill(buf: Buffer, target: number): Promise<{ buf: Buffer; eof: boolean }> {
    const need = target - buf.length;
    while (this.held < need && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length) {
        const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
        this.chunks.push(b);
        this.held += b.length;
      }
    }
    const all = Buffer.concat([buf, ...this.chunks]);
    const take = Math.min(target, all.length);
    const out = all.subarray(0, take);
    const rest = all.subarray(take);
    this.chunks = rest.length ? [Buffer.from(rest)] : [];
    this.held = rest.length;
    return { buf: Buffer.from(out), eof: out.length < target };
  }
}

function lastIndex(buf: Buffer, sep: Buffer): number {
  if (sep.length === 0) return buf.length;
  return buf.lastIndexOf(sep);
}

/** GNU's nindex: the position of the n-th separator, searching from 1 (a separator at 0 is not counted). */
function nthIndex(buf: Buffer, sep: Buffer, n: number): number {
  let i = 0;
  for (let k = 0; k < n; k++) {
    i = sep.length === 0 ? Math.min(i + 1, buf.length) : buf.indexOf(sep, i + 1);
    if (i === -1) break;
  }
  return i;
}

function dropBlank(buf: Buffer): Buffer {
  // Perl's \s on bytes: space, \t, \n, \v, \f, \r. Perl's /m `^` is after a \n only; JavaScript's is after a \r
  // too, which deleted the \n of every CRLF (a\r\nb\r\n became a\rb\r): a lookbehind for \n instead.
  const s = buf.toString('latin1').replace(/(?:^|(?<=\n))[ \t\n\v\f\r]*\n/g, '');
  return s.length === buf.length ? buf : Buffer.from(s, 'latin1');
}

/** The blocks of `input`, in order, exactly as GNU parallel --pipe cuts them. */
export async function* blocks(input: AsyncIterable<Buffer>, o: BlockOptions): AsyncGenerator<Buffer> {
  const reader = new ExactReader(input[Symbol.asyncIterator]());
  const sep = Buffer.concat([o.recend, o.recstart]);
  let blockSize = Math.max(1, Math.min(o.blockSize, TWO_GB));
  let buf: Buffer = Buffer.alloc(0);
  for (;;) {
    let anything = false;
    const read = await reader.fill(buf, buf.length + blockSize - (buf.length % blockSize));
    buf = read.buf;
    const eof = read.eof;
    if (o.dropBlankLines) {
      buf = dropBlank(buf);
      if (buf.length === 0) {
        if (eof) break;
        continue;
      }
    }
    if (o.records !== undefined) {
      for (let i = nthIndex(buf, sep, o.records); i !== -1 && buf.length; i = nthIndex(buf, sep, o.records)) {
        const end = i + o.recend.length;
        if (end === 0) break;
        yield buf.subarray(0, end);
        anything = true;
        buf = Buffer.from(buf.subarray(end));
      }
    } else if (!eof) {
      const i = lastIndex(buf, sep);
      if (i !== -1 && i + o.recend.length > 0) {
        const end = i + o.recend.length;
        yield buf.subarray(0, end);
        anything = true;
        buf = Buffer.from(buf.subarray(end));
      }
    }
    if (eof) break;
    if (!anything && blockSize < TWO_GB) {
      const grown = Math.min(Math.ceil(blockSize * 1.3 + 1), TWO_GB);
      o.onGrow?.(blockSize, grown);
      blockSize = grown;
    }
  }
  if (buf.length) yield buf;
}

export interface PipeSourceOptions {
  pipe: PipeOptions;
  workers: number;
  warn: (message: string) => void;
  input?: AsyncIterable<Buffer>;
  /** --dry-run: each job is the command alone (no block file is written), as GNU's --dry-run prints it. */
  dryRun?: boolean;
}

/**
 * The command for block `seq` (1-based), expanded as GNU parallel's --pipe does: `{#}` the job number, `{%}` the
 * worker slot, `{}` `{1}` `{-1}` and their forms one empty argument (`''`; `{//}` is `.`). A command without a
 * replacement string is run as it is: nothing is appended.
 */
export function pipeCommand(command: string): (seq: number) => string {
  const t = compileTemplate(command, { label: '--pipe' });
  if (t.appends) return () => command;
  return (seq) => expandArgs(t, [EMPTY], seq);
}

const EMPTY = Buffer.alloc(0);

/**
 * --header :: takes the input's first line (through its newline) off and hands it to `onHeader`; the rest is the
 * data. An input with no newline has no header, as with GNU parallel: it is all data.
 */
export async function* splitHeader(
  input: AsyncIterable<Buffer>,
  onHeader: (header: Buffer) => void,
): AsyncGenerator<Buffer> {
  const head: Buffer[] = [];
  let found = false;
  for await (const chunk of input) {
    if (found) {
      yield chunk;
      continue;
    }
    const i = chunk.indexOf(10);
    if (i === -1) {
      head.push(chunk);
      continue;
    }
    head.push(chunk.subarray(0, i + 1));
    onHeader(Buffer.concat(head));
    found = true;
    if (i + 1 < chunk.length) yield chunk.subarray(i + 1);
  }
  if (!found && head.length) yield Buffer.concat(head);
}

/** The --pipe job source: one shell job per block; `finished` releases a block (its file, and a place ahead). */
export function pipeSource(opts: PipeSourceOptions): JobSource {
  if (!opts.input && process.stdin.isTTY)
    throw new UsageError('--pipe reads the blocks from stdin, which is a terminal: pipe the input in');
  const dir = tempFolder('pipe-');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', remove);
  const ahead = Math.max(2, opts.workers * 2);
  const open = new Set<number>();
  let wake: (() => void) | undefined;
  let warned = false;
  const input = opts.input ?? (process.stdin as AsyncIterable<Buffer>);
  let header: Buffer | undefined;
  // Checked before anything is read: a bad command is exit 2 at once.
  const command = pipeCommand(opts.pipe.command);

  async function* gen(): AsyncGenerator<Job[]> {
    let n = 0;
    try {
      const it = blocks(opts.pipe.header ? splitHeader(input, (h) => (header = h)) : input, {
        blockSize: opts.pipe.blockSize,
        ...(opts.pipe.records !== undefined ? { records: opts.pipe.records } : {}),
        recstart: opts.pipe.recstart,
        recend: opts.pipe.recend,
        dropBlankLines: opts.pipe.dropBlankLines,
        onGrow: (from, to) => {
          if (warned) return;
          warned = true;
          opts.warn(
            `warning: --pipe: a record was longer than the block (${from} bytes): the block grows to hold it (${to}, …)`,
          );
        },
      });
      for await (const block of it) {
        while (open.size >= ahead) await new Promise<void>((resolve) => (wake = resolve));
        const index = n++;
        const file = join(dir, String(index + 1));
        if (!opts.dryRun) {
          writeFileSync(file, header ? Buffer.concat([header, block]) : block, { mode: 0o600 });
          open.add(index);
        }
        const job: Job = {
          id: String(index + 1),
          index,
          kind: 'run',
          // Through a pipe, as GNU gives it: `wc` pads as on a pipe, `head -n1; wc -l` sees what a pipe leaves.
          // An empty line before `}`: a command ending in a backslash continues onto it, not onto the `}`.
          run: opts.dryRun
            ? command(index + 1)
            : `/bin/cat -- ${quoteText(file)} | {\n${command(index + 1)}\n\n}`,
        };
        // The joblog and --resume know it as its command, as GNU parallel does, not by its temp file.
        if (!opts.dryRun) job.shown = command(index + 1);
        yield [withValues(job, [])];
      }
    } finally {
      if (open.size === 0) {
        remove();
        process.off('exit', remove);
      }
    }
  }
  const source = streamedSource('<stdin>', gen());
  source.finished = (job: Job) => {
    if (!open.delete(job.index)) return;
    rmSync(join(dir, String(job.index + 1)), { force: true });
    const w = wake;
    wake = undefined;
    w?.();
  };
  return source;
}
