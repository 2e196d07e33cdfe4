/**
 * Turns one job as written (a command string, or an object with one kind key) into a Job: defaults applied,
 * relative paths resolved against the job file's folder, durations in ms. What a job may look like is the
 * schema's business (schema.ts); here are only the checks a schema cannot express: that a duration is within
 * what a timer can wait, and that a URL parses.
 */
import { isAbsolute, resolve } from 'node:path';
import { argTooLong, execTooLarge } from '../util/limits.js';
import type { JobFileProblem } from '../errors.js';
import type { Job, JobAction } from '../kinds/types.js';
import { JOB_KINDS, KINDS } from '../kinds/index.js';
import { DURATION, parseDuration } from '../util/duration.js';
import { formatPath, type Issue, type Segment } from './issues.js';
import { checkJob } from './schema.js';
import { isPlainObject } from './words.js';
import { afterIds } from './after.js';

export interface NormalizeContext {
  /** Folder that relative paths resolve against. */
  baseDir: string;
  /** Where problems are reported: a file name, `file:line`, or `submit()`. */
  where: string;
  /** JSON path of this job, e.g. `jobs[3]`. */
  path: string;
  defaults?: Record<string, unknown>;
}

type Raw = Record<string, unknown>;

/**
 * Validates and converts one job given on its own (the library's `submit()`): schema, then the checks the
 * schema cannot make. Problems are appended to `problems`; undefined when there was any.
 */
export function normalizeJob(
  raw: unknown,
  index: number,
  ctx: NormalizeContext,
  problems: JobFileProblem[],
): Job | undefined {
  const issues = checkJob(raw);
  issues.push(...jobIssues(raw, []));
  for (const i of issues) {
    problems.push({ where: ctx.where, path: formatPath(i.at, ctx.path), message: i.message });
  }
  if (issues.length) return undefined;
  const job = buildJob(raw, index, ctx.baseDir, ctx.defaults);
  const large = builtJobIssues(job, []);
  for (const i of large)
    problems.push({ where: ctx.where, path: formatPath(i.at, ctx.path), message: i.message });
  return large.length ? undefined : job;
}

/** Checks of one job that the schema cannot express. Safe on any value: what is not as expected is skipped. */
export function jobIssues(raw: unknown, at: Segment[]): Issue[] {
  // A command given as a string job (a JSON array's string, a line of a lines file): exec's limit too.
  if (typeof raw === 'string') {
    const long = argTooLong(raw, 'the command');
    return long ? [{ at, message: long }] : [];
  }
  if (!isPlainObject(raw)) return [];
  const issues = [...halfPairs(raw, at), ...commonIssues(raw, at)];
  for (const k of JOB_KINDS) {
    if (!(k in raw)) continue;
    issues.push(...(KINDS[k].issues?.(raw[k], [...at, k]) ?? []));
    const noCwd = KINDS[k].noCwd;
    if (noCwd !== undefined && 'cwd' in raw)
      issues.push({
        at: [...at, 'cwd'],
        message: `${noCwd}, not a cwd: put the folder in the path (no cwd)`,
      });
    const to = isPlainObject(raw[k]) ? (raw[k] as Raw).to : undefined;
    if (typeof to === 'string' && to !== '' && NAMES_FOLDER.test(to))
      issues.push({ at: [...at, k, 'to'], message: folderTo(to) });
  }
  return issues;
}

/**
 * A `to` (copy, download) is the exact path of the result, never a folder to put it in: one that can only name a
 * folder (`out/`, `out/.`, `..`) is refused, as `cp f missing/` and `curl -o out/` fail, rather than read as a
 * file named like the folder (resolving drops the slash).
 */
const NAMES_FOLDER = /(?:^|\/)\.{0,2}$/;

function folderTo(to: string): string {
  const end = to.endsWith('/') ? '/' : to.slice(to.lastIndexOf('/'));
  return `names a folder (it ends in "${end}"): \`to\` is the exact path of the result, never a folder to put it in; give the file's name`;
}

