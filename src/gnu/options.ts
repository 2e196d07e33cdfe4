/**
 * GNU parallel's option habits (issue 16, items 4-6), read into poolrun's terms. toRunOptions calls gnuOptions()
 * first: it turns `-j` into --workers, `--line-buffer` into --output stream, `--results F.json` into --json, reads
 * `--timeout N%` (a percentage of the median runtime: gnu/timeout.ts), and with --pipe takes the command words from the operands.
 */
import { utf8Command } from '../input/gnu/options.js';
import { UsageError } from '../errors.js';
import { hasReplacement } from './expand-text.js';
import { parseJobs } from './jobs.js';
import { checkTagstring } from './tag.js';
import { isSeparator } from '../input/gnu/form.js';

export interface GnuRawOptions {
  jobs?: string;
  keepOrder?: boolean;
  group?: boolean;
  lineBuffer?: boolean;
  /** -u/--ungroup: taken as --line-buffer (whole lines as they come; GNU's may also mix half lines). */
  ungroup?: boolean;
  willCite?: boolean;
  bar?: boolean;
  eta?: boolean;
  progress?: boolean;
  runIfEmpty?: boolean;
  shuf?: boolean;
  tag?: boolean;
  tagstring?: string;
  results?: string;
  pipe?: boolean;
  block?: string;
  recstart?: string;
  recend?: string;
  /** `-N`: with --pipe, records per block (without it, gnu-in's arguments per job). */
  maxReplaceArgs?: string;
  /** `--header :`: with --pipe, the first line is repeated at the top of every block. */
  header?: string;
  /** `-n`: with --pipe, the same as -N (GNU parallel counts records either way). */
  maxArgs?: string;
}

export interface PipeOptions {
  /** The shell command each block is piped into. */
  command: string;
  /** Bytes per block (GNU's --block; 1 MiB by default): blocks end at the first record end at or past it. */
  blockSize: number;
  /** Records per block (-N): when set, blocks are counted in records and --block is not used. */
  records?: number;
  recstart: Buffer;
  recend: Buffer;
  /** --header :: the input's first line is the header, put at the top of every block (not counted in it). */
  header?: boolean;
  /** -r: blank lines are dropped from the input before it is cut (GNU's `s/^\s*\n//gm`). */
  dropBlankLines: boolean;
}

export interface GnuOptions {
  /** --tag (true) or --tagstring STR: each output line is prefixed with the tag and a TAB. */
  tag?: true | string;
  /** --results DIR: GNU's tree DIR/1/<value>/…/{seq,stdout,stderr}; the output is not printed (as GNU). */
  resultsDir?: string;
  /** --line-buffer: stream whole lines, with no `[id] ` prefix (GNU prints them bare, or tagged). */
  lineBuffer?: boolean;
  /** -u: as --line-buffer, and the jobs' lines are never tagged (GNU ignores --tag there but in --dry-run). */
  untaggedOutput?: boolean;
  /** -k with --line-buffer: lines in input order, the oldest unfinished job's as they come (GNU's). */
  keepOrder?: boolean;
  pipe?: PipeOptions;
  /** --shuf: run the jobs in a random order (read all of them first). */
  shuf?: boolean;
  /** --timeout N%: a job is timed out past N% of the median runtime of the jobs that succeeded (gnu/timeout.ts). */
  timeoutPercent?: number;
  /** -r (without --pipe): an argument or input line of only whitespace makes no job (GNU's `/^\s*$/`). */
  skipBlank?: boolean;
  /** -N (without --pipe): GNU's context replace in --tagstring and a --results NAME (gnu/expand-text.ts). */
  context?: boolean;
}

export interface GnuRead {
  options?: GnuOptions;
  /** The operands left for the job file or --each/--call arguments. */
  args: string[];
}

/**
 * GNU's sizes (its multiply_binary_prefix): K M G T P (and Ki, ki, Mi, …) are powers of 1024; k m g t p are powers
 * of 1000 (`--block 1k` is 1000 bytes, `--block 1M` 1048576).
 */
