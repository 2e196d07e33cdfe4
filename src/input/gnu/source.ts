/**
 * The jobs of GNU parallel's input form (input/gnu/options.ts): the sources are read, combined
 * (input/gnu/combine.ts) and each job's arguments put into the command (input/template/, which quotes every
 * value and refuses a replacement string where a quoted word would not stay one literal word).
 *
 * A single source that is a file or stdin is read as it arrives (`find … | poolrun gzip :::: -` starts at once,
 * in bounded memory); several sources are read whole first, as GNU parallel does, to combine them.
 */
import { createReadStream } from 'node:fs';
import { UsageError } from '../../errors.js';
import { streamedSource, type JobSource } from '../source.js';
import type { Job } from '../../kinds/types.js';
import { withValues } from '../values.js';
import { rawArguments, rawPath, shownPath } from '../../util/argv.js';
import { LineTooLong, lineTooLongMessage } from '../../util/limits.js';
import { records } from '../records.js';
import { compileTemplate, expandArgs, type Template } from '../template/index.js';
import {
  combinations,
  countCombinations,
  countJobs,
  perJobArgs,
  columnsOf,
  splitColumns,
  withColumns,
  type Value,
} from './combine.js';
import { isSeparator } from './form.js';
import { isBlank } from '../blank.js';
import type { GnuInput } from './options.js';

type Spec =
  | { kind: 'values'; values: Buffer[]; linked: boolean }
  | { kind: 'file'; path: Buffer | string; shown: string; linked: boolean; named?: string };

/** The sources in order: `-a FILE`s first (as GNU parallel takes them), then those after the command. */
function specs(g: GnuInput): Spec[] {
  // A name as messages show it: control characters and bytes that are not UTF-8 escaped (argv shownPath).
  const out: Spec[] = g.argFiles.map((f) => {
    const path = rawPath(f);
    return file(path, `-a ${shownPath(path)}`, false, nameOf(path));
  });
  const words = rawArguments(g.operands);
  if (g.implicit === 'values') return [...out, { kind: 'values', values: words, linked: false }];
  if (g.implicit === 'stdin') return [...out, file('-', '<stdin>', false)];
  // GNU parallel 20221122 drops a separator that is the last word of the command line when it is the first one
  // (`-a A CMD :::` or `-a A CMD ::::`: A alone; `CMD :::` or `CMD ::::` without -a: no source, so stdin, as
  // `CMD` alone); any other `:::` with no values is a source, one empty value among others (combine.ts):
  // `-a A CMD ::: x :::`, `-a A CMD ::: ::: x`.
  if (words.length === 1 && isSeparator(words[0]!)) return out.length ? out : [file('-', '<stdin>', false)];
  // `:::: a b` is `:::: a :::: b` (and `::::+ a b` links both), as in GNU parallel.
  // A source is linked when its separator has the `+` and a source comes before it: `CMD ::::+ a b` links b to a.
  let mode: { files: boolean; plus: boolean; sep: string; named: boolean } | undefined;
  for (const w of words) {
    if (isSeparator(w)) {
      if (mode?.files && !mode.named) throw noFile(mode.sep);
      const sep = w.toString('latin1');
      mode = { files: sep.startsWith('::::'), plus: sep.endsWith('+'), sep, named: false };
      if (!mode.files) out.push({ kind: 'values', values: [], linked: mode.plus && out.length > 0 });
      continue;
    }
    const cur = out.at(-1)!;
    if (!mode!.files && cur.kind === 'values') cur.values.push(w);
    else {
      mode!.named = true;
      const path = w.equals(DASH) ? '-' : w;
      out.push(file(path, `:::: ${shownPath(w)}`, mode!.plus && out.length > 0, nameOf(path)));
    }
  }
  if (mode?.files && !mode.named) throw noFile(mode.sep);
  // With -a, GNU parallel 20221122 applies the `+` of the k-th source after the command to the k-th source of the
  // whole list, -a ones first (`-a A CMD ::: x :::+ 1` links A and x, and crosses 1): the same here.
  if (g.argFiles.length) {
    const flags = out.slice(g.argFiles.length).map((x) => x.linked);
    out.forEach((x, j) => (x.linked = j > 0 && flags[j] === true));
  }
  const stdin = out.filter((s) => s.kind === 'file' && s.path === '-');
  if (stdin.length > 1) throw new UsageError('stdin (-) can be the input of one source only, not of two');
  return out;
}

const DASH = Buffer.from('-');

const noFile = (sep: string) => new UsageError(`${sep}: expected a file name after it (- for stdin)`);

function file(path: Buffer | string, shown: string, linked: boolean, named?: string): Spec {
  return { kind: 'file', path, shown: path === '-' ? '<stdin>' : shown, linked, ...(named ? { named } : {}) };
}

