/**
 * Shell quoting for values substituted into `/bin/sh -c` commands (`--each`). A value is always one word of
 * literal text: nothing in it is expanded, split, globbed or run.
 */
import { singleQuote } from '../util/shell.js';
import { utf8Runs } from '../util/utf8.js';

/**
 * Words that mean the same to sh whether quoted or not. `=` is left out on purpose: a bare `a=b` in command
 * position is an assignment, not a word. A leading `~` or `#` would be special, and neither is in the set.
 */
const SAFE = /^[A-Za-z0-9_@%+:,./-]+$/;

/** Quotes text: safe words stay bare, anything else goes in single quotes (`'` itself as `'\''`). */
export function quoteText(s: string): string {
  return SAFE.test(s) ? s : singleQuote(s);
}

/**
 * Quotes bytes that may not be UTF-8 (file names are bytes on Linux). A command line is a JS string, which
 * reaches the kernel as UTF-8, so bytes that are not valid UTF-8 cannot be written into it as they are: sh
 * makes them at run time with `printf` and octal escapes (POSIX, and a builtin in dash and bash), inside
 * double quotes so they stay part of the same word. Command substitution only strips trailing newlines, and
 * such a run never holds a newline (0x0a is valid UTF-8), so the bytes arrive exactly.
 */
export function quoteBytes(buf: Uint8Array): string {
  if (buf.length === 0) return "''";
  const runs = utf8Runs(buf);
  if (runs.length === 1 && 'text' in runs[0]!) return quoteText(runs[0].text);
  return runs
    .map((r) =>
      'text' in r
        ? singleQuote(r.text)
        : `"$(printf '${Array.from(r.bytes, (b) => '\\' + b.toString(8).padStart(3, '0')).join('')}')"`,
    )
    .join('');
}
