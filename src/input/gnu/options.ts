/**
 * GNU parallel's input language on poolrun's command line (issue 16): `CMD [WORD…] ::: A B :::: FILE`, `-a FILE`,
 * `:::+`/`::::+`/`--link`, `-N n`/`-n n`, `--colsep REGEX`, `--header :`. This decides whether a command line
 * uses it and checks the values; input/gnu/source.ts reads the sources and makes the jobs.
 *
 * Which form a command line is (README "Coming from GNU parallel"):
 *   - words after the options, one of them a separator (`:::` `:::+` `::::` `::::+`), or `-a FILE` given: the
 *     words before the first separator are the command (joined by spaces, as GNU parallel does), the rest the
 *     sources; a lone word with neither is a job file, as before;
 *   - `--each CMD` followed by a separator: the sources follow; followed by other words: they are all arguments
 *     (one source), never separators, as before, so a file named `:::` in a glob is a name;
 *   - `--call`: none of this.
 */
import { rawPath, shownPath, writtenNotUtf8 } from '../../util/argv.js';
import { printable } from '../../util/text.js';
import { UsageError } from '../../errors.js';
import { isGnuForm, isSeparator } from './form.js';
import { perlToJs } from './perl-regex.js';

/** commander's values for the options of this form (program.ts). */
export interface GnuRawOptions {
  argFile?: string[];
  maxArgs?: string;
  maxReplaceArgs?: string;
  colsep?: string;
  header?: string;
  link?: boolean;
  /** gnu-out's `--pipe` (issue 16 item 4): stdin in blocks, `-N` = records per block; not this form. */
  pipe?: boolean;
}

export interface GnuInput {
  /** The command template. */
  command: string;
  /** How messages name it: `--each` or `the command`. */
  label: string;
  /**
   * The words from the first separator on (`:::`/`::::`…), as given: the last words of the command line, where
   * util/argv.ts finds their bytes.
   */
  operands: string[];
  /** --each without a separator: its arguments are one source (`values`), or without any, stdin is (`stdin`). */
  implicit?: 'values' | 'stdin';
  /** `-a FILE`, in order; `-` is stdin. */
  argFiles: string[];
  /** -N n / -n n: arguments per job (each a whole combination of the sources). */
  perJob?: number;
  /** -N (missing ones empty in {n}) or -n: the same here, as in GNU parallel's output; kept for messages. */
  perJobFlag?: '-N' | '-n';
  colsep?: RegExp;
  /** Columns keep the blanks around them: the TAB split --header implies (GNU trims only with --colsep given). */
  keepBlanks?: boolean;
  header: boolean;
  link: boolean;
}

const MAX_PER_JOB = 100_000;

export function gnuInput(
  raw: GnuRawOptions & { each?: string; call?: string },
  args: string[],
): GnuInput | undefined {
  // --pipe reads -N itself (records per block) and splits stdin, not sources.
  if (raw.pipe) return undefined;
  const used = gnuOptionsUsed(raw);
  if (raw.call !== undefined) {
    if (used.length)
      throw new UsageError(`${used[0]} does not go with --call (it is for commands: CMD ::: ARG…)`);
    return undefined;
  }
  const argFiles = raw.argFile ?? [];
  const header = checkHeader(raw.header);
  // As GNU parallel: --header without --colsep splits at TAB (its `$opt::colsep = "\t"`), so a TSV file's
  // header names its columns.
  const colsep = raw.colsep ?? (header ? '\t' : undefined);
  const common = {
    argFiles,
    header,
    link: raw.link ?? false,
    ...perJob(raw),
    ...(colsep !== undefined ? { colsep: checkColsep(colsep) } : {}),
    // GNU sets that TAB after its --trim default (lr with --colsep) is decided: those columns keep their blanks.
    ...(colsep !== undefined && raw.colsep === undefined ? { keepBlanks: true } : {}),
  };
  if (raw.each !== undefined) {
    utf8Command([raw.each], '--each');
    const sources = args.length > 0 && isSeparator(args[0]!);
    if (!sources && !used.length) return undefined;
    perlExpression(raw.each);
    if (sources) return { command: raw.each, label: '--each', operands: args, ...common };
    // --each's arguments are one source; without any, stdin is (unless -a gave the input).
    const implicit = args.length ? 'values' : argFiles.length ? undefined : 'stdin';
    return {
      command: raw.each,
      label: '--each',
      operands: args,
      ...(implicit ? { implicit } : {}),
      ...common,
    };
  }
  if (!isGnuForm(args, argFiles)) {
    if (used.length)
      throw new UsageError(
        `${used[0]} is for a command and its input: poolrun [options] CMD [WORD…] ::: ARG… ` +
          `(or --each CMD, or -a FILE); a lone word is a job file`,
      );
    return undefined;
  }
  const sep = args.findIndex((a) => isSeparator(a));
  // `seq 3 | poolrun echo {}`: no separator and no -a, the input lines are stdin's (form.ts isStdinForm).
  if (sep === -1 && !argFiles.length) {
    perlExpression(args.join(' '));
    utf8Command(args, 'the command');
    return { command: args.join(' '), label: 'the command', operands: [], implicit: 'stdin', ...common };
  }
  const words = sep === -1 ? args : args.slice(0, sep);
  const command = words.join(' ');
  if (command.trim() === '')
    throw new UsageError(
      `expected a command before ${sep === -1 ? 'the input' : JSON.stringify(args[sep])}, such as ` +
        `poolrun gzip {} ::: a.txt b.txt (poolrun does not run input values as commands, as GNU parallel does)`,
    );
  perlExpression(command);
  utf8Command(words, 'the command');
  return { command, label: 'the command', operands: sep === -1 ? [] : args.slice(sep), ...common };
}

