/**
 * --results DIR: GNU parallel's tree. Each job's output goes to DIR/<name1>/<value1>/<name2>/<value2>/…/ in the
 * files `seq` (the job number, no newline), `stdout` and `stderr` (what the job printed, untagged), where a
 * source's name is its number (1, 2, …) or its --header name. In a value, `\` is written `\\`, TAB `\t`, NUL `\0`
 * and `/` `\_`; a value longer than a file name may be (255 bytes) is cut, as GNU cuts it, only when the path
 * cannot be made otherwise. Like GNU, `.`, `..` and the empty value are not escaped: `DIR/1/../stdout` is
 * DIR/stdout (a path never leaves DIR: each `..` only undoes its own source's number). Files are written raw: a
 * value's bytes need not be UTF-8.
 *
 * --results NAME with a replacement string in it (`out/{}`, `{1}.txt`): NAME is expanded unquoted, as GNU's
 * --tagstring is (expand-text.ts), and the job's files are NAME, NAME.err and NAME.seq (GNU 20221122's); a NAME
 * that ends in `/` is a folder holding seq, stdout and stderr. A value's slashes make folders, as in GNU; but a
 * value never takes the files outside the folder NAME begins with (its text up to the last `/` before the first
 * replacement string, else the current folder): a `..` that climbs out of it, an absolute path where NAME begins
 * with the value, or a NAME that names no file is refused (exit 2, before the job runs; GNU would write there).
 * A symbolic link inside it that leads out is found only when the job's files are written, after it ran: nothing
 * is written through it (no folder made, no file: the files are opened with O_NOFOLLOW), with a warning.
 */
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  writeSync,
} from 'node:fs';
import { resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { mkdirsSync } from '../util/mkdirs.js';
import type { JobOutput } from '../executor/executor.js';
import type { Job, JobResult } from '../kinds/types.js';
import type { JobSource } from '../input/source.js';
import { valuesOf } from '../input/values.js';
import { replacementAt } from '../input/replacements.js';
import { expandText, hasReplacement, nameMap } from './expand-text.js';
import { redactBytes } from '../util/redact.js';

const NAME_MAX = 255;

export function escapeValue(v: Buffer): Buffer {
  const out: number[] = [];
  for (const b of v) {
    if (b === 0x5c) out.push(0x5c, 0x5c);
    else if (b === 0x09) out.push(0x5c, 0x74);
    else if (b === 0x00) out.push(0x5c, 0x30);
    else if (b === 0x2f) out.push(0x5c, 0x5f);
    else out.push(b);
  }
  return Buffer.from(out);
}

/**
 * Perl's numeric value of a name (`no warnings 'numeric'`): its leading number after blanks (`2x` is 2, `1e1` 10,
 * `.5` 0.5, `0x3` 0), `inf`/`infinity`/`nan` in any case, else 0.
 */
export function perlNumber(s: string): number {
  const m =
    /^[\t\n\v\f\r ]*([+-]?)(?:((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)|(inf(?:inity)?)|(nan))/i.exec(s);
  if (!m) return 0;
  const sign = m[1] === '-' ? -1 : 1;
  if (m[2] !== undefined) return sign * Number(m[2]);
  return m[3] !== undefined ? sign * Infinity : NaN;
}

/** GNU's header_indexes_sorted: by the names' numbers (`<=>`), then their bytes (`cmp`); equal ones keep their order. */
function byName(a: string, b: string): number {
  const x = perlNumber(a);
  const y = perlNumber(b);
  if (x < y) return -1;
  if (x > y) return 1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The order of a job's values in its --results folder, as GNU parallel 20221122 makes it: each combination's
 * values (-N puts several in a job, one after the other) sorted by their names, a --header name or the place
 * number (so numbered ones keep their order): `--header : ::: zz 1 ::: aa x` is DIR/aa/x/zz/1.
 */
export function levelOrder(names: readonly string[] | undefined, places?: readonly number[]): number[] {
  const all = Array.from({ length: names?.length ?? 0 }, (_, k) => k);
  if (!names) return all;
  const out: number[] = [];
  let group: number[] = [];
  const flush = () => out.push(...group.sort((i, j) => byName(names[i]!, names[j]!)));
  for (const k of all) {
    if (k > 0 && places && places[k]! <= places[k - 1]!) {
      flush();
      group = [];
    }
    group.push(k);
  }
  flush();
  return out;
}

/** The folder of one job's results (without the trailing slash). */
export function resultsFolder(dir: string, job: Job, cut = false): Buffer {
  const { values, names, places } = valuesOf(job);
  const parts: Buffer[] = [Buffer.from(dir)];
  const order = names ? levelOrder(names, places) : values.map((_, i) => i);
  for (const i of order) {
    // Folder names others may list: no secret (util/redact.ts), in a value nor in a level's name (a header's
    // first value, or a file's name as given with :::: or -a).
    const e = escapeValue(redactBytes(values[i]!));
    parts.push(redactBytes(Buffer.from(names?.[i] ?? String(i + 1))), cut ? e.subarray(0, NAME_MAX) : e);
  }
  const SLASH = Buffer.from('/');
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i) out.push(SLASH);
    out.push(p);
  });
  return Buffer.concat(out);
}

