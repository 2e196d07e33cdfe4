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

/** Splits argv (without node and the script) into options and operands. Never throws. */
export function splitArgv(argv: readonly string[], spec: SplitSpec): Split {
  const byLong = new Map<string, OptionSpec>();
  const byShort = new Map<string, OptionSpec>();
  for (const o of spec.options) {
    if (o.long) byLong.set(o.long, o);
    if (o.short) byShort.set(o.short, o);
  }
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
      const o = byLong.get(name);
      if (!o) parsed.push({ name });
      // `--quiet=x`: commander refuses it (a flag takes no value); nothing more to take here.
      else if (eq > 2 && o.value === 'none') parsed.push({ name: nameOf(o), value: word.slice(eq + 1) });
      else take(o, eq > 2 ? word.slice(eq + 1) : undefined);
      last = o;
    } else {
      // -q, -w4, -w 4, -qw4, -qm process: flags while they are known flags; an option with a value takes the
      // rest of the word, or the next word. An unknown letter ends the cluster (commander reports it).
      for (let k = 1; k < word.length; k++) {
        const o = byShort.get(`-${word[k]}`);
        if (!o) {
          parsed.push({ name: `-${word.slice(k)}` });
          break;
        }
        last = o;
        if (o.value === 'none') {
          parsed.push({ name: nameOf(o) });
          continue;
        }
        // commander gives a short option with a value the rest of the word, `[v]` ones included
        // (combineFlagAndOptionalValue is on by default).
        take(o, k + 1 < word.length ? word.slice(k + 1) : undefined);
        break;
      }
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
