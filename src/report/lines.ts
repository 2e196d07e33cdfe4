/**
 * Cuts each job's output into whole lines as it arrives, so a line is never glued to another job's. The
 * unfinished end of a stream waits for its newline; past `maxLine` bytes it is let go as a piece of its own
 * (cut on a UTF-8 character boundary), so a job that prints without newlines cannot grow poolrun's memory.
 */
import { charBoundary } from '../util/utf8.js';

export { charBoundary };

export const MAX_LINE = 64 * 1024;

export class LineSplitter {
  private readonly partial = new Map<string, Buffer>();

  constructor(private readonly maxLine = MAX_LINE) {}

  /** Whole lines (each ending in `\n`) and over-long pieces (not ending in `\n`), in order. */
  push(key: string, data: Buffer): Buffer[] {
    const prev = this.partial.get(key);
    let buf = prev ? Buffer.concat([prev, data]) : data;
    this.partial.delete(key);
    const out: Buffer[] = [];
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, start)) {
      const line = buf.subarray(start, nl + 1);
      if (line.length <= this.maxLine) out.push(line);
      else out.push(...this.cut(line));
      start = nl + 1;
    }
    buf = buf.subarray(start);
    while (buf.length > this.maxLine) {
      const end = charBoundary(buf, this.maxLine);
      out.push(buf.subarray(0, end));
      buf = buf.subarray(end);
    }
    // A copy: the piece kept may be a view of a much larger chunk.
    if (buf.length) this.partial.set(key, Buffer.from(buf));
    return out;
  }

  /** What is left of a stream that ended without a newline. */
  rest(key: string): Buffer | undefined {
    const b = this.partial.get(key);
    this.partial.delete(key);
    return b;
  }

  private cut(line: Buffer): Buffer[] {
    if (line.length <= this.maxLine) return [line];
    const out: Buffer[] = [];
    while (line.length > this.maxLine) {
      const end = charBoundary(line, this.maxLine);
      out.push(line.subarray(0, end));
      line = line.subarray(end);
    }
    if (line.length) out.push(line);
    return out;
  }
}
