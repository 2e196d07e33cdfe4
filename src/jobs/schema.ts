/**
 * The job-file schema (schema/jobs.schema.json) at run time. The validators are ajv's standalone code,
 * generated from the schema at build time (scripts/build-validator.mjs), so a valid file costs no schema
 * compilation. Failures become issues whose messages are written from the schema's own descriptions.
 */
import { validateFile, validateJob, type SchemaError } from './schema-validator.js';
import type { Issue, Segment } from './issues.js';
import { redactUrl } from '../util/redact.js';
import { JOB_KINDS } from '../kinds/index.js';
import { didYouMean, isPlainObject, typeName } from './words.js';

/**
 * Schema problems of a whole job file (an array, or `{ defaults, jobs }`). The jobs are validated one at a time
 * (the file's schema gives each the job schema, so the errors are the same): ajv's validator of the whole file
 * gathers the errors of all its jobs in one list, which took 5 s for 20,000 bad jobs and grew with their square.
 */
export function checkFile(doc: unknown): Issue[] {
  const list = Array.isArray(doc)
    ? doc
    : isPlainObject(doc) && Array.isArray(doc.jobs)
      ? doc.jobs
      : undefined;
  if (!list || list.length === 0) return validateFile(doc) ? [] : toIssues(validateFile.errors ?? [], doc);
  // The file without its jobs (one valid job stands in for them), then each job.
  const rest = Array.isArray(doc) ? ['true'] : { ...(doc as Record<string, unknown>), jobs: ['true'] };
  const issues = validateFile(rest) ? [] : toIssues(validateFile.errors ?? [], rest);
  const prefix: Segment[] = Array.isArray(doc) ? [] : ['jobs'];
  let bad = 0;
  for (let i = 0; i < list.length; i++) {
    if (validateJob(list[i])) continue;
    if (issues.length >= MAX_ISSUES) {
      bad++;
      continue;
    }
    for (const x of toIssues(validateJob.errors ?? [], list[i])) {
      const at = [...prefix, i];
      const issue: Issue = { ...x, at: [...at, ...x.at] };
      if (x.locateAt) issue.locateAt = [...at, ...x.locateAt];
      issues.push(issue);
    }
  }
  if (bad)
    issues.push({ at: [], message: `and ${bad} more jobs with schema errors, not checked one by one` });
  return issues;
}

/** Schema problems of one job (a JSONL line, or a job given to the library). */
export function checkJob(job: unknown): Issue[] {
  return validateJob(job) ? [] : toIssues(validateJob.errors ?? [], job);
}

/** Schema errors worded one by one; past this many the rest are counted (a user reads the first few). */
const MAX_ISSUES = 1000;

function toIssues(errors: SchemaError[], root: unknown): Issue[] {
  // Keep the errors that say something to a user: a wrong type hides what else failed at the same place;
  // `if`/`then` and the branches of "exactly one kind" are implementation details of the schema.
  const typed = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (let n = 0; n < errors.length; n++) {
    const e = errors[n]!;
    if (issues.length === MAX_ISSUES) {
      // A job of 200,000 unknown keys has as many errors: worded and located, they took many seconds.
      issues.push({ at: [], message: `and ${errors.length - n} more schema errors, not checked one by one` });
      break;
    }
    if (e.keyword === 'if') continue;
    if (/\/(oneOf|propertyNames)\//.test(e.schemaPath)) continue;
    if (typed.has(e.instancePath) && e.keyword !== 'type') continue;
    const issue = toIssue(e, pointerSegments(e.instancePath, root));
    const key = `${JSON.stringify(issue.at)}\0${issue.message}`;
    if (e.keyword === 'type' && seen.has(`${e.instancePath}\0type`)) continue;
    if (seen.has(key)) continue;
    seen.add(key);
    if (e.keyword === 'type') seen.add(`${e.instancePath}\0type`);
    issues.push(issue);
  }
  return issues;
}

function toIssue(e: SchemaError, at: Segment[]): Issue {
  const ps = e.parentSchema ?? {};
  const wanted = ps.description ?? typeWords(e.params.type);
  // A URL is shown without its secrets, whether it parses or not (a message quotes the value).
  const data = at[at.length - 1] === 'url' && typeof e.data === 'string' ? redactUrl(e.data) : e.data;
  switch (e.keyword) {
    case 'type':
      return { at, message: `expected ${wanted}, got ${typeName(data)}` };
    case 'required': {
      const missing = String(e.params.missingProperty);
      return { at: [...at, missing], locateAt: at, message: `"${missing}" is required` };
    }
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const allowed = Object.keys(ps.properties ?? {});
      // A long key is no typo of a short one (and its edit distance costs its length times theirs).
      // A default `id` would give every job the same one: ids are unique.
      if (key === 'id' && at.length === 1 && at[0] === 'defaults')
        return {
          at: [...at, key],
          key: true,
          message: 'unknown key "id": ids are unique, so "id" has no default',
        };
      const guess = key.length <= 64 ? didYouMean(key, allowed) : '';
      const hint = guess || ` (expected one of ${allowed.map((k) => `"${k}"`).join(', ')})`;
      return { at: [...at, key], key: true, message: `unknown key "${key}"${hint}` };
    }
    case 'propertyNames': {
      const name = String(e.params.propertyName);
      const what = ps.propertyNames?.description ?? 'a valid key';
      return {
        at: [...at, name],
        key: true,
        // The reason first: a key holding `NAME=secret` is masked up to its closing quote, which ends the line.
        message: `expected ${what}, got the key ${JSON.stringify(name)}`,
      };
    }
    case 'oneOf': {
      const found = data !== null && typeof data === 'object' ? JOB_KINDS.filter((k) => k in data) : [];
      const kinds = JOB_KINDS.map((k) => `"${k}"`).join(', ');
      return {
        at,
        message: `a job needs exactly one of ${kinds}; found ${found.length ? found.map((k) => `"${k}"`).join(' and ') : 'none'}`,
      };
    }
    case 'minItems':
      if (ps.description === 'an array of jobs') return { at, message: 'the job file holds no jobs' };
      return { at, message: `expected ${wanted}, got an empty array` };
    case 'minLength':
      return { at, message: `expected ${wanted}, got an empty string` };
    case 'pattern':
      if (ps.description === 'text without NUL characters')
        return { at, message: 'cannot contain a NUL character' };
      return { at, message: `expected ${wanted}, got ${typeName(data)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { at, message: `expected ${wanted}, got ${typeName(data)}` };
    default:
      return { at, message: `expected ${wanted} (schema keyword "${e.keyword}")` };
  }
}

function typeWords(type: unknown): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    integer: 'an integer',
    boolean: 'true or false',
    object: 'an object',
    array: 'an array',
    null: 'null',
  };
  const list = Array.isArray(type) ? type : [type];
  return list.map((t) => names[String(t)] ?? String(t)).join(' or ');
}

/** `/jobs/3/run` → ['jobs', 3, 'run'], numbers where the value is an array. */
function pointerSegments(pointer: string, root: unknown): Segment[] {
  if (pointer === '') return [];
  const out: Segment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push(Number(part));
      node = node[Number(part)];
    } else {
      out.push(part);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    }
  }
  return out;
}
