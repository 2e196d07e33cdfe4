/**
 * GNU parallel's output habits on top of poolrun's printer: --tag/--tagstring (each line prefixed), --results DIR
 * (GNU's tree; the output is then not printed, as GNU 20221122 does not print it), --line-buffer (lines bare, or
 * tagged, instead of `[id] `). run.ts hands every executor event to event() and every finished job's output
 * through finished(); the printer takes linePrefix for `--output stream`.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempFolder } from '../util/temp-root.js';
import type { ExecutorEvent, JobOutput } from '../executor/executor.js';
import type { Job, JobResult } from '../kinds/types.js';
import type { GnuOptions } from './options.js';
import { writeResults } from './results.js';
import { LinePrefixer, tagOf, withTab } from './tag.js';

/** Tags of started jobs kept for streamed lines; older ones have long been printed (the printer's backlog is bounded). */
const KEEP_TAGS = 100_000;

export class GnuOutput {
  private readonly tags = new Map<number, Buffer>();
  private spillDir: string | undefined;

  constructor(
    private readonly g: GnuOptions,
    private readonly warn: (message: string) => void,
  ) {}

  /** Whether the printer should use linePrefix instead of its `[id] ` prefix in --output stream. */
  get prefixesLines(): boolean {
    return this.g.lineBuffer === true || this.g.tag !== undefined;
  }

  /** The prefix of a streamed line of job `index`: its tag and a TAB, or nothing (--line-buffer). */
  linePrefix = (job: { index: number }): Buffer => this.tags.get(job.index) ?? Buffer.alloc(0);

  event(e: ExecutorEvent): void {
    if (e.event !== 'started' || this.g.tag === undefined || this.g.untaggedOutput) return;
    this.tags.set(e.job.index, withTab(tagOf(this.g.tag, e.job, e.worker, this.g.context)));
    if (this.tags.size > KEEP_TAGS) this.tags.delete(this.tags.keys().next().value!);
  }

  /** A finished job's output as it is to be printed (tagged; or nothing, when --results DIR has it). */
  finished(job: Job, result: JobResult, output: JobOutput | undefined): JobOutput | undefined {
    if (this.g.resultsDir !== undefined) {
      if (result.status !== 'cancelled' || result.attempts > 0) {
        try {
          writeResults({ dir: this.g.resultsDir, context: this.g.context }, job, result, output);
        } catch (e) {
          this.warn(`--results ${this.g.resultsDir}: job ${result.id}: ${(e as Error).message}`);
        }
      }
      if (output) for (const f of [output.stdoutFile, output.stderrFile]) if (f) rmSync(f, { force: true });
      return undefined;
    }
    if (this.g.tag === undefined || this.g.untaggedOutput || !output) return output;
    const prefix = withTab(tagOf(this.g.tag, job, result.worker, this.g.context));
    const out: JobOutput = {
      stdout: new LinePrefixer(prefix).push(output.stdout),
      stderr: new LinePrefixer(prefix).push(output.stderr),
    };
    if (output.stdoutFile) out.stdoutFile = this.tagFile(output.stdoutFile, prefix);
    if (output.stderrFile) out.stderrFile = this.tagFile(output.stderrFile, prefix);
    return out;
  }

  /** A spilled stream, tagged into a new file piece by piece (the old one is removed). */
  private tagFile(path: string, prefix: Buffer): string {
    if (this.spillDir === undefined) {
      const dir = (this.spillDir = tempFolder('tag-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
    const dir = this.spillDir;
    const to = join(dir, `${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const p = new LinePrefixer(prefix);
    const piece = Buffer.allocUnsafe(1024 * 1024);
    const rfd = openSync(path, 'r');
    const wfd = openSync(to, 'wx', 0o600);
    try {
      for (let n = readSync(rfd, piece); n > 0; n = readSync(rfd, piece)) {
        const b = p.push(piece.subarray(0, n));
        for (let w = 0; w < b.length;) w += writeSync(wfd, b, w);
      }
    } finally {
      closeSync(rfd);
      closeSync(wfd);
      rmSync(path, { force: true });
    }
    return to;
  }
}