/**
 * Makes a job's folder of the tree. A symbolic link already inside DIR (a folder of the tree replaced by one,
 * placed by anyone) must not lead the job's files out of DIR: checked before the folders are made (mkdir would
 * follow it) and after.
 */
function makeFolder(dir: string, job: Job): Buffer {
  try {
    return mkdirsInside(dir, resultsFolder(dir, job));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENAMETOOLONG') throw e;
    return mkdirsInside(dir, resultsFolder(dir, job, true));
  }
}

/**
 * Makes `folder` and the folders above it, never through a symbolic link that leads out of `root`: checked before
 * (mkdir would follow an existing one) and after. Where the root is not there yet, nothing below it is: no link.
 */
function mkdirsInside(root: string, folder: Buffer): Buffer {
  if (existsSync(resolve(root))) inside(root, deepestExisting(folder));
  mkdirsSync(folder);
  inside(root, folder);
  return folder;
}

export interface ResultsSpec {
  /** --results' text. */
  dir: string;
  /** -N: context replace in a NAME (expand-text.ts). */
  context?: boolean | undefined;
}

/** Writes one finished job's files. A spilled stream is copied from its file (the printer removes that later). */
export function writeResults(
  spec: ResultsSpec,
  job: Job,
  result: JobResult,
  output: JobOutput | undefined,
): void {
  const names = valuesOf(job).names;
  const named = hasReplacement(spec.dir, names) ? namedResults(spec, job, result.worker) : undefined;
  let paths: Record<'seq' | 'stdout' | 'stderr', Buffer>;
  if (named) {
    const [base, folder] = named;
    mkdirsInside(rootOf(spec.dir, names), folder);
    paths =
      base.at(-1) === SLASH_BYTE
        ? { seq: file(base, 'seq'), stdout: file(base, 'stdout'), stderr: file(base, 'stderr') }
        : { seq: suffixed(base, '.seq'), stdout: base, stderr: suffixed(base, '.err') };
  } else {
    const folder = makeFolder(spec.dir, job);
    paths = { seq: file(folder, 'seq'), stdout: file(folder, 'stdout'), stderr: file(folder, 'stderr') };
  }
  writeNoFollow(paths.seq, Buffer.from(String(result.index + 1)));
  const stream = (name: 'stdout' | 'stderr', head: Buffer | undefined, spilled: string | undefined) =>
    writeNoFollow(paths[name], head ?? Buffer.alloc(0), spilled);
  stream('stdout', output?.stdout, output?.stdoutFile);
  stream('stderr', output?.stderr, output?.stderrFile);
}

const SLASH_BYTE = 0x2f;
const suffixed = (b: Buffer, s: string) => Buffer.concat([b, Buffer.from(s)]);
const file = (folder: Buffer, name: string) =>
  Buffer.concat([folder, Buffer.from(folder.at(-1) === SLASH_BYTE ? name : `/${name}`)]);

/** The folder NAME's files must stay in: its text up to the last `/` before the first replacement string. */
function rootOf(dir: string, names?: readonly string[]): string {
  const map = nameMap(names);
  let first = dir.length;
  for (let i = dir.indexOf('{'); i !== -1 && first === dir.length; i = dir.indexOf('{', i + 1))
    if (replacementAt(dir, i, map)) first = i;
  const slash = dir.lastIndexOf('/', first - 1);
  return slash === -1 ? '.' : dir.slice(0, slash + 1);
}

/**
 * A job's NAME, expanded (`slot`: its worker, 1 before it runs), and the folder its files go in; throws a
 * UsageError when a value would take them out of NAME's folder.
 */
export function namedResults(spec: ResultsSpec, job: Job, slot: number | null = 1): [Buffer, Buffer] {
  const { values, names } = valuesOf(job);
  const name = expandText(spec.dir, {
    values: values.map(redactBytes),
    names,
    seq: job.index + 1,
    slot: slot ?? 1,
    context: spec.context === true,
  });
  const root = rootOf(spec.dir, names);
  const refuse = (why: string): never => {
    throw new UsageError(
      `--results ${spec.dir}: job ${job.id} (${JSON.stringify(name.toString('utf8'))}): ${why}; a value may ` +
        `make folders inside ${root === '.' ? 'the current folder' : root} but never write outside it`,
    );
  };
  if (name.includes(0)) refuse('a NUL byte cannot be in a file name');
  // Lexically: the components after the root never climb above it.
  const text = name.toString('latin1');
  const tail = root === '.' ? text : text.slice(root.length);
  if (root === '.' && tail.startsWith('/')) refuse('it is an absolute path');
  let depth = 0;
  for (const c of tail.split('/')) {
    if (c === '..') depth--;
    else if (c !== '' && c !== '.') depth++;
    if (depth < 0) refuse('a .. climbs out of the folder');
  }
  const last = tail.split('/').at(-1)!;
  if (!text.endsWith('/') && (last === '' || last === '.' || last === '..'))
    refuse('it names no file (end NAME with / for a folder of seq, stdout, stderr)');
  const slash = name.lastIndexOf(SLASH_BYTE);
  const folder = slash === -1 ? Buffer.from('.') : name.subarray(0, slash + 1);
  return [name, folder.length ? folder : Buffer.from('/')];
}

