/**
 * One job per line: JSONL (each line a JSON job) or plain lines (each line a shell command, `#` comments).
 * Lines are taken one at a time, so a reader can start jobs before the input ends; problems are collected
 * with their `file:line:col`.
 */
import type { JobFileProblem } from '../errors.js';
import { encodingProblem } from '../util/utf8.js';
import { depthMessage, tooDeepAt } from '../util/limits.js';
import { checkableAfter, checkableId, IdRegistry } from './ids.js';
import { formatPath, ProblemList, type Issue } from './issues.js';
import { locateIssues, syntaxProblem, type Origin } from './locate.js';
import { buildJob, builtJobIssues, explicitId, jobIssues } from './normalize.js';
import { checkJob } from './schema.js';
import { Destinations, type OwnFile } from './destinations.js';
import type { Job } from '../kinds/types.js';
import { AfterChecker, afterAt, afterColumn } from './after.js';
import { duplicateKeys, duplicateMessage } from './duplicates.js';
import { redactId } from '../util/redact.js';

export type LineFormat = 'jsonl' | 'lines';

/** A job file or stdin with no job in it. */
function emptyMessage(format: LineFormat, name: string): string {
  const what = name === '<stdin>' ? 'stdin holds no jobs' : 'the job file holds no jobs';
  return format === 'lines' ? `${what} (no line other than blanks and # comments)` : what;
}

const BOM = '\uFEFF';

export class JobLineParser {
  readonly problems = new ProblemList();
  /** Jobs (good or bad) seen so far: the next job's index. */
  count = 0;
  private readonly ids = new IdRegistry();
  /** Where copies and downloads write: two jobs writing one place is a problem. */
  private readonly places: Destinations;
  /** Where each job's id is, for "first used by … at file:line:col". */
  private idLines = new Uint32Array(1024);
  private idColumns = new Uint16Array(1024);

  /** `after` ids: any job of the file (checked at its end), only earlier jobs (a stream), or none (checked). */
  private readonly after: AfterChecker | undefined;

  constructor(
    readonly format: LineFormat,
    readonly name: string,
    private readonly baseDir: string,
    afterMode: 'any' | 'earlier' | 'checked' = 'any',
    own: readonly OwnFile[] = [],
  ) {
    this.places = new Destinations(own);
    if (afterMode !== 'checked') this.after = new AfterChecker(afterMode);
  }

  /** The input has ended: no job at all is a problem too. Throws with every problem found, if any. */
  end(): void {
    if (this.count === 0 && this.problems.empty)
      this.problems.add({ where: `${this.name}:1:1`, message: emptyMessage(this.format, this.name) });
    if (this.after)
      for (const p of this.after.end())
        this.problems.add({
          where: p.where ?? `${this.name}:1:1`,
          path: formatPath(afterAt([], p.item), `jobs[${p.index}]`),
          message: p.message,
        });
    if (!this.problems.empty) throw this.problems.error(this.name);
  }

