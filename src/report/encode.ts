/**
 * Job output in JSON (the --json document, NDJSON events): text when the bytes are UTF-8, otherwise base64
 * with an `…Encoding: "base64"` field beside it, so a job printing binary never breaks a JSON line and the
 * bytes can be recovered exactly.
 */
import { isUtf8 } from 'node:buffer';
import type { JobOutput } from '../executor/executor.js';
import type { JobResult } from '../kinds/types.js';

export interface EncodedText {
  data: string;
  encoding?: 'base64';
}

/** Bytes as text when they are valid UTF-8. */
export function encodeBytes(buf: Buffer): EncodedText {
  if (isUtf8(buf)) return { data: buf.toString('utf8') };
  return { data: buf.toString('base64'), encoding: 'base64' };
}

/** A result whose stdout/stderr follow the rule above (`stdoutEncoding`/`stderrEncoding` when base64). */
export type EncodedResult = JobResult & { stdoutEncoding?: 'base64'; stderrEncoding?: 'base64' };

export function encodeResult(result: JobResult, output: JobOutput | undefined): EncodedResult {
  if (!output) return result;
  const out = reencode(result.stdout, output.stdout, result.stdoutTruncated === true);
  const err = reencode(result.stderr, output.stderr, result.stderrTruncated === true);
  if (!out && !err) return result;
  const r: EncodedResult = { ...result };
  if (out) {
    r.stdout = out.data;
    if (out.encoding) r.stdoutEncoding = out.encoding;
  }
  if (err) {
    r.stderr = err.data;
    if (err.encoding) r.stderrEncoding = err.encoding;
  }
  return r;
}

/** undefined when the result's text (decoded from `bytes`) is already right, as it is for most jobs. */
function reencode(text: string, bytes: Buffer, partialEnd: boolean): EncodedText | undefined {
  if (bytes.length === 0) return undefined;
  const whole = partialEnd ? withoutCutChar(bytes) : bytes;
  if (!isUtf8(whole)) return { data: bytes.toString('base64'), encoding: 'base64' };
  return whole.length === bytes.length ? undefined : { data: whole.toString('utf8') };
}

/** The head of a truncated stream can end in the middle of a character: that is not binary. */
function withoutCutChar(buf: Buffer): Buffer {
  for (let back = 1; back <= 4 && back <= buf.length; back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? buf.subarray(0, buf.length - back) : buf;
  }
  return buf;
}

/**
 * JSON.stringify that cannot throw on what a `call` job may return through structured clone: BigInt becomes
 * a string; a value that still cannot be written (a cycle) is replaced by a description of why.
 */
export function stringify(value: unknown, indent?: number): string {
  return wellFormedJson(stringifyAny(value, indent));
}

/**
 * JSON text with every escaped lone UTF-16 surrogate (`\ud83d`, as JSON.stringify writes half of a pair, in a
 * value or a key) turned into `\ufffd`: RFC 8259 leaves such text unpredictable, and jq, serde_json and other
 * strict readers refuse the whole document. The same as `toWellFormed()` on every string before writing it.
 * JSON.stringify writes a whole pair as the characters themselves, so an escaped surrogate is always a lone one.
 */
export function wellFormedJson(text: string): string {
  if (!text.includes('\\ud')) return text;
  // Each match is one escape from its backslash on, so `\\ud800` (a backslash, then the letters) is left alone.
  return text.replace(/\\(?:u[dD][89a-fA-F][0-9a-fA-F]{2}|[^])/g, (m) => (m.length === 6 ? '\\ufffd' : m));
}

function stringifyAny(value: unknown, indent?: number): string {
  try {
    // Without a replacer first: it is the common case, and a replacer makes stringify slower.
    return JSON.stringify(value, null, indent);
  } catch {
    /* a BigInt or a cycle: try again below */
  }
  try {
    return JSON.stringify(value, bigintReplacer, indent);
  } catch (e) {
    if (value && typeof value === 'object' && 'value' in value) {
      const why = `[not representable in JSON: ${(e as Error).message.split('\n', 1)[0]}]`;
      return JSON.stringify({ ...value, value: why }, bigintReplacer, indent);
    }
    return JSON.stringify(`[not representable in JSON: ${(e as Error).message.split('\n', 1)[0]}]`);
  }
}

function bigintReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
