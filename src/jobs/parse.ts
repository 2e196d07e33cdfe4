/**
 * Reads a job file: a JSON array, a `{ defaults, jobs }` document, JSONL (one job per line), or plain lines
 * (one shell command per line, `#` comments). Every problem is collected; a file with any problem runs nothing.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { JobFileError, UsageError, type JobFileProblem } from '../errors.js';
import type { Job } from './types.js';
import { isPlainObject, normalizeJob, typeName, didYouMean } from './normalize.js';

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

/** The §1 rule for stdin and unknown extensions: `[` JSON; `{` JSONL if the first line is a whole object; else lines. */
export function sniffFormat(text: string): InputFormat {
  const t = text.replace(/^\uFEFF/, '').trimStart();
  if (t.startsWith('[')) return 'json';
  if (t.startsWith('{')) {
    const firstLine = t.split('\n', 1)[0]!;
    try {
      return isPlainObject(JSON.parse(firstLine)) ? 'jsonl' : 'json';
    } catch {
      return 'json';
    }
  }
  return 'lines';
}

export async function readJobFile(file: string, format?: InputFormat): Promise<ParsedJobs> {
  const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(
      e.code === 'ENOENT' ? `job file not found: ${file}` : `cannot read job file ${file}: ${e.message}`,
    );
  });
  if (st.isDirectory()) throw new UsageError(`job file is a directory: ${file}`);
  const text = await readFile(file, 'utf8').catch((e: Error) => {
    throw new UsageError(`cannot read job file ${file}: ${e.message}`);
  });
  return parseJobText(text, { name: file, baseDir: dirname(resolve(file)), format });
}

export interface ParseOptions {
  /** Shown in messages. */
  name: string;
  baseDir: string;
  format?: InputFormat | undefined;
}

export function parseJobText(text: string, opts: ParseOptions): ParsedJobs {
  const format = opts.format ?? sniffFormat(text);
  const problems: JobFileProblem[] = [];
  let jobs: Job[];
  switch (format) {
    case 'json':
      jobs = parseJsonDocument(text, opts, problems);
      break;
    case 'jsonl':
      jobs = parseJsonLines(text, opts, problems);
      break;
    case 'lines':
      jobs = parseLines(text, opts, problems);
      break;
  }
  if (problems.length === 0 && jobs.length === 0) {
    problems.push({ where: opts.name, message: 'the job file holds no jobs' });
  }
  checkDuplicateIds(jobs, opts.name, problems);
  if (problems.length) throw new JobFileError(problems);
  return { jobs, format };
}

function parseJsonDocument(text: string, opts: ParseOptions, problems: JobFileProblem[]): Job[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    problems.push({ where: opts.name, message: `not valid JSON: ${(e as Error).message}` });
    return [];
  }
  let list: unknown;
  let defaults: Record<string, unknown> | undefined;
  // Jobs are named jobs[i] whichever of the two shapes the file has, as users read them in messages.
  const prefix = 'jobs';
  if (Array.isArray(doc)) list = doc;
  else if (isPlainObject(doc)) {
    for (const key of Object.keys(doc)) {
      if (!['$schema', 'defaults', 'jobs'].includes(key)) {
        problems.push({
          where: opts.name,
          path: key,
          message: `unknown key "${key}"${didYouMean(key, ['jobs', 'defaults'])}`,
        });
      }
    }
    if (doc.defaults !== undefined) {
      if (!isPlainObject(doc.defaults)) {
        problems.push({
          where: opts.name,
          path: 'defaults',
          message: `expected an object, got ${typeName(doc.defaults)}`,
        });
      } else {
        defaults = doc.defaults;
        const allowed = ['cwd', 'env', 'timeout', 'retries'];
        for (const key of Object.keys(defaults)) {
          if (!allowed.includes(key)) {
            problems.push({
              where: opts.name,
              path: `defaults.${key}`,
              message: `not allowed in defaults${didYouMean(key, allowed)}`,
            });
          }
        }
      }
    }
    list = doc.jobs;
    if (list === undefined) {
      problems.push({ where: opts.name, message: 'expected a "jobs" array' });
      return [];
    }
  } else {
    problems.push({
      where: opts.name,
      message: `expected a JSON array of jobs or { "jobs": [...] }, got ${typeName(doc)}`,
    });
    return [];
  }
  if (!Array.isArray(list)) {
    problems.push({
      where: opts.name,
      path: prefix,
      message: `expected an array of jobs, got ${typeName(list)}`,
    });
    return [];
  }
  const jobs: Job[] = [];
  list.forEach((raw, i) => {
    const ctx = {
      baseDir: opts.baseDir,
      where: opts.name,
      path: `${prefix}[${i}]`,
      ...(defaults ? { defaults } : {}),
    };
    const job = normalizeJob(raw, i, ctx, problems);
    if (job) jobs.push(job);
  });
  return jobs;
}

function parseJsonLines(text: string, opts: ParseOptions, problems: JobFileProblem[]): Job[] {
  const jobs: Job[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  let index = 0;
  lines.forEach((line, n) => {
    if (line.trim() === '') return;
    const where = `${opts.name}:${n + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      problems.push({ where, message: `not valid JSON: ${(e as Error).message}` });
      index++;
      return;
    }
    const job = normalizeJob(raw, index, { baseDir: opts.baseDir, where, path: `line ${n + 1}` }, problems);
    index++;
    if (job) jobs.push(job);
  });
  return jobs;
}

function parseLines(text: string, opts: ParseOptions, problems: JobFileProblem[]): Job[] {
  const jobs: Job[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((line, n) => {
      const cmd = line.replace(/\r$/, '');
      if (cmd.trim() === '' || cmd.trimStart().startsWith('#')) return;
      const job = normalizeJob(
        cmd,
        jobs.length,
        { baseDir: opts.baseDir, where: `${opts.name}:${n + 1}`, path: `line ${n + 1}` },
        problems,
      );
      if (job) jobs.push(job);
    });
  return jobs;
}

function checkDuplicateIds(jobs: Job[], where: string, problems: JobFileProblem[]): void {
  const seen = new Map<string, number>();
  for (const j of jobs) {
    const first = seen.get(j.id);
    if (first !== undefined) {
      problems.push({
        where,
        path: `jobs[${j.index}].id`,
        message: `duplicate id "${j.id}" (first used by jobs[${first}])`,
      });
    } else seen.set(j.id, j.index);
  }
}
