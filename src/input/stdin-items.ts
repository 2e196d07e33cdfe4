/** The argument items of `--each` and `--call` on stdin: lines, or NUL-terminated items with -0. */
import type { JobFileProblem } from '../errors.js';
import { ProblemList, streamStopped } from '../jobs/issues.js';
import { LineTooLong, lineTooLongMessage } from '../util/limits.js';
import { isBlank } from './blank.js';
import { records } from './records.js';

export interface StdinItem {
  /** 1-based line (or item) number on stdin. */
  line: number;
  item: Buffer;
}

/**
 * Stdin's items batch by batch as they arrive, with their numbers. Empty items are skipped (as xargs does; with
 * `skipBlank`, -r, blank ones too), so empty input gives nothing. An item past the line limit ends it with the
 * error `stopped` makes.
 */
export async function* stdinItems(
  nul: boolean,
  skipBlank: boolean,
  stopped: (problem: JobFileProblem) => Error,
): AsyncGenerator<StdinItem[]> {
  const items = records(process.stdin as AsyncIterable<Buffer>, nul ? 0 : 0x0a);
  for (;;) {
    let next: IteratorResult<{ first: number; items: Buffer[] }>;
    try {
      next = await items.next();
    } catch (e) {
      if (!(e instanceof LineTooLong)) throw e;
      throw stopped({
        where: `<stdin>:${e.line}`,
        message: lineTooLongMessage(e.limit, nul ? 'item' : 'line'),
      });
    }
    if (next.done) return;
    const { first, items: batch } = next.value;
    const kept: StdinItem[] = [];
    batch.forEach((item, k) => {
      if (item.length > 0 && !(skipBlank && isBlank(item))) kept.push({ line: first + k, item });
    });
    if (kept.length) yield kept;
  }
}

/** The error that stops a stream at `problem`, after `submitted` jobs were read. */
export function stoppedAt(problem: JobFileProblem, submitted: number): Error {
  const problems = new ProblemList();
  problems.add(problem);
  return problems.error('<stdin>', streamStopped(submitted));
}
