/**
 * Expanding a compiled template for a job: each value one shell-quoted word (quote.ts), quoted even when it is a
 * safe word where a bare word would mean more than its text.
 */
import { JobFileError } from '../../errors.js';
import { argTooLong, execTooLarge } from '../../util/limits.js';
import { singleQuote } from '../../util/shell.js';
import { quoteBytes } from '../quote.js';
import { applyReplacement, argIndex, type SlotSpec } from '../replacements.js';
import type { Slot, Template } from './compile.js';

/** What sh sees for the worker slot, which is only known when the job starts (src/kinds/run/run.ts sets it). */
const WORKER = '"$POOLRUN_WORKER"';

/** The command for one argument; `seq` is the 1-based job number (`{#}`). */
export function expandTemplate(t: Template, arg: Buffer, seq: number): string {
  return expandArgs(t, [arg], seq);
}

const EMPTY = Buffer.alloc(0);

/**
 * The command for a job's arguments (GNU parallel's rules): `{}` is all of them, one quoted word each, joined
 * by spaces; `{n}` the n-th. A missing one (a short last group of -N) is empty: nothing where it is a plain
 * argument, as GNU parallel has it, and an empty word ('') anywhere else, so that it never shifts a word into
 * another's place. `none` (-N 0, with that many sources): every replacement string is made from the empty
 * string, as GNU parallel does (`{//}` is then `.`; `{}` stands for one empty value per source). With -N's
 * context groups (compile.ts ContextGroup), a word holding a `{}`-form is written once per argument instead.
 */
export function expandArgs(t: Template, args: readonly Buffer[], seq: number, none = 0): string {
  /** Slot k's text; `one`: in a -N context group's copy, the argument a `{}`-form stands for (null: none). */
  const slotText = (k: number, one?: Buffer | null): string => {
    const s = t.slots[k]!;
    const { spec } = s;
    const missing = (): string => {
      const v = none ? applyReplacement(spec.op, EMPTY) : EMPTY;
      return v.length ? quoted(s, v, '{}') : s.multi ? '' : "''";
    };
    if (spec.kind === 'seq') return safe(s, String(seq));
    if (spec.kind === 'worker') return WORKER;
    if (none)
      return spec.kind === 'all' && one === undefined
        ? Array.from({ length: none }, missing).join(' ')
        : missing();
    if (spec.kind === 'all' && one !== undefined) return one === null ? missing() : quoted(s, one, spec.op);
    if (spec.kind === 'all' && args.length !== 1)
      return args.length === 0 ? missing() : args.map((a) => quoted(s, a, spec.op)).join(' ');
    const at = spec.kind === 'all' ? 0 : argIndex(spec.pos!, args.length);
    const arg = at === undefined ? undefined : args[at];
    return arg === undefined ? missing() : quoted(s, arg, spec.op);
  };
  // -N's context groups: the group once per argument (per source with -N 0; once, empty, without any).
  const copies: (Buffer | null)[] = none ? Array<null>(none).fill(null) : args.length ? [...args] : [null];
  const groups = new Map((t.groups ?? []).map((g) => [g.first, g]));
  let out = t.parts[0]!;
  for (let k = 0; k < t.slots.length;) {
    const g = groups.get(k);
    if (!g) {
      out += slotText(k) + t.parts[k + 1]!;
      k++;
      continue;
    }
    const copy = (one: Buffer | null): string => {
      let text = g.lead;
      for (let j = g.first; j < g.end; j++) text += slotText(j, one) + (j + 1 < g.end ? t.parts[j + 1]! : '');
      return text + g.trail;
    };
    out += copies.map(copy).join(' ') + t.parts[g.end]!;
    k = g.end;
  }
  // exec takes the command as one string of at most 128 KiB: a longer one is refused at its job, not run to fail
  // with E2BIG (a job file's command is checked as it is read, jobs/normalize.ts).
  // All of exec's strings together too (poolrun's environment with them): util/limits.ts execTooLarge.
  const long = argTooLong(out, 'the command') ?? execTooLarge(['/bin/sh', '-c', '--', out], undefined);
  if (long) throw new JobFileError([{ where: `job ${seq}`, message: long }]);
  return out;
}

function quoted(s: Slot, arg: Buffer, op: SlotSpec['op']): string {
  return safe(s, quoteBytes(applyReplacement(op, arg ?? EMPTY)));
}

/**
 * A safe word stays bare, unless where it stands a bare word would mean more than its text (words.ts sets
 * `quote`: `$v{}`, `~{}`, `{}>f`, a command name, a case pattern, a for list). A reserved word as an argument
 * (`echo if`) is only a word, as GNU parallel leaves it.
 */
function safe(s: Slot, word: string): string {
  return s.quote && !/^['"]/.test(word) ? singleQuote(word) : word;
}
