/**
 * One shell word of a text, as /bin/sh reads it: what the redactor masks after a secret's name (util/redact.ts).
 */

/** What maskNamed reads a value with: a sticky RegExp, or shellWord's scanner. */
export interface Sticky {
  lastIndex: number;
  exec(text: string): { 0: string } | null;
  /** Called before the values of a text are read (shellWord's budget). */
  start?(text: string): void;
}

/**
 * A scanner of one shell word from `lastIndex`, as /bin/sh would take it, so that a secret value is masked whole:
 * `a\ b`, `'a b'c`, `"a $(printf '%s' "x y")"c`, `$(printf %s x)`, `${X:-a b}` and `` `echo x` `` are each one
 * word (quotes, `$(…)`, `${…}` and backquotes nest as in sh). It ends at unquoted white space, or at one of `stops`
 * (`;&` after an assignment). A quote opened in the word and never closed ends it there: it belongs to the text
 * around (`"API_TOKEN=x")` in a JSON string); an unclosed `$(` or `${` runs to the end of the text (masked whole, as
 * where the value ends is then unknown).
 *
 * Linear over a text however many values it holds: once the scans of one text (from `start`) have looked at 8 times
 * its length, a value that is not yet ended runs to the end of the text (masked, never shown).
 */
export function shellWord(stops: string): Sticky {
  let budget = 0;
  const scanner = {
    lastIndex: 0,
    start(text: string): void {
      budget = 8 * text.length + 4096;
    },
    exec(text: string): { 0: string } | null {
      const start = scanner.lastIndex;
      /** What is open: `'"` quotes, `` ` ``, `(` for `$(` and its inner parentheses, `{` for `${`; with where. */
      const open: Array<{ c: string; at: number }> = [];
      let i = start;
      let end = -1;
      while (end === -1) {
        if (i >= text.length || --budget < 0) {
          // Unclosed: a quote opened at the word's own level ends the word there; anything else runs to the end.
          const first = open[0];
          end = first && (first.c === '"' || first.c === '`' || first.c === "'") ? first.at : text.length;
          break;
        }
        const c = text[i]!;
        const top = open.at(-1)?.c;
        if (top === "'") {
          if (c === "'") open.pop();
          i++;
        } else if (c === '\\') {
          i += 2;
        } else if (top === '"' && c === '"') {
          open.pop();
          i++;
        } else if (top === '`' && c === '`') {
          open.pop();
          i++;
        } else if (c === '$' && (text[i + 1] === '(' || text[i + 1] === '{')) {
          open.push({ c: text[i + 1]!, at: i });
          i += 2;
        } else if (top === '"') {
          if (c === '`') open.push({ c, at: i });
          i++;
        } else if (c === "'" || c === '"' || c === '`') {
          open.push({ c, at: i });
          i++;
        } else if (top === '(' && c === '(') {
          open.push({ c, at: i });
          i++;
        } else if ((top === '(' && c === ')') || (top === '{' && c === '}')) {
          open.pop();
          i++;
        } else if (top === undefined && (/\s/.test(c) || stops.includes(c))) {
          end = i;
        } else {
          i++;
        }
      }
      end = Math.min(end, text.length);
      scanner.lastIndex = end;
      return end > start ? [text.slice(start, end)] : null;
    },
  };
  return scanner;
}
