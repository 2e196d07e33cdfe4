/**
 * Reads a whole job text: a JSON array, a `{ defaults, jobs }` document, JSONL (one job per line), or plain
 * lines (one shell command per line, `#` comments). Every problem is collected with its location; a text with
 * any problem gives no jobs. (The CLI streams JSONL and lines instead: src/input/job-input.ts.)
 *
 * A valid JSON document costs JSON.parse and the generated schema validator only; locations (momoa) are
 * computed when there is something to report.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Job } from '../kinds/types.js';
import { JOB_KINDS } from '../kinds/index.js';
import { checkableId, IdRegistry } from './ids.js';
import { formatPath, ProblemList, type Issue, type Segment } from './issues.js';
import { JobLineParser } from './lines.js';
import {
  FILE_START,
  jobSpans,
  lineColumn,
  lineColumns,
  locateIssues,
  syntaxProblem,
  type Origin,
} from './locate.js';
import type { JobFileProblem } from '../errors.js';
import { buildJob, builtJobIssues, defaultsIssues, explicitId, jobIssues, sharedEnv } from './normalize.js';
import { Destinations, type OwnFile } from './destinations.js';
import { afterIssues } from './after.js';
import { duplicateKeys, duplicateMessage } from './duplicates.js';
import { checkFile } from './schema.js';
import { isPlainObject } from './words.js';
import { encodingProblem } from '../util/utf8.js';
import { printable } from '../util/text.js';
import { depthMessage, tooDeepAt } from '../util/limits.js';
import { redactId } from '../util/redact.js';

export type InputFormat = 'json' | 'jsonl' | 'lines';

export interface ParsedJobs {
  jobs: Job[];
  format: InputFormat;
}

export function formatFromExtension(file: string): InputFormat | undefined {
  switch (extname(file).toLowerCase()) {
    case '.json':
      return 'json';
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.txt':
      return 'lines';
    default:
      return undefined;
  }
}

/**
 * The §1 rule for stdin and unknown extensions, on the start of the input: `[` is JSON; `{` is JSONL when the
 * first line is a whole object, else JSON; anything else is lines. A first line that is a whole
 * `{ "jobs": … }` document is JSON too: a one-line job file, not a job with an unknown key.
 */
export function sniffFormat(text: string): InputFormat {
  const t = text.replace(/^\uFEFF/, '').trimStart();
  if (t.startsWith('[')) return 'json';
  if (t.startsWith('{')) {
    const firstLine = t.split('\n', 1)[0]!;
    try {
      const v: unknown = JSON.parse(firstLine);
      if (!isPlainObject(v)) return 'json';
      return 'jobs' in v && !JOB_KINDS.some((k) => k in v) ? 'json' : 'jsonl';
    } catch {
      return 'json';
    }
  }
  return 'lines';
}

/** Reads and parses a whole job file (the library's entry point; the CLI streams). */
export async function readJobFile(file: string, format?: InputFormat): Promise<ParsedJobs> {
  // As messages and locations show it: a control character in a file name is written as an escape.
  const shown = printable(file);
  const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(
      e.code === 'ENOENT' ? `job file not found: ${shown}` : `cannot read job file ${shown}: ${e.message}`,
    );
  });
  if (st.isDirectory()) throw new UsageError(`job file is a directory: ${shown}`);
  const bytes = await readFile(file).catch((e: Error) => {
    throw new UsageError(`cannot read job file ${shown}: ${e.message}`);
  });
  return parseJobBytes(bytes, { name: shown, baseDir: dirname(resolve(file)), format });
}

export interface ParseOptions {
  /** Shown in messages (a control character in it as an escape: util/text printable). */
  name: string;
  baseDir: string;
  format?: InputFormat | undefined;
  /** The run's own files, which no job may write (see Destinations). */
  own?: readonly OwnFile[];
}

/** Bytes of a whole job file: UTF-8 is checked (with the place of the first bad byte) before parsing. */
export function parseJobBytes(bytes: Buffer, opts: ParseOptions): ParsedJobs {
  opts = { ...opts, name: printable(opts.name) };
  const format = opts.format ?? sniffFormat(bytes.subarray(0, 64 * 1024).toString('utf8'));
  if (format !== 'json') return parseLineText(bytes, format, opts);
  return { jobs: parseJsonDocument(decodeDocument(bytes, opts.name), opts), format };
}

