/**
 * `--reporter ndjson`: the run as events on stdout, one JSON object per line (contract §5): `queued`,
 * `started`, `output` (with `--output stream`, one event per line of output), `retry`, `finished` (the result
 * fields), and `summary` last. Every line is valid JSON whatever the jobs print: output that is not UTF-8 is
 * base64 with `"encoding": "base64"` (`stdoutEncoding`/`stderrEncoding` in results).
 */
import type { ExecutorEvent } from '../executor/executor.js';
import { encodeBytes, encodeResult } from './encode.js';
import { stringify } from '../util/json.js';
import { LineSplitter } from './lines.js';
import { redactError, redactResult } from '../results/redacted.js';
import { redactId } from '../util/redact.js';
import type { RunEnd, RunObserver } from './types.js';

export class NdjsonReporter implements RunObserver {
  private readonly lines = new LineSplitter();

  constructor(private readonly write: (line: string) => void) {}

  event(e: ExecutorEvent): void {
    const time = new Date(e.time).toISOString();
    const head = { event: e.event, id: redactId(e.job.id), index: e.job.index, time };
    switch (e.event) {
      case 'queued':
        this.emit(head);
        return;
      case 'waiting':
        this.emit({ ...head, after: e.after.map(redactId) });
        return;
      case 'requeued':
        this.flushOutput(head, e.attempt);
        this.emit({ ...head, attempt: e.attempt, reason: e.reason });
        return;
      case 'started':
        this.emit({ ...head, worker: e.worker, attempt: e.attempt, pid: e.pid, threadId: e.threadId });
        return;
      case 'output':
        for (const piece of this.lines.push(`${e.job.index}\0${e.stream}`, e.data))
          this.output(head, e.attempt, e.stream, piece);
        return;
      case 'retry': {
        this.flushOutput(head, e.attempt);
        const r = e.result;
        this.emit({
          ...head,
          attempt: e.attempt,
          delayMs: e.delayMs,
          status: r.status,
          exitCode: r.exitCode,
          signal: r.signal,
          durationMs: r.durationMs,
          error: r.error && redactError(r.error),
        });
        return;
      }
      case 'finished': {
        this.flushOutput(head, e.result.attempts);
        const { id: _id, index: _index, ...rest } = encodeResult(redactResult(e.result), e.output);
        this.emit({ ...head, ...rest });
        return;
      }
    }
  }

  /** -w auto: `{"event":"width","id":null,"index":null,"time":…,"width":8,"why":"idle"}` at each change. */
  width(width: number, time: number, why: string): void {
    this.emit({ event: 'width', id: null, index: null, time: new Date(time).toISOString(), width, why });
  }

  end(run: RunEnd): void {
    const stop = run.stop ? { stop: run.stop } : {};
    // A run-level event: no job's, but the keys every event has (as `width`).
    const time = new Date().toISOString();
    this.emit({ event: 'summary', id: null, index: null, time, ...run.summary, ...stop });
  }

  private output(head: object, attempt: number, stream: 'stdout' | 'stderr', data: Buffer): void {
    const enc = encodeBytes(data);
    this.emit({
      ...head,
      event: 'output',
      attempt,
      stream,
      data: enc.data,
      ...(enc.encoding ? { encoding: enc.encoding } : {}),
    });
  }

  /** A stream's last line without a newline is still an output event, before the job's end. */
  private flushOutput(head: { index: number }, attempt: number): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.lines.rest(`${head.index}\0${stream}`);
      if (rest) this.output(head, attempt, stream, rest);
    }
  }

  private emit(obj: object): void {
    this.write(`${stringify(obj)}\n`);
  }
}
