/**
 * Turns one job as written (a string, or an object with one kind key) into a Job: defaults applied, relative
 * paths resolved against the job file's folder, durations in ms. Problems are collected, not thrown, so a
 * file reports all of them at once.
 */
import { isAbsolute, resolve } from 'node:path';
import type { JobFileProblem } from '../errors.js';
import type { CallSpec, CopySpec, DownloadSpec, Job, JobAction } from './types.js';
import { JOB_KINDS } from './types.js';
import { parseDuration } from '../util/duration.js';

export interface NormalizeContext {
  /** Folder that relative paths resolve against. */
  baseDir: string;
  /** Where problems are reported: a file name, `file:line`, or `submit()`. */
  where: string;
  /** JSON path of this job, e.g. `jobs[3]`. */
  path: string;
  defaults?: Record<string, unknown>;
}

const COMMON = ['id', 'cwd', 'env', 'timeout', 'retries'] as const;
const ALL_KEYS = new Set<string>([...JOB_KINDS, ...COMMON]);
const MAX_RETRIES = 1000;

type Problems = JobFileProblem[];

export function normalizeJob(
  raw: unknown,
  index: number,
  ctx: NormalizeContext,
  problems: Problems,
): Job | undefined {
  const before = problems.length;
  const add = (path: string, message: string) => problems.push({ where: ctx.where, path, message });
  const obj: Record<string, unknown> | undefined =
    typeof raw === 'string' ? { run: raw } : isPlainObject(raw) ? raw : undefined;
  if (!obj) {
    add(
      ctx.path,
      `expected a job (a command string or an object with one of ${kindList()}), got ${typeName(raw)}`,
    );
    return undefined;
  }
  for (const key of Object.keys(obj)) {
    if (!ALL_KEYS.has(key))
      add(`${ctx.path}.${key}`, `unknown key "${key}"${didYouMean(key, [...ALL_KEYS])}`);
  }
  const kinds = JOB_KINDS.filter((k) => k in obj);
  if (kinds.length === 0) add(ctx.path, `a job needs exactly one of ${kindList()}; found none`);
  if (kinds.length > 1)
    add(ctx.path, `a job needs exactly one of ${kindList()}; found ${kinds.join(' and ')}`);

  const d = ctx.defaults ?? {};
  const pick = (k: (typeof COMMON)[number]): [unknown, string] =>
    k in obj ? [obj[k], `${ctx.path}.${k}`] : [d[k], `defaults.${k}`];

  const idRaw = obj.id;
  const idPath = `${ctx.path}.id`;
  let id = String(index + 1);
  if (idRaw !== undefined) {
    if (typeof idRaw === 'string' && idRaw.length > 0) id = idRaw;
    else if (typeof idRaw === 'number' && Number.isInteger(idRaw)) id = String(idRaw);
    else add(idPath, `expected a non-empty string, got ${typeName(idRaw)}`);
  }

  const common: Omit<Job, 'kind' | 'run' | 'copy' | 'download' | 'call'> = { id, index };
  const [cwd, cwdPath] = pick('cwd');
  if (cwd !== undefined) {
    if (typeof cwd === 'string' && cwd.length > 0) common.cwd = resolveFrom(ctx.baseDir, cwd);
    else add(cwdPath, `expected a folder path, got ${typeName(cwd)}`);
  }
  const [env, envPath] = pick('env');
  if (env !== undefined) {
    if (isPlainObject(env) && Object.values(env).every((v) => typeof v === 'string')) {
      common.env = { ...(isPlainObject(d.env) ? (d.env as Record<string, string>) : {}), ...env } as Record<
        string,
        string
      >;
    } else add(envPath, 'expected an object of string values');
  }
  const [timeout, timeoutPath] = pick('timeout');
  if (timeout !== undefined && timeout !== null) {
    const ms =
      typeof timeout === 'string' || typeof timeout === 'number' ? parseDuration(timeout) : undefined;
    if (ms === undefined || ms === 0)
      add(
        timeoutPath,
        `expected a duration such as "500ms", "30s", "2m" or a number of seconds, got ${JSON.stringify(timeout)}`,
      );
    else common.timeoutMs = ms;
  }
  const [retries, retriesPath] = pick('retries');
  if (retries !== undefined) {
    if (typeof retries === 'number' && Number.isInteger(retries) && retries >= 0 && retries <= MAX_RETRIES)
      common.retries = retries;
    else add(retriesPath, `expected an integer from 0 to ${MAX_RETRIES}, got ${JSON.stringify(retries)}`);
  }

  const kind = kinds[0];
  let action: JobAction | undefined;
  if (kinds.length === 1 && kind) {
    const p = `${ctx.path}.${kind}`;
    const v = obj[kind];
    switch (kind) {
      case 'run':
        action = normalizeRun(v, p, add);
        break;
      case 'copy':
        action = normalizeCopy(v, p, ctx.baseDir, add);
        break;
      case 'download':
        action = normalizeDownload(v, p, ctx.baseDir, add);
        break;
      case 'call':
        action = normalizeCall(v, p, ctx.baseDir, add);
        break;
    }
  }
  if (problems.length > before || !action) return undefined;
  return { ...common, ...action };
}

type Add = (path: string, message: string) => void;

