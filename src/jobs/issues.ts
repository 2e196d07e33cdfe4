/**
 * Problems found in job input, before they get a location. An issue names the place by its path in the parsed
 * JSON value; the reader that holds the text turns that into `file:line:col` (see locate.ts).
 */
import { JobFileError, type JobFileProblem } from '../errors.js';
import { isSecretName, redactText } from '../util/redact.js';
import { escapeControls } from '../util/text.js';

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

  /**
   * The error to throw: one line per problem, after a header line when there are several. Each line is made safe
   * to show on its own (secrets masked, control characters escaped: a newline in an id cannot start a line of its
   * own), so the message is shown as it is (`shownSafe`): masking it whole would run one problem's quoted words
   * into the next.
   */
  error(name: string, tail = 'nothing ran'): JobFileError {
    const err = new JobFileError(this.listed);
    const lines = this.listed.map(formatLine);
    if (this.count > this.listed.length) lines.push(`… and ${this.count - this.listed.length} more`);
    err.message =
      this.count === 1
        ? `${lines[0]!}${tail === 'nothing ran' ? '' : ` (${tail})`}`
        : `${safeLine(name)}: ${this.count} problems; ${tail}:\n${lines.join('\n')}`;
    err.shownSafe = true;
    return err;
  }
}

/** A value of a member whose name is a secret's (`env.DB_PASSWORD`, a header) is not shown in a type problem. */
const SECRET_MEMBER = /(?:\.([^.[\]]+)|\["((?:[^"\\]|\\.)*)"\])$/;

function formatLine(p: JobFileProblem): string {
  let message = p.message;
  const m = p.path ? SECRET_MEMBER.exec(p.path) : null;
  const name = m?.[1] ?? m?.[2];
  if (name !== undefined && (isSecretName(name) || /\.headers(?:\.|\[)[^.[]*$/.test(p.path!)))
    message = message.replace(/\b(got (?:a number|a string|a boolean)) \(.*?\)/g, '$1');
  return `${safeLine(p.where)}: ${p.path ? `${safeLine(p.path)}: ` : ''}${safeLine(message)}`;
}

function safeLine(text: string): string {
  return escapeControls(redactText(text));
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