/** Checks of `defaults` that the schema cannot express. */
export function defaultsIssues(defaults: unknown, at: Segment[]): Issue[] {
  return isPlainObject(defaults) ? [...halfPairs(defaults, at), ...commonIssues(defaults, at)] : [];
}

/**
 * Strings (and keys) holding half of a UTF-16 pair (`"\ud800"` in JSON): no character, so no text a command,
 * path or id could take; it would become U+FFFD on its way out. Reported where it is, as bytes that are not
 * UTF-8 are. Iterative: call arguments may nest deep.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether any string or key in `raw` holds a lone surrogate: a walk with no path kept, for every job read. */
function anyHalfPair(raw: unknown): boolean {
  const todo: unknown[] = [raw];
  while (todo.length) {
    const v = todo.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) todo.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const k in v) {
        if (LONE_SURROGATE.test(k)) return true;
        todo.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return false;
}

function halfPairs(raw: unknown, at: Segment[]): Issue[] {
  // The paths are built only for a job that has one (a million JSONL jobs would each allocate one per value).
  if (!anyHalfPair(raw)) return [];
  const out: Issue[] = [];
  const message =
    'holds half of a UTF-16 surrogate pair (a lone \\ud800–\\udfff escape), which is no character: write the character, or both halves';
  const todo: Array<[unknown, Segment[]]> = [[raw, at]];
  while (todo.length && out.length < 20) {
    const [v, path] = todo.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) out.push({ at: path, message });
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => todo.push([x, [...path, i]]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) out.push({ at: path, message: `a key ${message}` });
        todo.push([x, [...path, k]]);
      }
    }
  }
  return out;
}

function commonIssues(raw: Raw, at: Segment[]): Issue[] {
  const issues = execStringIssues(raw, at);
  const t = raw.timeout;
  // Numbers are bounded by the schema; a string's value is only known once its unit is applied.
  // A text of the schema's duration pattern: a duration, maybe out of range (parseDuration says undefined).
  // A number of seconds below a millisecond is no limit a timer can keep (it fired at once: "timed out after 0ms").
  if (typeof t === 'number' && t > 0 && t < 0.001)
    issues.push({ at: [...at, 'timeout'], message: `expected a duration from 1ms to 24.8 days, got ${t}` });
  if (typeof t === 'string' && DURATION.test(t)) {
    const ms = parseDuration(t);
    if (!ms) {
      issues.push({
        at: [...at, 'timeout'],
        message: `expected a duration from 1ms to 24.8 days, got ${JSON.stringify(t)}`,
      });
    }
  }
  return issues;
}

/**
 * What a shell job hands exec, each string within Linux's limit for one (a longer one failed the job with E2BIG
 * at run time, after other jobs had run): its id (POOLRUN_JOB_ID), each `env` entry, its command or argv words.
 */
function execStringIssues(raw: Raw, at: Segment[]): Issue[] {
  const issues: Issue[] = [];
  const add = (where: Segment[], problem: string | undefined) => {
    if (problem) issues.push({ at: where, message: problem });
  };
  if (typeof raw.id === 'string')
    add([...at, 'id'], argTooLong(raw.id, 'the id, as POOLRUN_JOB_ID', 'POOLRUN_JOB_ID='));
  if (isPlainObject(raw.env))
    for (const [k, v] of Object.entries(raw.env))
      if (typeof v === 'string') add([...at, 'env', k], argTooLong(v, 'the entry', `${k}=`));
  if (typeof raw.run === 'string') add([...at, 'run'], argTooLong(raw.run, 'the command'));
  else if (Array.isArray(raw.run))
    raw.run.forEach((w, k) => typeof w === 'string' && add([...at, 'run', k], argTooLong(w, 'the word')));
  return issues;
}