/**
 * Writes `data` (or the spilled file's bytes) to `path`, never through a symbolic link: a link where a job's file
 * goes (placed by a value or by anyone) would write wherever it points.
 */
function writeNoFollow(path: Buffer, data: Buffer, spilled?: string): void {
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    0o666,
  );
  try {
    if (!spilled) {
      for (let off = 0; off < data.length;) off += writeSync(fd, data, off);
      return;
    }
    const from = openSync(spilled, 'r');
    try {
      const piece = Buffer.allocUnsafe(1 << 20);
      for (let n; (n = readSync(from, piece, 0, piece.length, null)) > 0;)
        for (let off = 0; off < n;) off += writeSync(fd, piece, off, n - off);
    } finally {
      closeSync(from);
    }
  } finally {
    closeSync(fd);
  }
}

/** The deepest folder of `folder`'s path that exists already (`.` or `/` at worst); bytes, not text. */
function deepestExisting(folder: Buffer): Buffer {
  let at = folder;
  while (at.length && !existsSync(at)) {
    const slash = at.subarray(0, at.at(-1) === SLASH_BYTE ? -1 : undefined).lastIndexOf(SLASH_BYTE);
    at = slash === -1 ? Buffer.from('.') : slash === 0 ? Buffer.from('/') : at.subarray(0, slash);
  }
  return at.length ? at : Buffer.from('.');
}

/** Before and after the folder is made: a symbolic link inside NAME's folder must not lead out of it. */
function inside(rootText: string, folder: Buffer | string): void {
  // In bytes: realpathSync (not .native) decodes a Buffer as UTF-8, so a name that is not (a value's bytes, or a
  // character cut at 255 bytes) was looked up under another name and never written.
  const root = realpathSync.native(resolve(rootText), { encoding: 'buffer' });
  const real = realpathSync.native(folder, { encoding: 'buffer' });
  const prefix = root.at(-1) === SLASH_BYTE ? root : Buffer.concat([root, Buffer.from(sep)]);
  if (!real.equals(root) && !real.subarray(0, prefix.length).equals(prefix))
    throw new Error(`${String(real)} is outside ${String(root)} (a symbolic link leads out): not written`);
}

/**
 * --results NAME: each job's NAME is checked as the job is read, before it runs (namedResults throws a
 * UsageError: exit 2).
 */
/**
 * Before anything runs: makes `--results`' folder (up to its first `{`, which may be a replacement string or a
 * --header name not read yet). One that cannot be made is exit 2, as GNU parallel dies at its mkdir; it was
 * a warning per job and exit 0, every job's output lost.
 */
export function prepareResultsRoot(dir: string): void {
  const brace = dir.indexOf('{');
  const root = brace === -1 ? dir : dir.slice(0, dir.lastIndexOf('/', brace) + 1) || '.';
  try {
    mkdirsSync(root);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(
      `--results ${JSON.stringify(dir)}: cannot make the folder ${JSON.stringify(root)} (${err.code ?? err.message})`,
    );
  }
}

/**
 * `--resume` with `--results` (GNU's is_already_in_results): the job left output there in an earlier run — its
 * folder's `stdout` in DIR's tree or a NAME ending in `/`, else the file NAME itself.
 */
export function alreadyInResults(spec: ResultsSpec, job: Job): boolean {
  const isFile = (p: Buffer) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (hasReplacement(spec.dir, valuesOf(job).names)) {
    let base: Buffer;
    try {
      [base] = namedResults(spec, job);
    } catch {
      return false;
    }
    return base.at(-1) === SLASH_BYTE ? existsSync(file(base, 'stdout')) : isFile(base);
  }
  return [false, true].some((cut) => existsSync(file(resultsFolder(spec.dir, job, cut), 'stdout')));
}

export function checkResultsNames(source: JobSource, spec: ResultsSpec): JobSource {
  const check = (j: Job): Job => {
    if (hasReplacement(spec.dir, valuesOf(j).names)) namedResults(spec, j);
    return j;
  };
  const out: JobSource = { ...source };
  const { jobs, batches } = source;
  if (Array.isArray(jobs)) (jobs as Job[]).forEach(check);
  else if (Symbol.asyncIterator in Object(jobs))
    out.jobs = (async function* () {
      for await (const j of jobs as AsyncIterable<Job>) yield check(j);
    })();
  else
    out.jobs = (function* () {
      for (const j of jobs as Iterable<Job>) yield check(j);
    })();
  if (batches)
    out.batches = (async function* () {
      for await (const b of batches) yield b.map(check);
    })();
  return out;
}