export function gnuSize(name: string, value: string): number {
  const m = /^(\d{1,15}(?:\.\d{1,9})?)(?:([KMGTPkmgtp])(i?))?$/.exec(value.trim());
  if (m) {
    const unit = m[2] ?? '';
    const power = unit === '' ? 0 : 'kmgtp'.indexOf(unit.toLowerCase()) + 1;
    const base = unit === '' || unit === unit.toUpperCase() || m[3] ? 1024 : 1000;
    const n = Math.floor(Number(m[1]) * base ** power);
    if (n >= 1 && n <= 2 ** 31 - 1) return n;
  }
  throw new UsageError(
    `${name}: expected a size from 1 byte to 2G such as 512, 64k (64000), 64K (65536) or 1M, got "${value}"`,
  );
}

/** GNU's --recstart/--recend take backslash escapes (\n, \t, \0, \\, \xHH) as Perl strings do. */
export function unescapeRecord(name: string, value: string): Buffer {
  const out: number[] = [];
  const raw = Buffer.from(value);
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x5c || i + 1 >= raw.length) {
      out.push(c);
      continue;
    }
    const n = String.fromCharCode(raw[++i]!);
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 0x5c, a: 7, e: 27, f: 12 };
    if (n in simple) out.push(simple[n]!);
    else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      out.push(parseInt(raw.subarray(i + 1, i + 3).toString(), 16));
      i += 2;
    } else
      throw new UsageError(
        `${name}: unknown escape \\${n} in "${value}" (known: \\n \\t \\r \\0 \\\\ \\xHH)`,
      );
  }
  return Buffer.from(out);
}

/** The other options gnuOptions reads or sets. */
interface Others {
  /** -a FILE (the input form's, src/input/gnu/options.ts): refused with --pipe. */
  argFile?: string[];
  workers?: string;
  output?: string;
  json?: string;
  each?: string;
  call?: string;
  queue?: string;
  timeout?: string;
}

