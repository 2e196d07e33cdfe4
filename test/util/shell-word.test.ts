/**
 * shellWord: a command-line word shown on one line (the rerun hint) that, typed back into bash, passes the same
 * bytes. bash itself is the oracle: every generated word is printed by one bash and compared byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { shellWord } from '../../src/util/shell.js';

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'Z',
  '9',
  ' ',
  "'",
  '"',
  '\\',
  '$',
  '`',
  '!',
  '*',
  '?',
  '~',
  '#',
  ';',
  '|',
  '&',
  '(',
  ')',
  '{}',
  '%',
  '-rf',
  '--x=y',
  '\n',
  '\t',
  '\r',
  '\x1b[2J',
  '\x7f',
  '\u0085',
  '\u202e',
  '\u2028',
  'é',
  '日本',
  '😀',
].map((s) => Buffer.from(s));

function word(r: () => number): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    if (r() < 0.25) {
      // A raw byte, often one that is not UTF-8 on its own (0x80-0xff); never NUL (argv cannot hold it).
      parts.push(Buffer.from([1 + Math.floor(r() * 255)]));
    } else parts.push(PIECES[Math.floor(r() * PIECES.length)]!);
  }
  return Buffer.concat(parts);
}

describe('shellWord', () => {
  it('600 generated words: one line, no control character, and bash gives back the same bytes', () => {
    const r = rng(7);
    const words = Array.from({ length: 600 }, () => word(r));
    words.push(Buffer.from('plain'), Buffer.from(''), Buffer.from('caf\xe9', 'latin1'), Buffer.from("'"));
    const shown = words.map(shellWord);
    for (const s of shown)
      // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
      expect(s).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    const script = shown.map((s) => `printf '%s\\0' ${s}`).join('\n');
    const out = execFileSync('bash', ['-c', script]);
    const got: Buffer[] = [];
    for (let at = 0; at < out.length;) {
      const end = out.indexOf(0, at);
      got.push(out.subarray(at, end));
      at = end + 1;
    }
    expect(got).toHaveLength(words.length);
    words.forEach((w, k) =>
      expect({ k, word: got[k]!.toString('hex') }).toEqual({ k, word: w.toString('hex') }),
    );
  });

  it("a plain word stays as shellQuote writes it; other words in $'…'", () => {
    expect(shellWord(Buffer.from('--joblog'))).toBe('--joblog');
    expect(shellWord(Buffer.from('a b'))).toBe("'a b'");
    expect(shellWord(Buffer.from('caf\xe9', 'latin1'))).toBe("$'caf\\xe9'");
    expect(shellWord(Buffer.from("it's\n"))).toBe("$'it\\'s\\x0a'");
  });
});
