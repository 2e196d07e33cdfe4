/**
 * `--each` command templates. Every value is substituted as one shell-quoted word (../quote.ts), which is literal
 * text only where sh reads a plain word of a command: inside '…', "…", `…`, ${…}, $((…)), a comment or a
 * here-document the quotes poolrun adds do not make it one literal word (in `sh -c 'gzip {}'` it is code for a
 * second shell; in a here-document quotes do not count at all). So the template is read once, as dash (Debian's
 * /bin/sh) reads it, and a replacement string anywhere but in a plain word is refused with a message that says
 * how to write it, rather than guessed. So is a value that sh would take for more than a word: the command to
 * run (it could be `eval`), an argument of eval/trap/alias, a variable's name (`export {}`), a here-document's
 * delimiter, a file descriptor. A template that sh would not read to its end (an unclosed quote, backquote, `${`,
 * `$(`, `$((` or here-document) is refused too: a value after it would be read as code. test/input/template-sh.test.ts
 * checks the reader against dash itself.
 *
 * The reader is split by concern: syntax.ts (sh's words and types), refusals.ts (the messages), state.ts (the
 * reader's state and shared checks), words.ts (the lexer), expansions.ts (quotes, `$…`, backquotes),
 * heredocs.ts, commands.ts (lists and where each word stands); compile.ts and expand.ts use it.
 */
export { compileTemplate, type CompileOptions, type Template } from './compile.js';
export { expandArgs, expandTemplate } from './expand.js';
