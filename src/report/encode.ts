/**
 * Job output in JSON (the --json document, NDJSON events): text when the bytes are UTF-8, otherwise base64
 * with an `…Encoding: "base64"` field beside it, so a job printing binary never breaks a JSON line and the
 * bytes can be recovered exactly.
 */
import { isUtf8 } from 'node:buffer';
import type { JobOutput } from '../executor/executor.js';
import type { JobResult } from '../jobs/types.js';

export interface EncodedText {
  data: string;
  encoding?: 'base64';
}

/** Bytes as text when they are valid UTF-8; `partialEnd`: they may end inside a character cut by a limit. */
export function encodeBytes(buf: Buffer, partialEnd = false): EncodedText {
  const bytes = partialEnd ? withoutCutChar(buf) : buf;
  if (isUtf8(bytes)) return { data: bytes.toString('utf8') };
  return { data: buf.toString('base64'), encoding: 'base64' };
}

/** A result whose stdout/stderr follow the rule above (`stdoutEncoding`/`stderrEncoding` when base64). */
export type EncodedResult = JobResult & { stdoutEncoding?: 'base64'; stderrEncoding?: 'base64' };

export function encodeResult(result: JobResult, output: JobOutput | undefined): EncodedResult {
  if (!output) return result;
  const out = encodeBytes(output.stdout, result.stdoutTruncated === true);
  const err = encodeBytes(output.stderr, result.stderrTruncated === true);
  if (out.data === result.stdout && err.data === result.stderr) return result;
  const r: EncodedResult = { ...result, stdout: out.data, stderr: err.data };
  if (out.encoding) r.stdoutEncoding = out.encoding;
  if (err.encoding) r.stderrEncoding = err.encoding;
  return r;
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
