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
