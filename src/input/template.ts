/**
 * `--each` command templates. Every value is substituted as one shell-quoted word (quote.ts), which is literal
 * text wherever a word may stand. Inside quotes that is not so: in `sh -c 'gzip {}'` the quoted string is
 * code for a second shell, and in a here-document quotes do not count at all. So the template is scanned once
 * with sh's quoting rules, and a value inside '…', "…", `…`, ${…} or a here-document is refused with a message
 * that says how to write it, rather than guessed. `{#}` and `{%}` are digits and may go anywhere.
 */
import { UsageError } from '../errors.js';
import { quoteBytes } from './quote.js';
import { REPLACEMENTS, applyReplacement, type Replacement } from './replacements.js';

type Frame = 'plain' | 'single' | 'double' | 'paren' | 'backtick' | 'brace';
export type QuoteContext = 'plain' | 'single' | 'double';

interface Slot {
  r: Replacement;
  ctx: QuoteContext;
}

export interface Template {
  /** Literal text around the slots: `parts.length === slots.length + 1`. */
  parts: string[];
  slots: Slot[];
  /** No replacement string: the argument is appended, as GNU parallel does. */
  appends: boolean;
}

/** What sh sees for the worker slot, which is only known when the job starts (src/jobs/run.ts sets it). */
const WORKER = '"$POOLRUN_WORKER"';

export function compileTemplate(cmd: string): Template {
  if (cmd.trim() === '') throw new UsageError('--each: expected a command such as \'gzip {}\', got ""');
  if (cmd.includes('\0')) throw new UsageError('--each: the command cannot contain a NUL character');
  const parts: string[] = [];
  const slots: Slot[] = [];
  const stack: Frame[] = ['plain'];
  let heredoc = false;
  let last = 0;
  let wordStart = true;
  const refuse = (r: Replacement, at: number, why: string, fix?: string) => {
    throw new UsageError(
      `--each: ${r} at column ${at + 1} ${why}; ` +
        (fix ??
          `poolrun quotes every value itself, so write ${r} bare ` +
            `(to hand it to a nested shell, pass it as an argument: sh -c 'gzip "$1"' sh ${r})`),
    );
  };

  for (let i = 0; i < cmd.length;) {
    const top = stack[stack.length - 1]!;
    const c = cmd[i]!;
    if (c === '{') {
      const r = REPLACEMENTS.find((t) => cmd.startsWith(t, i));
      if (r) {
        let ctx: QuoteContext = top === 'single' || top === 'double' ? top : 'plain';
        if (r !== '{#}' && r !== '{%}') {
          if (heredoc)
            refuse(r, i, 'is in a here-document', 'quotes do not protect a value there: pipe it in instead');
          if (top === 'brace') refuse(r, i, 'is inside ${…}', `set a variable first: v=${r}; … "\${v:-…}"`);
          // sh finds the end of `…` before it reads quotes, so a backquote in a value would end it early.
          if (stack.includes('backtick'))
            refuse(r, i, 'is inside `…`', 'a backquote in a value would end it early: write $(…) instead');
          if (ctx !== 'plain') refuse(r, i, `is inside ${ctx === 'single' ? "'…'" : '"…"'} quotes`);
        } else if (top === 'brace' || heredoc) ctx = 'plain';
        parts.push(cmd.slice(last, i));
        slots.push({ r, ctx });
        i += r.length;
        last = i;
        wordStart = false;
        continue;
      }
    }
    if (top === 'single') {
      if (c === "'") stack.pop();
      i++;
      continue;
    }
    if (top === 'double') {
      if (c === '\\') i += 2;
      else if (c === '"') {
        stack.pop();
        i++;
      } else if (c === '`') {
        stack.push('backtick');
        i++;
      } else if (c === '$' && (cmd[i + 1] === '(' || cmd[i + 1] === '{')) {
        stack.push(cmd[i + 1] === '(' ? 'paren' : 'brace');
        i += 2;
      } else i++;
      continue;
    }
    // Outside quotes: at top level, or inside $(…), `…` or ${…}.
    if (c === '\\') {
      i += 2;
      wordStart = false;
      continue;
    }
    if (c === '#' && wordStart) {
      const nl = cmd.indexOf('\n', i);
      i = nl === -1 ? cmd.length : nl;
      continue;
    }
    if (c === "'") stack.push('single');
    else if (c === '"') stack.push('double');
    else if (c === '`') {
      if (top === 'backtick') stack.pop();
      else {
        stack.push('backtick');
      }
    } else if (c === '$' && (cmd[i + 1] === '(' || cmd[i + 1] === '{')) {
      stack.push(cmd[i + 1] === '(' ? 'paren' : 'brace');
      i += 2;
      wordStart = true;
      continue;
    } else if (c === '(' && top === 'paren') stack.push('paren');
    else if (c === ')' && top === 'paren') stack.pop();
    else if (c === '}' && top === 'brace') stack.pop();
    else if (c === '<' && cmd[i + 1] === '<' && cmd[i + 2] !== '<') {
      heredoc = true;
    }
    wordStart = /[\s;&|()<>]/.test(c);
    i++;
  }
  parts.push(cmd.slice(last));
  return { parts, slots, appends: slots.length === 0 };
}

/** The command for one argument; `seq` is the 1-based job number (`{#}`). */
export function expandTemplate(t: Template, arg: Buffer, seq: number): string {
  if (t.appends) return `${t.parts[0]!} ${quoteBytes(arg)}`;
  let out = t.parts[0]!;
  t.slots.forEach((s, k) => {
    let word: string;
    if (s.r === '{#}') word = String(seq);
    else if (s.r === '{%}') word = WORKER;
    else word = quoteBytes(applyReplacement(s.r, arg));
    // {#} and {%} inside quotes: close them, put the word, reopen them.
    if (s.ctx === 'single') word = `'${word}'`;
    else if (s.ctx === 'double') word = `"${word}"`;
    out += word + t.parts[k + 1]!;
  });
  return out;
}