/**
 * A built shell job whose command and environment (with `defaults.env` and poolrun's own) are more than exec takes
 * together, each string within its own limit (execStringIssues): reported at its `env`, or its command, before
 * anything runs, not a job failing with E2BIG later.
 */
export function builtJobIssues(job: Job, at: Segment[]): Issue[] {
  if (job.kind !== 'run') return [];
  const argv = typeof job.run === 'string' ? ['/bin/sh', '-c', '--', job.run] : job.run;
  const problem = execTooLarge([...argv, `POOLRUN_JOB_ID=${job.id}`], job.env);
  return problem ? [{ at: [...at, job.env ? 'env' : 'run'], message: problem }] : [];
}

/** The id a job sets itself, as a string; undefined when it takes its position. */
export function explicitId(raw: unknown): string | undefined {
  if (!isPlainObject(raw)) return undefined;
  const id = raw.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/**
 * `defaults.env` as the one object every job shares (frozen: no job can change it for the others): as is, by a
 * job without an `env` of its own; under its own, merged when it is read (see mergedLater). A big environment
 * times many jobs is then one environment, not one per job.
 */
export function sharedEnv(defaults: Raw | undefined): Readonly<Record<string, string>> | undefined {
  return defaults && isPlainObject(defaults.env)
    ? Object.freeze({ ...(defaults.env as Record<string, string>) })
    : undefined;
}

/**
 * Converts a job that passed the schema and the checks above. `env` is sharedEnv(defaults), made once by a
 * caller that builds many jobs; a job's own `env` is merged over it.
 */
export function buildJob(
  raw: unknown,
  index: number,
  baseDir: string,
  defaults?: Raw,
  env = sharedEnv(defaults),
): Job {
  const obj: Raw = typeof raw === 'string' ? { run: raw } : (raw as Raw);
  const d = defaults ?? {};
  const pick = (k: string): unknown => (k in obj ? obj[k] : d[k]);

  const job = { id: explicitId(obj) ?? String(index + 1), index } as Job;
  const cwd = pick('cwd');
  if (typeof cwd === 'string') job.cwd = resolveFrom(baseDir, cwd);
  if (isPlainObject(obj.env)) {
    const own = obj.env as Record<string, string>;
    if (env) mergedLater(job, env, own);
    else job.env = own;
  } else if (env) job.env = env;
  const timeout = pick('timeout');
  if (typeof timeout === 'string' || typeof timeout === 'number') job.timeoutMs = parseDuration(timeout)!;
  else if (timeout === null) job.noTimeout = true;
  const retries = pick('retries');
  if (typeof retries === 'number') job.retries = retries;
  // Its own `after`, else the defaults' (`"after": []`: it waits for nothing, whatever the defaults say).
  const after = afterIds(obj) ?? afterIds(d);
  if (after?.length) job.after = after;
  return Object.assign(job, action(obj, baseDir));
}

/**
 * `job.env` of a job with an `env` of its own over shared defaults: merged when it is read (when the job runs,
 * is hashed for the joblog, or is copied to a worker, which reads it too), so the job holds two references, not
 * a copy of the defaults. Enumerable, so a spread, JSON and structured clone see a plain merged object; setting
 * it makes it a plain property.
 */
function mergedLater(job: Job, shared: Readonly<Record<string, string>>, own: Record<string, string>): void {
  Object.defineProperty(job, 'env', {
    enumerable: true,
    configurable: true,
    get: (): Record<string, string> => ({ ...shared, ...own }),
    set(this: Job, value: Record<string, string> | undefined) {
      Object.defineProperty(this, 'env', { value, enumerable: true, configurable: true, writable: true });
    },
  });
}

function action(obj: Raw, baseDir: string): JobAction {
  const kind = JOB_KINDS.find((k) => k in obj)!;
  return KINDS[kind].normalize(obj[kind], (p) => resolveFrom(baseDir, p));
}

export function resolveFrom(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}
