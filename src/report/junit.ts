/**
 * `--junit FILE` (`-`: stdout): JUnit XML for CI test-report panes. One <testcase> per job (name = id, time in
 * seconds); <failure> for a job that failed or timed out, with its exit status and the tail of its stderr; <skipped>
 * for a cancelled one. Text is escaped and stripped of characters XML 1.0 cannot hold. Test cases are spooled
 * to disk as jobs finish and written in input order, atomically, at the end.
 */
import { basename } from 'node:path';
import type { ExecutorEvent, JobOutput } from '../executor/executor.js';
import type { JobResult } from '../kinds/types.js';
import { OutputFileError } from './files.js';
import { OrderedSpool } from './spool.js';
import { redactResult } from '../results/redacted.js';
import { redactText } from '../util/redact.js';
import { endReason, errorLine } from './summary.js';
import { stderrTail } from './tail.js';
import type { RunEnd, RunInfo, RunObserver } from './types.js';
import type { Sink } from './sink.js';
import { usageProperties } from './usage.js';
import { KINDS } from '../kinds/index.js';

const TAIL_BYTES = 8 * 1024;
const TAIL_LINES = 60;

// Characters XML 1.0 does not allow, even escaped: C0 controls but tab/newline/CR, lone surrogates, U+FFFE/F.
const NOT_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function xmlText(s: string): string {
  return s.replace(NOT_XML, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function xmlAttr(s: string): string {
  return xmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

const seconds = (ms: number | null) => ((ms ?? 0) / 1000).toFixed(3);

export class JunitFile implements RunObserver {
  private readonly spool = new OrderedSpool('\n');
  private failures = 0;
  private skipped = 0;
  private readonly suite: string;
  /** Jobs whose attempt failed and whose next one has not started yet (waiting out --retry-delay). */
  private readonly retryWaits = new Set<number>();

  constructor(
    private readonly target: string,
    private readonly info: RunInfo,
    /** Where `--junit -` writes (stdout, through the live view's sink when there is one). */
    private readonly sink?: Sink,
  ) {
    this.suite =
      info.name.startsWith('<') || info.name.startsWith('-') ? 'poolrun' : redactText(basename(info.name));
  }

  event(e: ExecutorEvent): void {
    if (e.event === 'retry') this.retryWaits.add(e.job.index);
    else if (e.event === 'started') this.retryWaits.delete(e.job.index);
    if (e.event !== 'finished') return;
    const waited = this.retryWaits.delete(e.result.index);
    this.spool.add(e.result.index, this.testcase(redactResult(e.result), e.output, waited));
  }

  async end(run: RunEnd): Promise<void> {
    const s = run.summary;
    const time = seconds(s.durationMs);
    const counts = `tests="${s.total}" failures="${this.failures}" errors="0" skipped="${this.skipped}" time="${time}"`;
    const head =
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<testsuites name="poolrun" ${counts}>\n` +
      `  <testsuite name="${xmlAttr(this.suite)}" ${counts} timestamp="${new Date(this.info.startedAt).toISOString()}">\n`;
    const tail = `${this.spool.count ? '\n' : ''}  </testsuite>\n</testsuites>\n`;
    try {
      if (this.target === '-' && this.sink) await this.spool.writeStdout(this.sink, head, tail);
      else await this.spool.writeFile(this.target, head, tail);
    } catch (e) {
      throw new OutputFileError(`--junit: could not write ${this.target}: ${(e as Error).message}`);
    } finally {
      this.spool.dispose();
    }
  }

  private testcase(r: JobResult, output: JobOutput | undefined, waitedForRetry = false): string {
    const open = `    <testcase name="${xmlAttr(r.id)}" classname="${xmlAttr(this.suite)}" time="${seconds(r.durationMs)}"`;
    const props = usageProperties(r, xmlAttr);
    if (r.status === 'succeeded') return props ? `${open}>\n${props}    </testcase>` : `${open}/>`;
    if (r.status === 'cancelled') {
      this.skipped++;
      return `${open}>\n${props}      <skipped message="${xmlAttr(skippedMessage(r, waitedForRetry))}"/>\n    </testcase>`;
    }
    this.failures++;
    const message = failureMessage(r);
    const body: string[] = [message];
    if (r.error?.stack && KINDS[r.kind].returnsValue) body.push(r.error.stack);
    const tail = stderrTail(r, output, TAIL_BYTES, TAIL_LINES, redactText);
    if (tail && r.stderrTruncated && !output?.stderrFile)
      body.push(`--- stderr outgrew the capture limit; these lines end its first part ---\n${tail}`);
    else if (tail) body.push(`--- last lines of stderr ---\n${tail}`);
    return (
      `${open}>\n${props}      <failure type="${r.status}" message="${xmlAttr(message)}">${xmlText(body.join('\n'))}</failure>\n` +
      `    </testcase>`
    );
  }
}

/** Why a cancelled job did not finish: its error (a dependency that failed, the run stopping...) when it has one. */
function skippedMessage(r: JobResult, waitedForRetry: boolean): string {
  const why = errorLine(r);
  if (why) return `cancelled: ${why}`;
  // Its last attempt had ended on its own: the stop came while the retry waited, nothing was killed.
  if (waitedForRetry) return `cancelled while waiting to retry (attempt ${r.attempts}: ${failureMessage(r)})`;
  return r.startedAt === null ? 'cancelled: never started' : 'cancelled while running';
}

function failureMessage(r: JobResult): string {
  const reason = endReason(r) ?? r.status;
  return r.status === 'timed-out' && r.signal ? `${reason} (killed by ${r.signal})` : reason;
}