const nameOf = (path: Buffer | string): string => (typeof path === 'string' ? path : path.toString('utf8'));

/**
 * With --header, GNU parallel 20221122 (set_input_source_header) then names the first k argument places after
 * the k files given with `::::` or -a, as given (`-` for stdin; not stdin read for want of a source): `{FILE}`
 * stands for that place unless a header name took the braces first, and --results' levels carry it. The
 * places are counted from 1 whatever source they are in: `::: A B :::: f` names the first place `f`.
 */
function withFileNames(
  sources: readonly Spec[],
  labels: string[],
): { labels: string[]; names: Map<string, number> } {
  const names = nameMap(labels);
  const out = [...labels];
  let place = 0;
  for (const s of sources) {
    if (s.kind !== 'file' || s.named === undefined) continue;
    out[place++] = s.named;
    if (!names.has(s.named)) names.set(s.named, place);
  }
  return { labels: out, names };
}

export async function gnuSource(g: GnuInput, nul: boolean, skipBlank = false): Promise<JobSource> {
  const sources = specs(g);
  // -r: a value or line of only whitespace is no argument (GNU parallel's -r).
  if (skipBlank)
    for (const s of sources) if (s.kind === 'values') s.values = s.values.filter((v) => !isBlank(v));
  const read = (s: Spec & { kind: 'file' }) => lines(s, nul, skipBlank);
  const multi = sources.length > 1 || (g.perJob ?? 1) > 1 || g.colsep !== undefined;
  const valueOf = (b: Buffer): Value => (g.colsep ? splitColumns(b, g.colsep, !g.keepBlanks) : [b]);
  // A --header line's columns are names as written: GNU parallel trims values (--colsep's --trim), not names.
  const headerOf = (b: Buffer): Value => (g.colsep ? splitColumns(b, g.colsep, false) : [b]);
  const compile = (names?: Map<string, number>): Template =>
    compileTemplate(g.command, {
      multi,
      label: g.label,
      // GNU parallel's -N repeats a word holding {} once per argument (context replace); -n does not.
      context: g.perJobFlag === '-N',
      ...(names ? { names } : {}),
    });

  const only = sources.length === 1 ? sources[0]! : undefined;
  if (only?.kind === 'file') {
    // Stdin no word named (`CMD`, `CMD :::`, `--each CMD`): a terminal there is a mistake, not input to wait for.
    const unnamed =
      g.implicit === 'stdin' ||
      (g.operands.length === 1 && isSeparator(g.operands[0]!) && g.argFiles.length === 0);
    if (only.path === '-' && unnamed && process.stdin.isTTY)
      throw new UsageError(
        `${g.label} without arguments reads them from stdin, which is a terminal: pass arguments, or pipe them in`,
      );
    // Checked before anything is read: a bad command is exit 2 at once, not once input arrives.
    if (!g.header) compile();
    return streamedSource(only.shown, streamJobs(g, read(only), valueOf, headerOf, compile, [only]));
  }

  const values: Value[][] = [];
  const heads: Value[] = [];
  for (const s of sources) {
    let raw: Buffer[];
    if (s.kind === 'values') raw = s.values;
    else {
      raw = [];
      for await (const batch of read(s)) for (const b of batch) raw.push(b);
    }
    if (g.header) heads.push(raw.length ? headerOf(raw[0]!) : []);
    values.push((g.header ? raw.slice(1) : raw).map(valueOf));
  }
  let names: Map<string, number> | undefined;
  let labels: string[] | undefined;
  if (g.header) {
    const all: string[] = [];
    for (const h of heads) all.push(...headerNames(h));
    ({ labels, names } = withFileNames(sources, all));
  }
  const template = compile(names);
  const s = { values, linked: sources.map((x) => x.linked), linkAll: g.link };
  const total = countJobs(countCombinations(s), g.perJob);
  return {
    jobs:
      g.perJob === 0
        ? noArgJobs(template, combinations(s))
        : jobsOf(template, perJobArgs(combinations(s), g.perJob), 0, labels),
    total,
    name: sources[0]?.kind === 'file' ? sources[0].shown : ':::',
  };
}

/**
 * -N 0: a job per combination with every value made empty, as GNU parallel 20221122 runs it: `{}` stands for as
 * many empty values as the combination has (one per source, or per column with --colsep).
 */
function* noArgJobs(t: Template, combos: Iterable<Buffer[]>): Generator<Job> {
  let index = 0;
  for (const c of combos) yield job(t, [], index++, Math.max(1, c.length));
}

function* jobsOf(t: Template, args: Iterable<Buffer[]>, none: number, names?: string[]): Generator<Job> {
  let index = 0;
  for (const a of args) yield job(t, a, index++, none, names);
}