export function parseJobText(text: string, opts: ParseOptions): ParsedJobs {
  opts = { ...opts, name: printable(opts.name) };
  const format = opts.format ?? sniffFormat(text);
  if (format !== 'json') return parseLineText(text, format, opts);
  return { jobs: parseJsonDocument(text.replace(/^\uFEFF/, ''), opts), format };
}

function parseLineText(input: Buffer | string, format: 'jsonl' | 'lines', opts: ParseOptions): ParsedJobs {
  const parser = new JobLineParser(format, opts.name, opts.baseDir, 'any', opts.own);
  const jobs: Job[] = [];
  let start = 0;
  for (let n = 1; start <= input.length; n++) {
    let end = typeof input === 'string' ? input.indexOf('\n', start) : input.indexOf(0x0a, start);
    if (end === -1) end = input.length;
    const job = parser.push(input.slice(start, end), n);
    if (job) jobs.push(job);
    start = end + 1;
  }
  parser.end();
  return { jobs, format };
}

/**
 * UTF-8 text of a JSON document, without a leading byte-order mark (Windows editors write one; it is not
 * part of the JSON). UTF-16 and bytes that are not UTF-8 are reported where they are.
 */
export function decodeDocument(bytes: Buffer, name: string): string {
  const bad = encodingProblem(bytes, true);
  if (bad) {
    const before = bytes.subarray(0, bad.at).toString('utf8');
    const [line, column] = lineColumn(before, before.length);
    const problems = new ProblemList();
    problems.add({ where: `${name}:${line}:${column}`, message: bad.message });
    throw problems.error(name);
  }
  return bytes.toString('utf8').replace(/^\uFEFF/, '');
}

function parseJsonDocument(text: string, opts: ParseOptions): Job[] {
  const origin = FILE_START(opts.name);
  const problems = new ProblemList();
  if (text.trim() === '') {
    problems.add({
      where: `${opts.name}:1:1`,
      message: opts.name === '<stdin>' ? 'stdin is empty' : 'the job file is empty',
    });
    throw problems.error(opts.name);
  }
  // Before parsing: nothing after it (schema, locations, hashing, a worker's structured clone) need descend
  // further than this.
  const deep = tooDeepAt(text);
  if (deep !== -1) {
    const [line, column] = lineColumn(text, deep);
    problems.add({ where: `${opts.name}:${line}:${column}`, message: depthMessage() });
    throw problems.error(opts.name);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    problems.add(syntaxProblem(text, origin, e));
    throw problems.error(opts.name);
  }
  const rootIsArray = Array.isArray(doc);
  const display = (at: Segment[]) => (rootIsArray ? formatPath(at, 'jobs') : formatPath(at));
  // Located by their own scan; reported with every other problem of the file.
  const duplicates: JobFileProblem[] = duplicateKeys(text, doc, origin).map((d) => ({
    where: d.where,
    path: display(d.at),
    message: duplicateMessage(d),
  }));
  const issues: Issue[] = checkFile(doc);
  const prefix: Segment[] = rootIsArray ? [] : ['jobs'];
  const list: unknown[] = rootIsArray
    ? (doc as unknown[])
    : isPlainObject(doc) && Array.isArray(doc.jobs)
      ? doc.jobs
      : [];
  const defaults = isPlainObject(doc) && isPlainObject(doc.defaults) ? doc.defaults : undefined;
  if (defaults) issues.push(...defaultsIssues(defaults, ['defaults']));
  list.forEach((raw, i) => issues.push(...jobIssues(raw, [...prefix, i])));
  // Jobs with problems of their own fields (not built below).
  const bad = new Set(issues.filter((x) => x.at.length > prefix.length).map((x) => x.at[prefix.length]));
  const fileLevel = issues.some((x) => x.at.length <= prefix.length || x.at[0] === 'defaults');
  // Every problem at once: a job with another problem still has its id and its `after` checked, when those are
  // valid themselves (an invalid one is its own problem).
  const ids = new IdRegistry();
  list.forEach((raw, i) => {
    const id = checkableId(raw);
    if (id === null) return;
    const first = ids.add(i, id);
    if (first !== undefined) {
      const idAt = (k: number, has: boolean): Segment[] => [...prefix, k, ...(has ? ['id'] : [])];
      issues.push({
        at: idAt(i, id !== undefined),
        message: `duplicate id "${redactId(id ?? String(i + 1))}"`,
        first: { at: idAt(first, explicitId(list[first]) !== undefined), path: `jobs[${first}]` },
      });
    }
  });
  issues.push(...afterIssues(list, prefix, defaults));
  const fail = () => {
    const located = !issues.length
      ? []
      : (text.length > LOCATE_BY_JOB && locateByJob(text, origin, issues, display, prefix)) ||
        locateIssues(text, origin, issues, display);
    for (const p of sortByLocation([...duplicates, ...located])) problems.add(p);
    return problems.error(opts.name);
  };
  // Jobs whose own fields are all valid are built, and their destinations compared, even when other jobs have
  // problems; a problem outside the jobs (`defaults`, the document) leaves nothing to build them with.
  const env = fileLevel ? undefined : sharedEnv(defaults);
  const jobs: Job[] = [];
  const places = new Destinations(opts.own);
  const built = new Map<number, Job>();
  if (!fileLevel)
    list.forEach((raw, i) => {
      if (bad.has(i)) return;
      const job = buildJob(raw, i, opts.baseDir, defaults, env);
      jobs.push(job);
      built.set(i, job);
      issues.push(...builtJobIssues(job, [...prefix, i]));
      const clash = places.add(job);
      if (!clash) return;
      const toAt = (j: Job): Segment[] => [...prefix, j.index, j.kind, 'to'];
      const first = clash.first;
      issues.push({
        at: toAt(job),
        message: clash.message,
        ...(first !== undefined && {
          first: { at: toAt(built.get(first)!), path: display([...prefix, first]) },
        }),
      });
    });
  if (issues.length || duplicates.length) throw fail();
  return jobs;
}

