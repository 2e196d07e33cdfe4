/**
 * The live view for a person at a terminal: a progress line (bar with done/total, failures, running count,
 * elapsed, ETA from finished jobs' durations; a counter when the total is unknown) and the running jobs with
 * their worker and how long they have run. Finished jobs' output scrolls above it. The summary at the end.
 */
import type { ChalkInstance } from 'chalk';
import type { ExecutorEvent } from '../executor/executor.js';
import type { JobResult } from '../kinds/types.js';
import type { Sink } from './sink.js';
import { Slowest, summaryLines, type SummaryOptions } from './summary.js';
import { LiveScreen, type TerminalStream } from './terminal.js';
import { clockDuration, printable } from '../util/text.js';
import { redactId } from '../util/redact.js';
import { fit, width } from './width.js';
import type { RunEnd, RunInfo, RunObserver } from './types.js';

interface Running {
  id: string;
  worker: number;
  since: number;
  attempt: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const MAX_JOB_LINES = 12;

export class TtyReporter implements RunObserver {
  readonly screen: LiveScreen;
  private readonly running = new Map<number, Running>();
  private readonly slowest = new Slowest();
  private succeeded = 0;
  private failed = 0;
  private cancelled = 0;
  private timedSum = 0;
  private timedCount = 0;
  /** -w auto: the pool's width now. */
  private poolWidth: number | undefined;

  constructor(
    private readonly base: Sink,
    term: TerminalStream,
    stdoutIsTerm: boolean,
    private readonly info: RunInfo,
    private readonly c: ChalkInstance,
    private readonly summary: Omit<SummaryOptions, 'slowest' | 'color'> = {},
  ) {
    this.screen = new LiveScreen(base, term, stdoutIsTerm, (cols, rows, now) => this.render(cols, rows, now));
    this.screen.start();
  }

  /** The sink job output should go through, so it scrolls above the live area. */
  get sink(): Sink {
    return this.screen;
  }

  event(e: ExecutorEvent): void {
    switch (e.event) {
      case 'started':
        this.running.set(e.job.index, {
          id: redactId(e.job.id),
          worker: e.worker,
          since: e.time,
          attempt: e.attempt,
        });
        return;
      case 'retry':
      case 'requeued':
        this.running.delete(e.job.index);
        return;
      case 'finished':
        this.running.delete(e.job.index);
        this.count(e.result);
        return;
      default:
        return;
    }
  }

  width(w: number): void {
    this.poolWidth = w;
  }

  end(run: RunEnd): void {
    this.screen.stop();
    const lines = summaryLines(run, { ...this.summary, slowest: this.slowest, color: this.c });
    this.base.stderr(`${lines.join('\n')}\n`);
  }

  private count(r: JobResult): void {
    this.slowest.add(r);
    if (r.status === 'succeeded') this.succeeded++;
    else if (r.status === 'cancelled') this.cancelled++;
    else this.failed++;
    if (r.status !== 'cancelled' && r.durationMs !== null) {
      this.timedSum += r.durationMs;
      this.timedCount++;
    }
  }

  private render(columns: number, rows: number, now: number): string[] {
    const max = columns - 1;
    const lines = [this.progressLine(max, now)];
    const room = Math.max(0, Math.min(MAX_JOB_LINES, rows - 3));
    const jobs = [...this.running.values()].sort((a, b) => a.since - b.since);
    const shown = jobs.length > room ? jobs.slice(0, Math.max(0, room - 1)) : jobs;
    const idWidth = Math.min(Math.max(8, ...shown.map((j) => width(printable(j.id)))), Math.max(8, max - 28));
    for (const j of shown) lines.push(this.jobLine(j, idWidth, max, now));
    if (shown.length < jobs.length)
      lines.push(this.c.dim(fit(`  … and ${jobs.length - shown.length} more running`, max)));
    return lines;
  }

