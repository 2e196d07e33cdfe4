/**
 * Compiling a template: the reader (state.ts, with commands.ts's lists) finds the replacement strings, each in a
 * plain word, or refuses the template with a message that says where and how to write it; a template without one
 * gets the argument appended, which must land in a plain word too.
 */
import { UsageError } from '../../errors.js';
import { parseReplacement, type SlotSpec } from '../replacements.js';
import { list } from './commands.js';
import { Refusal } from './refusals.js';
import { ReadState, type ReadContext } from './state.js';
import type { Found } from './syntax.js';

export interface Slot {
  r: string;
  /** What the value is (which argument, which part of it). */
  spec: SlotSpec;
  /** It may stand for several words (a plain argument of a command): `{}` of a job with several arguments. */
  multi: boolean;
  /** The value must be quoted even when it is a safe word (`$v{}`, `{}=x`, `~{}`, `{}>f`, a command name…). */
  quote: boolean;
}

/**
 * GNU parallel's context replace (-N): a word holding a `{}`-form (not `{n}`, `{#}`, `{%}`) is written once per
 * argument of the job, space-separated, each copy with that argument (`x{}y` → `xay xby`). The group is
 * slots[first, end); `lead` is its text before slots[first] (cut from parts[first]), `trail` its text after the
 * last slot (cut from parts[end]); parts in between stay inside the group.
 */
export interface ContextGroup {
  first: number;
  end: number;
  lead: string;
  trail: string;
}

export interface Template {
  /** Literal text around the slots: `parts.length === slots.length + 1`. */
  parts: string[];
  slots: Slot[];
  /** No replacement string: the argument is appended (as GNU parallel does), after a space. */
  appends: boolean;
  /** -N's context groups, in order (see ContextGroup); none without -N. */
  groups?: ContextGroup[];
}

/** `line L, column C` for a multi-line template, else `column C` (both from 1). */
function position(cmd: string, at: number): string {
  const before = cmd.slice(0, at);
  const line = before.split('\n').length;
  const col = at - (before.lastIndexOf('\n') + 1) + 1;
  return cmd.includes('\n') ? `line ${line}, column ${col}` : `column ${col}`;
}

function read(cmd: string, names: ReadonlyMap<string, number> | undefined): Found[] {
  const context: ReadContext = { names, list };
  const reader = new ReadState(context, cmd);
  reader.readAll();
  const found = reader.found.sort((a, b) => a.at - b.at);
  // dash expands an alias before it reads the line: after `alias`, any command name may stand for other words
  // (`echo #`, `eval`), which this reading cannot know, so no value after it is sure to stay one word of data.
  const after = context.aliasAt === undefined ? undefined : found.find((f) => f.at > context.aliasAt!);
  if (after)
    throw new Refusal(
      after.at,
      `${after.r} comes after alias, which can make a later command name mean anything (a comment, eval); define a function instead: f() { …; }`,
    );
  return found;
}

export interface CompileOptions {
  /** `--header :`: the columns' names (`{name}`), each the 1-based position of its value. */
  names?: ReadonlyMap<string, number>;
  /**
   * A job may have several arguments (several sources, -N/-n, --colsep): a `{}` then stands for all of them,
   * one word each, and is refused where several words would not be several arguments.
   */
  multi?: boolean;
  /** How messages name the command: `--each` (the default) or `the command`. */
  label?: string;
  /** GNU parallel's -N: context replace (see ContextGroup); checked and used only with `multi`. */
  context?: boolean;
}