/** A header line's columns as names: without the CR of a CRLF line (GNU parallel's `s/\r$//` of the line). */
function headerNames(columns: Buffer[]): string[] {
  return columns.map((n, k) => {
    const name = n.toString('utf8');
    return k === columns.length - 1 ? name.replace(/\r$/, '') : name;
  });
}

/** `names`: with --header, each argument position's name; the values ride along for --tag and --results. */
function job(t: Template, args: Buffer[], index: number, none = 0, names?: string[]): Job {
  const made: Job = { id: String(index + 1), index, kind: 'run', run: expandArgs(t, args, index + 1, none) };
  // -N 0: the values are there, made empty (GNU's --tag then prints as many empty values).
  const values = none ? Array.from({ length: none }, () => Buffer.alloc(0)) : args;
  // Each value is named by its place in its combination (-N: `1 2 1 2`), as GNU names --results' levels.
  const cols = none ? undefined : columnsOf(args);
  const label = (k: number): string => {
    const c = cols?.[k] ?? k + 1;
    return names?.[c - 1] ?? String(c);
  };
  return withValues(made, values, names || cols ? values.map((_, k) => label(k)) : undefined, cols);
}

/**
 * --header's names, each to its place (1-based); a name given twice stands for its first place, as in GNU parallel
 * (which replaces `{name}` in the command when it reads the first).
 */
function nameMap(labels: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  labels.forEach((n, k) => {
    if (!out.has(n)) out.set(n, k + 1);
  });
  return out;
}

async function* streamJobs(
  g: GnuInput,
  input: AsyncIterable<Buffer[]>,
  valueOf: (b: Buffer) => Value,
  headerOf: (b: Buffer) => Value,
  compile: (names?: Map<string, number>) => Template,
  sources: readonly Spec[],
): AsyncGenerator<Job[]> {
  let template: Template | undefined = g.header ? undefined : compile();
  let names: string[] | undefined;
  let index = 0;
  const per = g.perJob;
  let group: Buffer[] = [];
  let cols: number[] = [];
  let inGroup = 0;
  for await (const batch of input) {
    const jobs: Job[] = [];
    for (const b of batch) {
      if (!template) {
        const named = withFileNames(sources, headerNames(headerOf(b)));
        names = named.labels;
        template = compile(named.names);
        continue;
      }
      const v = valueOf(b);
      if (per === undefined) jobs.push(job(template, v, index++, 0, names));
      else if (per === 0) jobs.push(job(template, [], index++, Math.max(1, v.length)));
      else {
        group.push(...v);
        v.forEach((_, k) => cols.push(k + 1));
        if (++inGroup === per) {
          jobs.push(job(template, withColumns(group, cols), index++, 0, names));
          group = [];
          cols = [];
          inGroup = 0;
        }
      }
    }
    if (jobs.length) yield jobs;
  }
  if (inGroup > 0 && template) yield [job(template, withColumns(group, cols), index++, 0, names)];
  // A header and nothing else: the command is still checked.
  if (!template) compile(new Map());
}

/** A file's (or stdin's) values, a batch at a time: lines, or NUL-separated items with -0. */
async function* lines(
  s: Spec & { kind: 'file' },
  nul: boolean,
  skipBlank: boolean,
): AsyncGenerator<Buffer[]> {
  const input: AsyncIterable<Buffer> =
    s.path === '-' ? (process.stdin as AsyncIterable<Buffer>) : createReadStream(s.path);
  const it = records(input, nul ? 0 : 0x0a);
  for (;;) {
    let next: IteratorResult<{ first: number; items: Buffer[] }>;
    try {
      next = await it.next();
    } catch (e) {
      if (e instanceof LineTooLong)
        throw new UsageError(`${s.shown}:${e.line}: ${lineTooLongMessage(e.limit, nul ? 'item' : 'line')}`);
      const err = e as NodeJS.ErrnoException;
      if (err.code) throw new UsageError(`${s.shown}: cannot read it: ${readError(err)}`);
      throw e;
    }
    if (next.done) return;
    const { first, items } = next.value;
    if (!nul)
      items.forEach((item, k) => {
        const zero = item.indexOf(0);
        if (zero !== -1)
          throw new UsageError(
            `${s.shown}:${first + k}:${item.subarray(0, zero).toString('utf8').length + 1}: a NUL byte in a ` +
              'line: a command argument cannot hold one (for NUL-separated input use -0)',
          );
      });
    yield skipBlank ? items.filter((b) => !isBlank(b)) : items;
  }
}

function readError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder';
    default:
      return e.code ?? e.message;
  }
}

/** The files the sources read (`-a FILE`, `:::: FILE`; `-` is stdin), as messages show them. */
export function inputFiles(g: GnuInput): { path: Buffer | string; shown: string }[] {
  return specs(g)
    .filter((s): s is Spec & { kind: 'file' } => s.kind === 'file')
    .map((s) => ({ path: s.path, shown: s.shown }));
}
