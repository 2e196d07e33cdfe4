/**
 * Why the template reader refuses a replacement string or a construct: the error it throws, with the offset in
 * the template, and the messages that say how to write the command instead.
 */

/** A template sh would not read as poolrun must: `at` is the offset it concerns (compile.ts words the message). */
export class Refusal extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

export const IN_BACKQUOTE = 'is inside `…`; a backquote in a value would end it early: write $(…) instead';
export const IN_HEREDOC = 'is in a here-document; quotes do not protect a value there: pipe it in instead';
export const IN_BRACE = 'is inside ${…} (in a $(…) there too); set a variable first: v={}; … "${v:-…}"';
export const inParam = (r: string): string =>
  `${r} is inside \${…}; set a variable first: v=${r}; … "\${v:-…}"`;
export const inArith = (r: string): string =>
  `${r} is inside $((…)); sh would read the value as arithmetic: ` +
  `set a variable first and check it: n=${r}; case $n in *[!0-9]*) exit 2;; esac; echo $((n + 1))`;
export const IN_ARITH = 'is inside $((…)) (in a $(…) there too); sh would read the value as arithmetic';
export const IN_COMMAND =
  'is inside a $(…) whose output makes the name of the command to run, which a value could then choose (a ' +
  'builtin such as eval runs the rest as code): pass it as an argument instead';
export const IN_CODE =
  'is in an argument of eval, trap or alias (in a $(…) there too), which run it as code; ' +
  'pass it as data instead: v={}; eval \'gzip "$v"\'';
export const IN_NAME =
  'is in an argument of export, readonly, local, unset, read or getopts (in a $(…) there too), where it ' +
  'could make the name of a variable; write it after the =: export NAME={}';

export const SLOT_FIX = (r: string) =>
  `poolrun quotes every value itself, so write ${r} bare ` +
  `(to hand it to a nested shell, pass it as an argument: sh -c 'gzip "$1"' sh ${r})`;
