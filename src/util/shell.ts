import { isUtf8 } from 'node:buffer';
import { UNSHOWABLE } from './text.js';
import { sequenceLength } from './utf8.js';

/** Quotes a string for /bin/sh: safe words stay bare, anything else goes in single quotes. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return singleQuote(s);
}

/** Always in single quotes, `'` itself as `'\''`: nothing inside is special to sh. */
export function singleQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A command-line word as the user passed it (bytes, which need not be UTF-8), quoted for a shell and shown on
 * one line: a word of UTF-8 without control characters as shellQuote quotes it; any other in `$'…'` (bash, zsh,
 * ksh, busybox sh; POSIX.1-2024) with each such byte as `\xHH`, so that typing it back passes the same bytes.
 */
export function shellWord(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buf) && !UNSHOWABLE.test(buf.toString('utf8'))) return shellQuote(buf.toString('utf8'));
  let out = "$'";
  for (let i = 0; i < buf.length;) {
    const b = buf[i]!;
    const n = sequenceLength(buf, i);
    const ch = n > 0 ? buf.toString('utf8', i, i + n) : '';
    if (n === 0 || b < 0x20 || b === 0x7f || UNSHOWABLE.test(ch)) {
      for (let k = 0; k < Math.max(n, 1); k++) out += `\\x${buf[i + k]!.toString(16).padStart(2, '0')}`;
    } else if (ch === '\\' || ch === "'") out += `\\${ch}`;
    else out += ch;
    i += Math.max(n, 1);
  }
  return `${out}'`;
}