export function gnuOptions(raw: GnuRawOptions & Others, args: string[]): GnuRead {
  const g: GnuOptions = {};
  let any = false;
  const set = <K extends keyof GnuOptions>(k: K, v: GnuOptions[K]) => {
    g[k] = v;
    any = true;
  };
  if (raw.jobs !== undefined) {
    if (raw.workers !== undefined)
      throw new UsageError('-j/--jobs and -w/--workers both set the pool size: give one of them');
    raw.workers = String(parseJobs(raw.jobs));
  }
  if (raw.lineBuffer && raw.ungroup)
    throw new UsageError('-u/--ungroup cannot be combined with --line-buffer');
  if (raw.lineBuffer || raw.ungroup) {
    const flag = raw.lineBuffer ? '--line-buffer' : '-u/--ungroup';
    if (raw.output !== undefined && raw.output !== 'group' && raw.output !== 'stream')
      throw new UsageError(
        `${flag} means --output stream; it cannot be combined with --output ${raw.output}`,
      );
    raw.output = 'stream';
    set('lineBuffer', true);
    if (raw.keepOrder) set('keepOrder', true);
  }
  // As GNU parallel: a --tagstring wins over --tag; an empty one is no tag (with --tag, the values are).
  if (raw.tagstring !== undefined) checkTagstring(raw.tagstring);
  if (raw.tagstring !== undefined && raw.tagstring !== '') set('tag', raw.tagstring);
  else if (raw.tag) set('tag', true);
  // With -u, GNU parallel 20221122 prints the jobs' lines untagged (--dry-run's are still tagged).
  if (raw.ungroup) set('untaggedOutput', true);
  if (raw.results !== undefined) {
    if (raw.results === '' || raw.results === '-')
      throw new UsageError(
        "--results: expected a folder (GNU parallel's tree) or a file name ending in .json",
      );
    if (/\.(csv|tsv)$/i.test(raw.results) && !hasReplacement(raw.results))
      throw new UsageError(
        `--results ${raw.results}: poolrun writes no CSV/TSV table; write --results F.json (every result, in input order) or --joblog F (GNU's joblog)`,
      );
    // A name with a replacement string is GNU's NAME, NAME.err, NAME.seq per job (gnu/results.ts).
    if (/\.json$/i.test(raw.results) && !hasReplacement(raw.results)) {
      if (raw.json !== undefined && raw.json !== raw.results)
        throw new UsageError('--results F.json is --json F.json: give one of them');
      raw.json = raw.results;
    } else set('resultsDir', raw.results);
  }
  // The output goes to --results' files and is not printed: streamed (-u, --line-buffer) neither.
  if (g.resultsDir !== undefined && raw.output === 'stream') raw.output = 'group';
  if (raw.shuf) set('shuf', true);
  if (raw.runIfEmpty === false && !raw.pipe) set('skipBlank', true);
  if (typeof raw.timeout === 'string' && /%\s*$/.test(raw.timeout)) {
    const m = /^\s*(\d{1,6}(?:\.\d{1,6})?)%\s*$/.exec(raw.timeout);
    if (!m || !(Number(m[1]) > 0))
      throw new UsageError(
        `--timeout: expected a duration, or a percentage of the median runtime such as 200%, got "${raw.timeout}"`,
      );
    if (raw.queue !== undefined)
      throw new UsageError(
        `--timeout ${raw.timeout}: a percentage of the median runtime is measured on this machine's workers; with --queue give a duration such as 30s`,
      );
    set('timeoutPercent', Number(m[1]));
    delete raw.timeout;
  }
  const pipeOnly = (['block', 'recstart', 'recend'] as const).filter((k) => raw[k] !== undefined);
  if (!raw.pipe && pipeOnly.length)
    throw new UsageError(`--${pipeOnly[0]} goes with --pipe (it sets how stdin is cut into blocks)`);
  if (raw.pipe) {
    if (raw.call !== undefined)
      throw new UsageError('--pipe feeds shell commands: it cannot be used with --call');
    if (raw.queue !== undefined)
      throw new UsageError(
        '--pipe keeps each block in a file on this machine: it cannot be used with --queue',
      );
    // After --each CMD every word is an argument, never code: --pipe has no arguments to give it (its input is
    // stdin), and joining them into the command ran `$(touch X)` as code (a probe).
    if (raw.each !== undefined && args.length > 0)
      throw new UsageError(
        `--pipe --each CMD takes no arguments (--pipe's input is stdin): got ${args.length}; put every word of the command in CMD`,
      );
    const words = raw.each !== undefined ? [raw.each] : args;
    if (words.length === 0 || words.join('').trim() === '')
      throw new UsageError("--pipe: expected a command to pipe each block into, such as --pipe 'wc -l'");
    // GNU gives `:::`/`::::`/-a values to {} while the blocks come from stdin; poolrun ran them as words of the
    // command (`cat ::: x y`), or read no -a file at all, silently. Refused until that pairing is built.
    const sep = raw.argFile?.length ? '-a' : words.find((w) => isSeparator(w));
    if (sep !== undefined)
      throw new UsageError(
        `--pipe reads its blocks from stdin: input sources (${String(sep)} …) with --pipe are not supported; GNU parallel would give their values to {} while stdin is cut into blocks`,
      );
    utf8Command(words, 'the command');
    if (raw.shuf)
      throw new UsageError(
        '--pipe and --shuf: the blocks are run in input order (GNU parallel also ignores --shuf with --pipe)',
      );
    delete raw.each;
    const pipe: PipeOptions = {
      command: words.join(' '),
      blockSize: raw.block === undefined ? 1024 * 1024 : gnuSize('--block', raw.block),
      recstart: raw.recstart === undefined ? Buffer.alloc(0) : unescapeRecord('--recstart', raw.recstart),
      // GNU: recend is "\n" unless --recstart is given alone.
      recend:
        raw.recend !== undefined
          ? unescapeRecord('--recend', raw.recend)
          : raw.recstart !== undefined
            ? Buffer.alloc(0)
            : Buffer.from('\n'),
      dropBlankLines: raw.runIfEmpty === false,
    };
    // GNU's -n is -N with --pipe: records per block (with both, -N counts, as in GNU parallel).
    const records = raw.maxReplaceArgs ?? raw.maxArgs;
    if (records !== undefined) {
      const flag = raw.maxReplaceArgs !== undefined ? '-N' : '-n';
      const v = records.trim();
      const n = /^\d{1,9}$/.test(v) ? Number(v) : 0;
      if (n < 1)
        throw new UsageError(`${flag}: expected a number of records per block (1 or more), got "${records}"`);
      pipe.records = n;
    }
    if (raw.header !== undefined) {
      if (raw.header !== ':')
        throw new UsageError(
          `--header with --pipe: only --header : (the first line is the header) is supported, got "${raw.header}"`,
        );
      pipe.header = true;
    }
    set('pipe', pipe);
    args = [];
  }
  if (raw.maxReplaceArgs !== undefined && !raw.pipe) g.context = true;
  return any ? { options: g, args } : { args };
}
