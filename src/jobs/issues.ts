/**
 * Problems found in job input, before they get a location. An issue names the place by its path in the parsed
 * JSON value; the reader that holds the text turns that into `file:line:col` (see locate.ts).
 */
import { JobFileError, type JobFileProblem } from '../errors.js';

export type Segment = string | number;

export interface Issue {
  /** Path from the root of the parsed value (the document, or one JSONL line). */
  at: Segment[];
  message: string;
  /** Point at the key of the last segment (an unknown key), not at its value. */
  key?: boolean;
  /** Point at this path instead of `at` (a missing key is reported at its object). */
  locateAt?: Segment[];
  /** The earlier use of a duplicate id: its path from the same root, or a location already known. */
  first?: { at: Segment[]; where?: string; path: string };
}

/** `jobs[3].download.url`: the path as a user reads it. */
export function formatPath(at: readonly Segment[], prefix = ''): string {
  let out = prefix;
  for (const s of at) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** How many problems are listed; the rest are counted. A file with a million bad lines needs no million lines. */
export const MAX_LISTED = 200;

/** Collects located problems for one input, listing at most MAX_LISTED. */
export class ProblemList {
  readonly listed: JobFileProblem[] = [];
  count = 0;

  add(p: JobFileProblem): void {
    this.count++;
    if (this.listed.length < MAX_LISTED) this.listed.push(p);
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** The error to throw: one line per problem, after a header line when there are several. */
  error(name: string, tail = 'nothing ran'): JobFileError {
    const err = new JobFileError(this.listed);
    const lines = this.listed.map(formatLine);
    if (this.count > this.listed.length) lines.push(`… and ${this.count - this.listed.length} more`);
    err.message =
      this.count === 1
        ? `${lines[0]!}${tail === 'nothing ran' ? '' : ` (${tail})`}`
        : `${name}: ${this.count} problems; ${tail}:\n${lines.join('\n')}`;
    return err;
  }
}

function formatLine(p: JobFileProblem): string {
  return `${p.where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** "1 job", "2 jobs". */
export function jobsWord(n: number): string {
  return `${n} job${n === 1 ? '' : 's'}`;
}

/** What a run read as it arrived had done when a bad line stopped it, `submitted` jobs in. */
export function streamStopped(submitted: number): string {
  return submitted === 0
    ? 'nothing ran'
    : `input is read as it arrives: ${jobsWord(submitted)} before it had been submitted; the run was stopped`;
}