/**
 * A command word the user wrote in bytes that are not UTF-8 (`cat $'caf\xe9' {}`): Node decoded it to U+FFFD, and
 * the command, which poolrun holds as text, would name another file. Refused, naming it; values keep their bytes.
 */
export function utf8Command(words: readonly string[], label: string): void {
  for (const w of words) {
    if (!writtenNotUtf8(w)) continue;
    const raw = rawPath(w);
    const shown = typeof raw === 'string' ? printable(w) : shownPath(raw);
    throw new UsageError(
      `${label} holds bytes that are not UTF-8 (${shown}): poolrun passes a command as text, and it would run ` +
        `with another name; give such a name as an input value (::: or a file), which keeps its bytes`,
    );
  }
}

/** GNU parallel's `{= perl =}`: code run on each value, which poolrun does not do. */
function perlExpression(command: string): void {
  const at = command.search(/\{=[\s\S]*=\}/);
  if (at !== -1)
    throw new UsageError(
      `the command: {= … =} at column ${at + 1} is a Perl expression, which poolrun does not run: ` +
        'transform the value in the command instead (v={}; … "${v%.gz}")',
    );
}

function gnuOptionsUsed(raw: GnuRawOptions): string[] {
  const used: string[] = [];
  if (raw.argFile?.length) used.push('-a/--arg-file');
  if (raw.maxReplaceArgs !== undefined) used.push('-N/--max-replace-args');
  if (raw.maxArgs !== undefined) used.push('-n/--max-args');
  if (raw.colsep !== undefined) used.push('--colsep');
  if (raw.header !== undefined) used.push('--header');
  if (raw.link) used.push('--link');
  return used;
}

/** -N, else -n: with both, -N is the one that counts, in either order, as in GNU parallel 20221122. */
function perJob(raw: GnuRawOptions): { perJob?: number; perJobFlag?: '-N' | '-n' } {
  const flag = raw.maxReplaceArgs !== undefined ? '-N' : raw.maxArgs !== undefined ? '-n' : undefined;
  if (!flag) return {};
  const value = (flag === '-N' ? raw.maxReplaceArgs : raw.maxArgs)!;
  if (!/^\d{1,6}$/.test(value.trim()) || Number(value) > MAX_PER_JOB)
    throw new UsageError(
      `${flag}: expected a number of arguments per job from 0 to ${MAX_PER_JOB}, got ${JSON.stringify(value)}`,
    );
  return { perJob: Number(value), perJobFlag: flag };
}

function checkHeader(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value === ':') return true;
  throw new UsageError(
    `--header: only --header : is supported (the first value of each source names it: {name}), got ${JSON.stringify(value)}`,
  );
}

function checkColsep(value: string): RegExp {
  if (value === '')
    throw new UsageError('--colsep: expected a separator such as , or \\t or a regular expression, got ""');
  try {
    // GNU parallel's --colsep is a Perl regular expression: its forms are translated to JavaScript's
    // (perl-regex.ts; the u flag: a character is a character, as for Perl on UTF-8 text).
    const { source, flags } = perlToJs(value);
    return new RegExp(source, flags);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`--colsep ${JSON.stringify(value)}: ${e.message}`);
    throw new UsageError(
      `--colsep: not a regular expression: ${JSON.stringify(value)} (${(e as Error).message})`,
    );
  }
}