  /** One line, without its newline. Returns its job; undefined for a blank line, a comment or a problem. */
  push(line: Buffer | string, n: number): Job | undefined {
    let text: string;
    if (typeof line === 'string') text = line;
    else {
      const bad = encodingProblem(line, n === 1);
      if (bad?.kind === 'utf16') {
        this.count++;
        return this.fail({ where: `${this.name}:1:1`, message: bad.message });
      }
      if (bad) {
        const column = line.subarray(0, bad.at).toString('utf8').length + 1;
        return this.fail({
          where: `${this.name}:${n}:${column}`,
          path: `jobs[${this.count++}]`,
          message: bad.message,
        });
      }
      text = line.toString('utf8');
    }
    if (n === 1 && text.startsWith(BOM)) text = text.slice(1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return undefined;
    if (this.format === 'lines' && text.trimStart().startsWith('#')) return undefined;

    const index = this.count++;
    const origin: Origin = { name: this.name, line: n, column: 1 };
    const display = (at: (string | number)[]) => formatPath(at, `jobs[${index}]`);
    let raw: unknown;
    if (this.format === 'lines') {
      raw = text;
      const nul = text.indexOf('\0');
      if (nul !== -1) {
        return this.fail({
          where: `${this.name}:${n}:${nul + 1}`,
          path: display([]),
          message: 'a command cannot contain a NUL character',
        });
      }
    } else {
      const deep = tooDeepAt(text);
      if (deep !== -1) {
        return this.fail({
          where: `${this.name}:${n}:${deep + 1}`,
          path: display([]),
          message: depthMessage(),
        });
      }
      try {
        raw = JSON.parse(text);
      } catch (e) {
        return this.fail({ ...syntaxProblem(text, origin, e, true), path: display([]) });
      }
    }
    // A repeated key is a problem of its own: the job is not built, its other problems are listed too.
    const duplicates = this.format === 'jsonl' ? duplicateKeys(text, raw, origin) : [];
    for (const d of duplicates)
      this.problems.add({ where: d.where, path: display(d.at), message: duplicateMessage(d) });
    const issues: Issue[] = checkJob(raw);
    issues.push(...jobIssues(raw, []));
    const id = explicitId(raw);
    const fieldsOk = issues.length === 0;
    // Every problem at once: a job with other problems still has its id (and its `after`) checked when that is
    // valid itself.
    const ownId = checkableId(raw);
    if (ownId !== null) {
      const first = this.ids.add(index, ownId);
      this.remember(index, n, id === undefined ? 1 : idColumn(text));
      if (first !== undefined) {
        issues.push({
          at: id === undefined ? [] : ['id'],
          message: `duplicate id "${redactId(id ?? String(index + 1))}"`,
          first: {
            at: [],
            path: `jobs[${first}]`,
            where: `${this.name}:${this.idLines[first]!}:${this.idColumns[first]!}`,
          },
        });
      }
    }
    if (this.after) {
      // A job with other problems still holds its id (naming it is no problem) and has its `after` checked.
      const where = `${this.name}:${n}:${afterColumn(text)}`;
      const ok = checkableAfter(raw);
      for (const p of this.after.add(index, id ?? String(index + 1), id, ok ? raw : undefined, where))
        issues.push({ at: afterAt([], p.item), message: p.message });
    }
    if (fieldsOk) {
      // Built when its own fields are valid, so its destination is compared whatever else is wrong with it.
      const job = buildJob(raw, index, this.baseDir);
      issues.push(...builtJobIssues(job, []));
      const clash = this.places.add(job, n);
      if (!clash && issues.length === 0 && duplicates.length === 0) return job;
      if (clash)
        issues.push({
          at: [job.kind, 'to'],
          message: clash.message,
          ...(clash.first !== undefined && {
            first: { at: [], path: `jobs[${clash.first}]`, where: `${this.name}:${clash.firstLine ?? 1}` },
          }),
        });
    }
    if (issues.length) for (const p of locateIssues(text, origin, issues, display)) this.problems.add(p);
    return undefined;
  }

  private fail(p: JobFileProblem): undefined {
    this.problems.add(p);
    return undefined;
  }

  private remember(index: number, line: number, column: number): void {
    if (index >= this.idLines.length) {
      const size = Math.max(this.idLines.length * 2, index + 1);
      const lines = new Uint32Array(size);
      lines.set(this.idLines);
      this.idLines = lines;
      const cols = new Uint16Array(size);
      cols.set(this.idColumns);
      this.idColumns = cols;
    }
    this.idLines[index] = line;
    this.idColumns[index] = Math.min(column, 65535);
  }
}

/** Column of the id's value in a JSONL line, found without parsing it again (only needed for a message). */
function idColumn(text: string): number {
  const m = /"id"\s*:\s*/.exec(text);
  return m ? m.index + m[0].length + 1 : 1;
}