  private jobLine(j: Running, idWidth: number, max: number, now: number): string {
    const id = fit(printable(j.id), idWidth);
    const pad = ' '.repeat(Math.max(0, idWidth - width(id)));
    const spin = SPINNER[Math.floor((now - j.since) / 100) % SPINNER.length]!;
    const rest = `worker ${j.worker}  ${clockDuration(now - j.since)}${j.attempt > 1 ? `  attempt ${j.attempt}` : ''}`;
    const plain = `  ${spin} ${id}${pad}  ${rest}`;
    if (width(plain) > max) return fit(plain, max);
    return `  ${this.c.cyan(spin)} ${id}${pad}  ${this.c.dim(rest)}`;
  }

  /** Parts in order of importance: the first ones stay when the terminal is narrow. */
  private progressLine(max: number, now: number): string {
    const c = this.c;
    const total = this.info.total;
    const done = this.succeeded + this.failed + this.cancelled;
    const elapsed = now - this.info.startedAt;
    const parts: Array<{ plain: string; styled: string; keep: number }> = [];
    const add = (plain: string, styled: string, keep: number) => parts.push({ plain, styled, keep });
    const spin = SPINNER[Math.floor(elapsed / 100) % SPINNER.length]!;
    add(spin, c.cyan(spin), 0);
    if (total !== undefined) {
      add(`${done}/${total}`, c.bold(`${done}/${total}`), 0);
      add('', '', 5); // the bar goes here when there is room
      const pct = total ? Math.floor((done / total) * 100) : 100;
      add(`${pct}%`, `${pct}%`, 3);
    } else {
      add(`${done} done`, c.bold(`${done} done`), 0);
    }
    if (this.failed) add(`${this.failed} failed`, c.red(`${this.failed} failed`), 1);
    if (this.cancelled) add(`${this.cancelled} cancelled`, c.yellow(`${this.cancelled} cancelled`), 2);
    add(`${this.running.size} running`, `${this.running.size} running`, 2);
    if (this.poolWidth !== undefined) add(`width ${this.poolWidth}`, c.dim(`width ${this.poolWidth}`), 2);
    add(clockDuration(elapsed), c.dim(clockDuration(elapsed)), 1);
    if (total !== undefined) {
      const eta = this.eta(total, done, now);
      const text = `ETA ${eta === undefined ? '–' : clockDuration(eta)}`;
      add(text, c.dim(text), 4);
    }
    // Drop the least important parts until the line fits; the bar takes what is left, 10 to 30 columns.
    const fits = (ps: typeof parts, bar: number) =>
      ps.reduce((n, p) => n + (p.plain === '' ? bar : width(p.plain)), 0) + (ps.length - 1) <= max;
    let kept = parts;
    for (let level = 5; level > 0 && !fits(kept, 10); level--) kept = kept.filter((p) => p.keep < level);
    const hasBar = kept.some((p) => p.plain === '' && p.keep === 5);
    let barWidth = 0;
    if (hasBar && total !== undefined) {
      const others = kept.reduce((n, p) => n + (p.plain === '' ? 0 : width(p.plain)), 0) + (kept.length - 1);
      barWidth = Math.max(10, Math.min(30, max - others));
    }
    const line = kept.map((p) => (p.plain === '' ? this.bar(barWidth, total ?? 0) : p.styled)).join(' ');
    return width(line) <= max ? line : fit(kept.map((p) => p.plain).join(' '), max);
  }

  private bar(w: number, total: number): string {
    if (w <= 0) return '';
    const c = this.c;
    const cells = (n: number) => (total ? Math.round((n / total) * w) : 0);
    const ok = Math.min(w, cells(this.succeeded));
    const bad = Math.min(w - ok, cells(this.failed + this.cancelled));
    return c.green('█'.repeat(ok)) + c.red('█'.repeat(bad)) + c.dim('░'.repeat(w - ok - bad));
  }

  /**
   * Time left: the mean duration of finished jobs, for each job not started yet and for what the running
   * ones have left of it, spread over the workers.
   */
  private eta(total: number, done: number, now: number): number | undefined {
    if (!this.timedCount) return undefined;
    const mean = this.timedSum / this.timedCount;
    const waiting = Math.max(0, total - done - this.running.size);
    let work = waiting * mean;
    for (const j of this.running.values()) work += Math.max(0, mean - (now - j.since));
    return work / Math.max(1, Math.min(this.poolWidth ?? this.info.workers, waiting + this.running.size));
  }
}
