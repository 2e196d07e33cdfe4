/**
 * Where poolrun's options end. Options come first; the first word that is not an option, or `--`, ends them, and
 * so does the value of `--each CMD` / `--call T` (`--each=CMD`, `--call=T`): every later word is an argument,
 * whatever it looks like (`-rf`, `--json=x`, `--help`, `worker`), so a glob can never turn a file name into an
 * option. One `--` right after that value is still taken as the end of options (`--each CMD -- -rf`), as before.
 *
 * commander alone reads options anywhere in the line, so main.ts hands it only the option words this returns, and
 * takes the arguments from here. The start-up guess of --mode (pool/prestart.ts) runs the same split before
 * commander is loaded, with a table of the same options (EARLY_OPTIONS, kept equal to program.ts's by a test).
 *
 * GNU parallel's `:::`/`::::` sources (to come) fit behind this: they are words after the options, so they are in
 * `operands` untouched, and whatever reads them splits the operands at the separator.
 *
 * No commander here (only its types): prestart loads this module before anything else.
 */
import type { Command } from 'commander';
import { GNU_OPTION_NAMES } from './gnu-option-names.js';

export interface OptionSpec {
  /** `-w` */
  short?: string;
  /** `--workers`, `--no-color` */
  long?: string;
  /** whether it takes a value: commander's `<v>` (always the next word) or `[v]` (the next word unless an option) */
  value: 'none' | 'required' | 'optional';
}

export interface SplitSpec {
  options: readonly OptionSpec[];
  /** Long names of the options whose value ends the options: `--each`, `--call`. */
  argumentsAfter: readonly string[];
  /** Subcommand names, recognised as the first word after the options (and never after --each/--call). */
  subcommands: readonly string[];
}

export interface ParsedOption {
  /** The option's long name when it has one, else its short one; an unknown option as written (before `=`). */
  name: string;
  value?: string;
  /** An unknown option that is GNU parallel's, by one of its names or an abbreviation: all its long names. */
  gnu?: readonly string[];
  /** An abbreviation of more than one option: every long name it begins (GNU parallel's and poolrun's). */
  ambiguous?: readonly string[];
}

export interface Split {
  /** The option words, in order, values included: what commander may parse. */
  options: string[];
  /** The same, as options and values (for a caller without commander). */
  parsed: ParsedOption[];
  /** Every word after the options: the job file, or the arguments of --each/--call. */
  operands: string[];
  /** Set when the options ended with `--each`/`--call`'s value: that option's long name. */
  argumentsAfter?: string;
  /** Set when the first word after the options is a subcommand: argv from that word on. */
  subcommand?: { name: string; argv: string[] };
}

/**
 * GNU parallel's letters that are poolrun options under another letter: `-P 4` is `-j 4` (xargs' habit too), `-C ,`
 * is `--colsep ,`. No other GNU letter is taken for its long name: `-q` is poolrun's --quiet (GNU's --quote), `-t`
 * is not poolrun's --verbose.
 */
const GNU_LETTERS: ReadonlyMap<string, string> = new Map([
  ['-P', '--jobs'],
  ['-C', '--colsep'],
]);

/** One option's long names, and poolrun's name for it when poolrun takes it. */
interface LongNames {
  names: string[];
  poolrun?: string;
}

/**
 * The long names an abbreviation is matched against: GNU parallel's options (each with its aliases) and poolrun's,
 * one entry per option. A poolrun option that GNU parallel has (by its long name) takes GNU's aliases: `--lb` is
 * `--line-buffer`, `--res` is `--results`.
 */
function longNames(options: readonly OptionSpec[]): { all: LongNames[]; byName: Map<string, LongNames> } {
  const all: LongNames[] = [];
  const byName = new Map<string, LongNames>();
  const add = (names: string[], poolrun?: string) => {
    const entry: LongNames = poolrun === undefined ? { names } : { names, poolrun };
    all.push(entry);
    for (const n of names) byName.set(n, entry);
    return entry;
  };
  // A one-letter name is a long name too (`--k` is `-k`), matched whole: no longer name begins with it.
  for (const line of GNU_OPTION_NAMES) add(line.split(' ').map((n) => `--${n}`));
  for (const o of options) {
    if (!o.long) continue;
    const gnu = byName.get(o.long);
    if (gnu && gnu.poolrun === undefined) {
      gnu.poolrun = o.long;
      // GNU's one-letter name is this option here only where the letter is: `--k` is -k, but GNU's `--t` (its
      // --verbose's -t) is not poolrun's --verbose, which has no -t.
      for (const n of gnu.names.filter((x) => x.length === 3)) {
        const letter = n.slice(1);
        if (o.short === letter || GNU_LETTERS.get(letter) === o.long) continue;
        gnu.names = gnu.names.filter((x) => x !== n);
        add([n]);
      }
    } else add([o.long], o.long);
  }
  return { all, byName };
}