export function compileTemplate(cmd: string, options: CompileOptions = {}): Template {
  const names = options.names;
  const label = options.label ?? '--each';
  if (cmd.trim() === '') throw new UsageError(`${label}: expected a command such as 'gzip {}', got ""`);
  if (cmd.includes('\0')) throw new UsageError(`${label}: the command cannot contain a NUL character`);
  // GNU parallel's `{= perl =}` runs Perl on each value; poolrun runs none, in any form (it ran as text here).
  const perl = cmd.search(/\{=[\s\S]*=\}/);
  if (perl !== -1)
    throw new UsageError(
      `${label}: {= … =} at ${position(cmd, perl)} is a Perl expression, which poolrun does not run: ` +
        'transform the value in the command instead (v={}; … "${v%.gz}")',
    );
  let found: Found[];
  let groups: Span[] = [];
  let appends = false;
  let text = cmd;
  try {
    found = read(cmd, names);
    if (found.length === 0) {
      // No replacement string: the argument is appended. It must land in a plain word too.
      appends = true;
      text = `${cmd} {}`;
      try {
        found = read(text, names);
        if (found[0]?.command)
          throw new Refusal(
            cmd.length,
            '{} would be the name of the command to run (the command ends where a new one begins): add {} ' +
              'where the argument goes',
          );
        if (!found[0]?.wordStart)
          throw new Refusal(
            cmd.length,
            '{} would join the word before it (the command ends in a backslash): end it with a space or add {}',
          );
        if (options.multi && !found[0].multi)
          throw new Refusal(
            cmd.length,
            '{} would be several words (a job has several arguments) where they would not all be arguments ' +
              'of the command: add {1} {2}… where they go',
          );
      } catch (e) {
        if (e instanceof Refusal && e.at >= cmd.length)
          throw new Refusal(
            cmd.length,
            `the argument, appended after the command (it has no {}), ${e.message.replace(/^\{\} /, '')}`,
          );
        throw e;
      }
    } else if (options.multi) {
      const lone = found.find((f) => !f.multi && parseReplacement(f.r, names).kind === 'all');
      if (lone)
        throw new Refusal(
          lone.at,
          `${lone.r} stands for all of a job's arguments, one word each, and here several words would not be ` +
            `several arguments (an assignment, a redirection, a case word…): use {1}, {2}… for one each`,
        );
    }
    if (options.context && options.multi) groups = contextGroups(text, found, names);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    const at = Math.min(e.at, cmd.length);
    let msg = e.message.replace(/^(\{[^}]*\}) /, '');
    if (/never closed$/.test(msg))
      msg += ': sh would read what follows it, a value too, differently; close it';
    const lead = /^\{[^}]*\} /.exec(e.message)?.[0];
    throw new UsageError(`${label}: ${lead ?? ''}at ${position(cmd, at)}${lead ? ' ' : ': '}${msg}`);
  }
  const parts: string[] = [];
  const slots: Slot[] = [];
  let last = 0;
  for (const f of found) {
    parts.push(text.slice(last, f.at));
    slots.push({ r: f.r, quote: f.quote, multi: f.multi, spec: parseReplacement(f.r, names) });
    last = f.at + f.r.length;
  }
  parts.push(text.slice(last));
  const t: Template = { parts, slots, appends };
  if (options.context && options.multi) t.groups = cutGroups(t, found, groups);
  return t;
}

interface Span {
  from: number;
  to: number;
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';

/**
 * The words -N repeats: those holding a `{}`-form. GNU parallel repeats the text between blanks (space, TAB)
 * around it, whatever sh makes of it (`{};` repeats the `;`, and then a value runs as a command): poolrun takes
 * it only where that text is exactly one whole plain argument, so each copy is one more argument.
 */
function contextGroups(text: string, found: Found[], names: ReadonlyMap<string, number> | undefined): Span[] {
  const spans: Span[] = [];
  for (const f of found) {
    if (parseReplacement(f.r, names).kind !== 'all') continue;
    if (spans.some((g) => f.at >= g.from && f.at < g.to)) continue;
    let from = f.at;
    while (from > 0 && !isBlank(text[from - 1])) from--;
    let to = f.at + f.r.length;
    while (to < text.length && !isBlank(text[to])) to++;
    if (from !== f.wordFrom || to !== f.wordEnd || !f.multi)
      throw new Refusal(
        f.at,
        `${f.r} with -N is written once per argument together with the text around it up to the nearest ` +
          `blanks (${JSON.stringify(text.slice(from, to))}), as GNU parallel does (x{}y gives xay xby), and ` +
          `here that text is not one whole argument of the command (an operator, quote or newline is in it, ` +
          `or the word is no plain argument: an assignment, a redirection…): put blanks around the word, or ` +
          `use {1}, {2}… for one each`,
      );
    spans.push({ from, to });
  }
  return spans;
}

/** Turns the groups' text spans into slot ranges, cutting their lead and trail out of the parts around them. */
function cutGroups(t: Template, found: Found[], spans: Span[]): ContextGroup[] {
  return spans.map((g) => {
    const inside = found.flatMap((f, k) => (f.at >= g.from && f.at < g.to ? [k] : []));
    const first = inside[0]!;
    const end = inside.at(-1)! + 1;
    const leadLen = found[first]!.at - g.from;
    const trailLen = g.to - (found[end - 1]!.at + found[end - 1]!.r.length);
    const before = t.parts[first]!;
    const after = t.parts[end]!;
    t.parts[first] = before.slice(0, before.length - leadLen);
    t.parts[end] = after.slice(trailLen);
    return { first, end, lead: before.slice(before.length - leadLen), trail: after.slice(0, trailLen) };
  });
}
