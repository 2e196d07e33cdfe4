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
 * around (`"API_TOKEN=x")` in a JSON string); an unclosed `$(` or `${` runs to the end of its line. Text escaped for
 * JSON (`API_TOKEN=\"a b\"`) is read both ways, and the longer word masked.
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
      // As sh reads it, and as a JSON string shows it (`\"` a quote): the longer of the two is masked.
      const end = Math.max(scan(text, start, false), scan(text, start, true));
      scanner.lastIndex = end;
      return end > start ? [text.slice(start, end)] : null;
    },
  };
  /** Where the word from `start` ends. `escapedQuotes`: `\"` and `\'` are quotes (text escaped for JSON). */
  const scan = (text: string, start: number, escapedQuotes: boolean): number => {
    /** What is open: `'"` quotes, `` ` ``, `(` for `$(` and its inner parentheses, `{` for `${`; with where. */
    const open: Array<{ c: string; at: number }> = [];
    let i = start;
    for (;;) {
      // Past the budget: to the end of the text (masked, never shown).
      if (--budget < 0) return text.length;
      if (i >= text.length) {
        // Unclosed at the end: a quote opened at the word's own level ends the word there (it belongs to the
        // text around); a `$(` or `${` runs to the end of its line.
        const first = open[0];
        if (!first) return text.length;
        if (first.c === '"' || first.c === '`' || first.c === "'") return first.at;
        const eol = text.indexOf('\n', first.at);
        return eol === -1 ? text.length : eol;
      }
      const c = text[i]!;
      const top = open.at(-1)?.c;
      if (top === "'") {
        if (c === "'") open.pop();
        i++;
      } else if (c === '\\' && !(escapedQuotes && (text[i + 1] === '"' || text[i + 1] === "'"))) {
        i += 2;
      } else if (c === '\\') {
        i++;
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
      } else if (top === undefined && (c === ' ' || c === '\t' || c === '\n' || stops.includes(c))) {
        // sh's blanks: a CR or a no-break space is part of the word.
        return i;
      } else {
        i++;
      }
    }
  };
  return scanner;
}