type LongMatch = { option: OptionSpec } | { gnu: readonly string[] } | { ambiguous: readonly string[] };

/**
 * A long option word (without `=value`) as Getopt::Long reads it: a name poolrun defines; else, in any case, one of
 * GNU parallel's aliases or poolrun's names; else the prefix of the names of exactly one option (`--dry` is
 * `--dry-run`; `--linebuf` begins two aliases of one). More than one option: ambiguous, as GNU says it is (`--ta`:
 * `--tag`, `--tagstring`).
 */
function matchLong(
  name: string,
  byLong: ReadonlyMap<string, OptionSpec>,
  table: () => ReturnType<typeof longNames>,
): LongMatch | undefined {
  const own = byLong.get(name);
  if (own) return { option: own };
  // Getopt::Long's ignore_case, which GNU parallel keeps for long names: `--TAG` is `--tag`.
  const lower = name.replace(/[A-Z]+/g, (c) => c.toLowerCase());
  const { all, byName } = table();
  const exact = byName.get(name) ?? byName.get(lower);
  const hits = exact ? [exact] : all.filter((e) => e.names.some((n) => n.startsWith(lower)));
  if (hits.length === 0) return undefined;
  if (hits.length > 1)
    return { ambiguous: hits.flatMap((e) => e.names.filter((n) => n.startsWith(lower))).sort() };
  const hit = hits[0]!;
  return hit.poolrun !== undefined ? { option: byLong.get(hit.poolrun)! } : { gnu: hit.names };
}

/** Splits argv (without node and the script) into options and operands. Never throws. */
export function splitArgv(argv: readonly string[], spec: SplitSpec): Split {
  const byLong = new Map<string, OptionSpec>();
  const byShort = new Map<string, OptionSpec>();
  for (const o of spec.options) {
    if (o.long) byLong.set(o.long, o);
    if (o.short) byShort.set(o.short, o);
  }
  let names: ReturnType<typeof longNames> | undefined;
  const table = () => (names ??= longNames(spec.options));
  const options: string[] = [];
  const parsed: ParsedOption[] = [];
  const nameOf = (o: OptionSpec) => (o.long ?? o.short)!;
  const mayBeOption = (w: string) => w.length > 1 && w.startsWith('-');

  let i = 0;
  /** Takes the option `o` written as `word`, with `inline` its value written in the same word, if any. */
  const take = (o: OptionSpec, inline: string | undefined): void => {
    let value = inline;
    if (value === undefined && o.value === 'required' && i < argv.length) {
      value = argv[i++]!;
      options.push(value);
    } else if (value === undefined && o.value === 'optional' && i < argv.length && !mayBeOption(argv[i]!)) {
      value = argv[i++]!;
      options.push(value);
    }
    parsed.push(value === undefined ? { name: nameOf(o) } : { name: nameOf(o), value });
  };
  const endsOptions = (o: OptionSpec | undefined) =>
    o?.long !== undefined && spec.argumentsAfter.includes(o.long);

  while (i < argv.length) {
    const word = argv[i]!;
    if (word === '--') {
      i++;
      return { options, parsed, operands: argv.slice(i) };
    }
    if (!mayBeOption(word)) {
      const rest = argv.slice(i);
      if (spec.subcommands.includes(word))
        return { options, parsed, operands: rest, subcommand: { name: word, argv: rest } };
      return { options, parsed, operands: rest };
    }
    i++;
    options.push(word);
    let last: OptionSpec | undefined;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq > 2 ? word.slice(0, eq) : word;
      const match = matchLong(name, byLong, table);
      const o = match && 'option' in match ? match.option : undefined;
      // An alias or abbreviation reaches commander as poolrun's own name.
      if (o && o.long !== name)
        options[options.length - 1] = eq > 2 ? `${o.long}=${word.slice(eq + 1)}` : o.long!;
      if (!o)
        parsed.push(
          match && 'gnu' in match
            ? { name, gnu: match.gnu }
            : match && 'ambiguous' in match
              ? { name, ambiguous: match.ambiguous }
              : { name },
        );
      // `--quiet=x`: commander refuses it (a flag takes no value); nothing more to take here.
      else if (eq > 2 && o.value === 'none') parsed.push({ name: nameOf(o), value: word.slice(eq + 1) });
      else take(o, eq > 2 ? word.slice(eq + 1) : undefined);
      last = o;
    } else {
      // -q, -w4, -w 4, -qw4, -qm process: flags while they are known flags; an option with a value takes the
      // rest of the word, or the next word. An unknown letter ends the cluster (commander reports it).
      // GNU's `-P`/`-C` are taken as poolrun's long names: commander then gets the cluster letter by letter.
      const at = options.length - 1;
      const words: string[] = [];
      let renamed = false;
      for (let k = 1; k < word.length; k++) {
        const letter = `-${word[k]}`;
        const gnuLong = byShort.has(letter) ? undefined : GNU_LETTERS.get(letter);
        const o = byShort.get(letter) ?? (gnuLong ? byLong.get(gnuLong) : undefined);
        if (!o) {
          parsed.push({ name: `-${word.slice(k)}` });
          words.push(`-${word.slice(k)}`);
          break;
        }
        if (o !== byShort.get(letter)) renamed = true;
        const spelled = o === byShort.get(letter) ? letter : o.long!;
        last = o;
        if (o.value === 'none') {
          parsed.push({ name: nameOf(o) });
          words.push(spelled);
          continue;
        }
        // commander gives a short option with a value the rest of the word, `[v]` ones included
        // (combineFlagAndOptionalValue is on by default).
        const inline = k + 1 < word.length ? word.slice(k + 1) : undefined;
        words.push(
          inline === undefined ? spelled : spelled === letter ? `${letter}${inline}` : `${spelled}=${inline}`,
        );
        take(o, inline);
        break;
      }
      if (renamed) options.splice(at, 1, ...words);
    }
    if (endsOptions(last)) {
      // The value has been taken: every later word is an argument. A `--` right here ends the options as it
      // always did, and is not an argument.
      if (argv[i] === '--') i++;
      return { options, parsed, operands: argv.slice(i), argumentsAfter: last!.long! };
    }
  }
  return { options, parsed, operands: [] };
}

