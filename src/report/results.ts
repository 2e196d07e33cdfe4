/**
 * The `--json` results document (contract §5): summary, then every result in input order. Results are spooled
 * to disk as jobs finish and assembled at the end, written atomically (or to stdout for `--json -`); the end
 * comes on a normal finish and after a stop (SIGINT, SIGTERM, --deadline, --halt) alike.
 */
import type { ExecutorEvent } from '../executor/executor.js';
import { encodeResult } from './encode.js';
import { stringify } from '../util/json.js';
import { redactResult } from '../results/redacted.js';
import type { Sink } from './sink.js';
import { OrderedSpool } from './spool.js';
import { OutputFileError } from './files.js';
import type { RunEnd, RunObserver } from './types.js';

const INDENT = '    ';

export class ResultsFile implements RunObserver {
  private readonly spool = new OrderedSpool(',\n');

  constructor(
    private readonly target: string,
    private readonly sink: Sink,
  ) {}

  event(e: ExecutorEvent): void {
    if (e.event !== 'finished') return;
    // One result per line: cheap to write for a million jobs, and easy to grep.
    this.spool.add(e.result.index, INDENT + stringify(encodeResult(redactResult(e.result), e.output)));
  }

  async end(run: RunEnd): Promise<void> {
    const summary = stringify(run.summary, 2).replace(/\n/g, '\n  ');
    const head = `{\n  "summary": ${summary},\n  "results": [\n`;
    const tail = this.spool.count ? '\n  ]\n}\n' : '  ]\n}\n';
    try {
      if (this.target === '-') await this.spool.writeStdout(this.sink, head, tail);
      else await this.spool.writeFile(this.target, head, tail);
    } catch (e) {
      throw new OutputFileError(`--json: could not write ${this.target}: ${(e as Error).message}`);
    } finally {
      this.spool.dispose();
    }
  }
}
