/**
 * Shell quoting for values substituted into `/bin/sh -c` commands (`--each`, GNU parallel's form). A value is
 * always one word of literal text: nothing in it is expanded, split, globbed or run. The quoting is GNU
 * parallel's own (shell_quote_scalar_default), so that `--dry-run` prints the bytes `parallel --dry-run` prints.
 */
import { utf8Runs } from '../util/utf8.js';

/**
 * Words that mean the same to sh whether quoted or not: GNU parallel's set, `[-_.+a-zA-Z0-9/]` (ASCII only;
 * its Perl regex sees bytes). Where a bare word would mean more than its text (`$v{}`, `~{}`, `{}>f`, a command
 * name), template/expand.ts quotes it all the same.
 */
const SAFE = /^[-_.+a-zA-Z0-9/]+$/;

/**
 * In single quotes as GNU parallel writes them: `'` itself as `'"'"'`, and the `''` this leaves at either end
 * dropped (`'a` is `"'"'a'`, `'` is `"'"`). Never bare: the result starts with `'` or `"`.
 */
export function gnuSingleQuote(s: string): string {
  if (s === '') return "''";
  const q = `'${s.replace(/'/g, `'"'"'`)}'`;
  return q.replace(/^''/, '').replace(/''$/, '');
}

/** Quotes text as GNU parallel does: safe words stay bare, the empty word is `''`, the rest gnuSingleQuote. */
export function quoteText(s: string): string {
  return SAFE.test(s) ? s : gnuSingleQuote(s);
}

/**
 * Quotes bytes that may not be UTF-8 (file names are bytes on Linux). A command line is a JS string, which
 * reaches the kernel as UTF-8, so bytes that are not valid UTF-8 cannot be written into it as they are: sh
 * makes them at run time with `printf` and octal escapes (POSIX, and a builtin in dash and bash), inside
 * double quotes so they stay part of the same word. Command substitution only strips trailing newlines, and
 * such a run never holds a newline (0x0a is valid UTF-8), so the bytes arrive exactly. (GNU parallel writes
 * the bytes themselves; this is the one place its --dry-run and poolrun's differ.)
 */
export function quoteBytes(buf: Uint8Array): string {
  if (buf.length === 0) return "''";
  const runs = utf8Runs(buf);
  if (runs.length === 1 && 'text' in runs[0]!) return quoteText(runs[0].text);
  return runs
    .map((r) =>
      'text' in r
        ? gnuSingleQuote(r.text)
        : `"$(printf '${Array.from(r.bytes, (b) => '\\' + b.toString(8).padStart(3, '0')).join('')}')"`,
    )
    .join('');
}