/** The options that end the options: after their value, every word is an argument. */
export const ARGUMENTS_AFTER = ['--each', '--call'] as const;

/** The split of poolrun's command line, from commander's own option definitions. */
export function specOf(program: Command): SplitSpec {
  const options: OptionSpec[] = program.options.map((o) => ({
    ...(o.short ? { short: o.short } : {}),
    ...(o.long ? { long: o.long } : {}),
    value: o.required ? 'required' : o.optional ? 'optional' : 'none',
  }));
  // commander's help option is made on demand, not in .options: a flag.
  if (!options.some((o) => o.long === '--help')) options.push({ short: '-h', long: '--help', value: 'none' });
  return { options, argumentsAfter: ARGUMENTS_AFTER, subcommands: program.commands.map((c) => c.name()) };
}

/**
 * program.ts's options, for the start-up guess, which runs before commander is loaded (loading it and the
 * program costs ~25 ms here, most of the overlap the guess exists for). test/util/argv-split.test.ts keeps this equal
 * to specOf(buildProgram()): an option added there and not here fails that test.
 */
export const EARLY_OPTIONS: readonly string[] = [
  '-V, --version',
  '--verbose',
  '-w, --workers <n>',
  '-m, --mode <mode>',
  '--chunksize <n>',
  '--order <order>',
  '--output <mode>',
  '--timeout <dur>',
  '--kill-after <dur>',
  '--deadline <dur>',
  '--retries <n>',
  '--retry-delay <dur>',
  '--halt <when>',
  '--fail-fast',
  '--max-workers <n>',
  '--schedule <order>',
  '--delay <dur>',
  '--memfree <size>',
  '--load <n>',
  '--json <file>',
  '--report <file>',
  '--reporter <kind>',
  '--junit <file>',
  '--joblog <file>',
  '--resume',
  '--resume-failed',
  '--dry-run',
  '-q, --quiet',
  '--no-color',
  '--each <cmd>',
  '-0, --null',
  '--call <target>',
  '-a, --arg-file <file>',
  '-N, --max-replace-args <n>',
  '-n, --max-args <n>',
  '--colsep <regex>',
  '--header <regex>',
  '--link',
  '--format <format>',
  '--fsync',
  '--capture-limit <size>',
  '--queue <url>',
  '--queue-ttl <dur>',
  '--queue-timeout <dur>',
  '-j, --jobs <n>',
  '-k, --keep-order',
  '--group',
  '--line-buffer',
  '-u, --ungroup',
  '--will-cite',
  '--bar',
  '--eta',
  '--progress',
  '-r, --no-run-if-empty',
  '--shuf',
  '--tag',
  '--tagstring <str>',
  '--results <dir>',
  '--pipe',
  '--block <size>',
  '--recstart <str>',
  '--recend <str>',
  '-h, --help',
];

/** `-w, --workers <n>` (commander's flags syntax) as an OptionSpec. */
export function optionOfFlags(flags: string): OptionSpec {
  const o: OptionSpec = {
    value: /<[^>]*>/.test(flags) ? 'required' : /\[[^\]]*\]/.test(flags) ? 'optional' : 'none',
  };
  for (const w of flags.split(/[ ,|]+/)) {
    if (/^--[^-]/.test(w)) o.long = w;
    else if (/^-[^-]$/.test(w)) o.short = w;
  }
  return o;
}

export const EARLY_SPEC: SplitSpec = {
  options: EARLY_OPTIONS.map(optionOfFlags),
  argumentsAfter: ARGUMENTS_AFTER,
  subcommands: ['worker'],
};