/** Past this many characters, a document's problems are located job by job (see jobSpans). */
const LOCATE_BY_JOB = 1024 * 1024;

/**
 * Locates issues that are all inside jobs (their own, and the job a duplicate points at) by parsing only those
 * jobs' text; undefined when one is elsewhere (defaults, the root) or a job's text is not found.
 */
function locateByJob(
  text: string,
  origin: Origin,
  issues: Issue[],
  display: (at: Segment[]) => string,
  prefix: Segment[],
): JobFileProblem[] | undefined {
  const k = prefix.length;
  const jobOf = (at: Segment[]): number | undefined =>
    at.length > k && typeof at[k] === 'number' && (k === 0 || at[0] === prefix[0]) ? at[k] : undefined;
  const need = new Set<number>();
  for (const i of issues) {
    for (const at of [i.locateAt ?? i.at, i.at, ...(i.first ? [i.first.at] : [])]) {
      const j = jobOf(at);
      if (j === undefined) return undefined;
      need.add(j);
    }
  }
  const spans = jobSpans(text, k === 0, need);
  if (spans.size < need.size) return undefined;
  const starts = lineColumns(
    text,
    [...spans.values()].map((s) => s[0]),
  );
  const part = (j: number): { slice: string; at: Origin } => {
    const [s, e] = spans.get(j)!;
    const [line, column] = starts.get(s)!;
    return {
      slice: text.slice(s, e),
      at: {
        name: origin.name,
        line: origin.line + line - 1,
        column: line === 1 ? origin.column + column - 1 : column,
      },
    };
  };
  const rel = (at: Segment[] | undefined) => at?.slice(k + 1);
  const byJob = new Map<number, Issue[]>();
  for (const i of issues) {
    const j = jobOf(i.at)!;
    const r: Issue = { ...i, at: rel(i.at)! };
    if (i.locateAt) r.locateAt = rel(i.locateAt)!;
    if (i.first) {
      const f = part(jobOf(i.first.at)!);
      const where = locateIssues(f.slice, f.at, [{ at: rel(i.first.at)!, message: '' }], () => '')[0]!.where;
      r.first = { ...i.first, where };
    }
    const list = byJob.get(j) ?? [];
    list.push(r);
    byJob.set(j, list);
  }
  const out: JobFileProblem[] = [];
  for (const [j, list] of byJob) {
    const p = part(j);
    out.push(...locateIssues(p.slice, p.at, list, (at) => display([...prefix, j, ...at])));
  }
  return out;
}

function sortByLocation<T extends { where: string }>(problems: T[]): T[] {
  const key = (p: T) => {
    const m = /:(\d+):(\d+)$/.exec(p.where);
    return m ? Number(m[1]) * 1e6 + Number(m[2]) : 0;
  };
  return problems
    .map((p, i) => ({ p, i, k: key(p) }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.p);
}