function normalizeRun(v: unknown, p: string, add: Add): JobAction | undefined {
  if (typeof v === 'string') {
    if (v.trim() === '') return void add(p, 'expected a command, got an empty string');
    if (v.includes('\0')) return void add(p, 'a command cannot contain a NUL character');
    return { kind: 'run', run: v };
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return void add(p, 'expected an argv array with at least the program name');
    if (!v.every((a) => typeof a === 'string')) return void add(p, 'expected an argv array of strings');
    if (v[0] === '') return void add(`${p}[0]`, 'the program name cannot be empty');
    if (v.some((a: string) => a.includes('\0')))
      return void add(p, 'an argument cannot contain a NUL character');
    return { kind: 'run', run: v };
  }
  return void add(p, `expected a command string or an argv array, got ${typeName(v)}`);
}

function checkKeys(v: Record<string, unknown>, p: string, allowed: string[], add: Add): void {
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key)) add(`${p}.${key}`, `unknown key "${key}"${didYouMean(key, allowed)}`);
  }
}

function pathField(
  v: Record<string, unknown>,
  key: string,
  p: string,
  baseDir: string,
  add: Add,
): string | undefined {
  const x = v[key];
  if (typeof x === 'string' && x.length > 0 && !x.includes('\0')) return resolveFrom(baseDir, x);
  add(`${p}.${key}`, x === undefined ? `"${key}" is required` : `expected a path, got ${typeName(x)}`);
  return undefined;
}

function boolField(v: Record<string, unknown>, key: string, p: string, add: Add): boolean {
  const x = v[key];
  if (x === undefined) return false;
  if (typeof x === 'boolean') return x;
  add(`${p}.${key}`, `expected true or false, got ${typeName(x)}`);
  return false;
}

function normalizeCopy(v: unknown, p: string, baseDir: string, add: Add): JobAction | undefined {
  if (!isPlainObject(v)) return void add(p, `expected { "from", "to", "overwrite"? }, got ${typeName(v)}`);
  checkKeys(v, p, ['from', 'to', 'overwrite'], add);
  const from = pathField(v, 'from', p, baseDir, add);
  const to = pathField(v, 'to', p, baseDir, add);
  const overwrite = boolField(v, 'overwrite', p, add);
  if (from === undefined || to === undefined) return undefined;
  const copy: CopySpec = { from, to, overwrite };
  return { kind: 'copy', copy };
}

function normalizeDownload(v: unknown, p: string, baseDir: string, add: Add): JobAction | undefined {
  if (!isPlainObject(v))
    return void add(p, `expected { "url", "to", "sha256"?, "overwrite"? }, got ${typeName(v)}`);
  checkKeys(v, p, ['url', 'to', 'sha256', 'overwrite', 'headers'], add);
  let url: string | undefined;
  if (typeof v.url !== 'string')
    add(`${p}.url`, v.url === undefined ? '"url" is required' : `expected a URL, got ${typeName(v.url)}`);
  else {
    let parsed: URL | undefined;
    try {
      parsed = new URL(v.url);
    } catch {
      add(`${p}.url`, `not a valid URL: ${JSON.stringify(v.url)}`);
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      add(`${p}.url`, `only http and https URLs are supported, got "${parsed.protocol}"`);
    } else if (parsed) url = v.url;
  }
  const to = pathField(v, 'to', p, baseDir, add);
  const overwrite = boolField(v, 'overwrite', p, add);
  let sha256: string | undefined;
  if (v.sha256 !== undefined) {
    if (typeof v.sha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(v.sha256)) sha256 = v.sha256.toLowerCase();
    else add(`${p}.sha256`, 'expected 64 hexadecimal digits');
  }
  let headers: Record<string, string> | undefined;
  if (v.headers !== undefined) {
    if (isPlainObject(v.headers) && Object.values(v.headers).every((h) => typeof h === 'string')) {
      headers = v.headers as Record<string, string>;
    } else add(`${p}.headers`, 'expected an object of string values');
  }
  if (url === undefined || to === undefined) return undefined;
  const download: DownloadSpec = { url, to, overwrite };
  if (sha256) download.sha256 = sha256;
  if (headers) download.headers = headers;
  return { kind: 'download', download };
}

function normalizeCall(v: unknown, p: string, baseDir: string, add: Add): JobAction | undefined {
  if (!isPlainObject(v)) return void add(p, `expected { "module", "export", "args"? }, got ${typeName(v)}`);
  checkKeys(v, p, ['module', 'export', 'args'], add);
  let module: string | undefined;
  if (typeof v.module === 'string' && v.module.length > 0) {
    module = /^(file|data|node):/.test(v.module) ? v.module : resolveFrom(baseDir, v.module);
  } else
    add(
      `${p}.module`,
      v.module === undefined ? '"module" is required' : `expected a module path, got ${typeName(v.module)}`,
    );
  const exp = v.export ?? 'default';
  if (typeof exp !== 'string' || exp.length === 0)
    add(`${p}.export`, `expected an export name, got ${typeName(exp)}`);
  const args = v.args ?? [];
  if (!Array.isArray(args)) add(`${p}.args`, `expected an array of arguments, got ${typeName(args)}`);
  if (module === undefined || typeof exp !== 'string' || !Array.isArray(args)) return undefined;
  const call: CallSpec = { module, export: exp, args };
  return { kind: 'call', call };
}

export function resolveFrom(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)})`;
  if (typeof v === 'number') return `a number (${v})`;
  if (typeof v === 'boolean') return `a boolean (${v})`;
  return typeof v;
}

function kindList(): string {
  return JOB_KINDS.map((k) => `"${k}"`).join(', ');
}

/** "did you mean" by edit distance, for typos such as `timout` or `comand`. */
export function didYouMean(word: string, candidates: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3))
    ? ` (did you mean "${best}"?)`
    : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
