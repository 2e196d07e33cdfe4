/** UTF-8 validity at byte level: arguments and file names need not be UTF-8, and must not be silently changed. */
import { isUtf8 } from 'node:buffer';

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there does not start one. */
export function sequenceLength(buf: Uint8Array, i: number): number {
  const b0 = buf[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const b = buf[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    // No overlong forms (E0 A0..), no UTF-16 surrogates (ED 80..9F).
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Byte offset of the first byte that is not valid UTF-8, or -1. */
export function firstInvalidByte(buf: Uint8Array): number {
  if (isUtf8(buf)) return -1;
  for (let i = 0; i < buf.length;) {
    const n = sequenceLength(buf, i);
    if (n === 0) return i;
    i += n;
  }
  return -1;
}

/**
 * Splits bytes into alternating runs: valid UTF-8 text, and bytes that are not. Concatenating the runs' bytes
 * gives the input back exactly.
 */
export function utf8Runs(buf: Uint8Array): Array<{ text: string } | { bytes: Uint8Array }> {
  if (isUtf8(buf)) return [{ text: Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('utf8') }];
  const runs: Array<{ text: string } | { bytes: Uint8Array }> = [];
  let start = 0;
  let bad = false;
  const close = (end: number) => {
    if (end <= start) return;
    const part = buf.subarray(start, end);
    runs.push(bad ? { bytes: part } : { text: Buffer.from(part).toString('utf8') });
  };
  for (let i = 0; i < buf.length;) {
    const n = sequenceLength(buf, i);
    const isBad = n === 0;
    if (isBad !== bad) {
      close(i);
      start = i;
      bad = isBad;
    }
    i += isBad ? 1 : n;
  }
  close(buf.length);
  return runs;
}

/** A UTF-16 byte-order mark: some Windows tools write text files like this. */
export function isUtf16(bytes: Uint8Array): boolean {
  return (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
}

/**
 * Why bytes cannot be read as a job file's text, if they cannot: UTF-16 (looked for only at the start of a file)
 * or a byte that is not UTF-8, at byte offset `at`.
 */
export function encodingProblem(
  bytes: Uint8Array,
  atFileStart: boolean,
): { kind: 'utf16' | 'invalid'; at: number; message: string } | undefined {
  if (atFileStart && isUtf16(bytes))
    return { kind: 'utf16', at: 0, message: 'the file is UTF-16; save it as UTF-8' };
  const bad = firstInvalidByte(bytes);
  if (bad === -1) return undefined;
  const byte = bytes[bad]!.toString(16).padStart(2, '0');
  return {
    kind: 'invalid',
    at: bad,
    message: `not valid UTF-8 (byte 0x${byte}); job files are read as UTF-8`,
  };
}

/** The largest cut point ≤ `at` that does not split a UTF-8 sequence (or `at` when the bytes are not UTF-8). */
export function charBoundary(buf: Buffer, at: number): number {
  for (let i = at; i > at - 4 && i > 0; i--) {
    if ((buf[i]! & 0xc0) !== 0x80) return i;
  }
  return at;
}
