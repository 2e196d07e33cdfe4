/** Where input bytes come from: a regular file (read again from where it started), or a stream (read once). */
import { createReadStream, fstatSync, readFileSync, type Stats } from 'node:fs';
import { InputTooLarge } from '../util/limits.js';
import { shownPath } from '../util/argv.js';

export type ByteSource =
  | {
      kind: 'file';
      name: string;
      size: number;
      chunks: () => AsyncIterable<Buffer>;
      readAll: () => Promise<Buffer>;
    }
  | { kind: 'stream'; name: string; chunks: AsyncIterable<Buffer> };

const CHUNK = 256 * 1024;

export function fileSource(path: string | Buffer, st: Stats): ByteSource {
  return {
    kind: 'file',
    // Shown in messages and locations: a newline or an escape sequence in a file name is written as an escape.
    name: shownPath(path),
    size: st.size,
    chunks: () => createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>,
    // One synchronous read: a job file is read before anything else happens, and this is start-up time.
    readAll: () => Promise.resolve(readFileSync(path)),
  };
}

/**
 * stdin. Redirected from a regular file (`poolrun - < jobs.jsonl`) it is read like that file, from the
 * offset the shell left it at, so it can be checked whole before anything runs; a pipe is a stream.
 */
export function stdinSource(name = '<stdin>'): ByteSource {
  let st: Stats | undefined;
  try {
    st = fstatSync(0);
  } catch {
    st = undefined;
  }
  if (st?.isFile()) {
    const start = stdinOffset();
    const chunks = () =>
      createReadStream('', { fd: 0, start, autoClose: false, highWaterMark: CHUNK }) as AsyncIterable<Buffer>;
    return {
      kind: 'file',
      name,
      size: st.size - start,
      chunks,
      readAll: () => readAll(chunks()),
    };
  }
  return { kind: 'stream', name, chunks: process.stdin as AsyncIterable<Buffer> };
}

/** The read offset of fd 0 (Linux: /proc/self/fdinfo); 0 when it cannot be known. */
function stdinOffset(): number {
  try {
    const m = /^pos:\s*(\d+)/m.exec(readFileSync('/proc/self/fdinfo/0', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Reads a stream to its end; past `max` bytes it stops reading and throws InputTooLarge. */
export async function readAll(chunks: AsyncIterable<Buffer>, max = Infinity): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of chunks) {
    size += c.length;
    if (size > max) throw new InputTooLarge(max);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/**
 * Reads the start of a stream until `enough` (called with each chunk) says so, or the stream ends; returns
 * what was read, an iterable that yields it first and then the rest of the stream, and `close` for a caller
 * that wants no more of it (a file's read stream stays open until it is read to its end or closed).
 */
export async function peek(
  chunks: AsyncIterable<Buffer>,
  enough: (chunk: Buffer) => boolean,
): Promise<{ head: Buffer; ended: boolean; all: AsyncIterable<Buffer>; close: () => Promise<void> }> {
  const it = chunks[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let ended = false;
  for (;;) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    seen.push(r.value);
    if (enough(r.value)) break;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* seen;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const close = async () => {
    if (!ended) await it.return?.();
  };
  return { head: Buffer.concat(seen), ended, all: all(), close };
}
