/**
 * The lexer: one word, with the replacement strings that stand in it (each refused where its place in the
 * command would make a value more than one literal word), and the operators between words.
 */
import { backquote, dollar, doubleQuoted } from './expansions.js';
import { IN_COMMAND } from './refusals.js';
import type { ReadState } from './state.js';
import { WORD_END, type Found, type Place } from './syntax.js';

/**
 * One word in BASE syntax, from `s.i` up to an unquoted blank, newline or operator character. Replacement
 * strings that stand in it unquoted are collected (or refused, by `place`).
 */
export function word(
  s: ReadState,
  place: Place,
): { text: string; plain: boolean; assignment: boolean; raw: string } {
  const src = s.src;
  const start = s.i;
  let plain = true;
  let text = '';
  const mine: Found[] = [];
  /** Index just after `$name`, where a bare value would lengthen the name. */
  let afterName = -1;
  /** An unquoted `~` with no `/` since: a bare value would be part of a tilde prefix. */
  let tilde = false;
  let sawEquals = false;
  let assignment = false;
  /**
   * An argument of export, readonly, local…: `export v={}` with several values would make each value after the
   * first a NAME (or NAME=value) of its own. Any other argument holding `=` (`--opt={}`, `{}=x`) is only text.
   */
  const namesVars = s.nameArgs;
  for (;;) {
    const i = s.bnl(s.i);
    s.i = i;
    if (i >= src.length) break;
    const c = src[i]!;
    if (WORD_END.has(c)) break;
    const r = s.slotAt(i);
    if (r) {
      if (s.refuseAll) s.refuse(i, `${r} ${s.refuseAll}`);
      if (place === 'delim')
        s.refuse(i, `${r} is a here-document's delimiter; a value cannot be one: write a fixed word`);
      if (place === 'forName') s.refuse(i, `${r} is the variable name of a for loop; a value cannot be one`);
      if (s.commandWord && !assignment && !src.slice(start, i).includes('/'))
        s.refuse(
          i,
          `${r} would be the name of the command to run, and a value there could name a builtin such as ` +
            'eval, which runs the rest as code: to run a file, put a path before it (./{})',
        );
      if (s.nameArgs)
        s.refuse(
          i,
          `${r} would make the name of a variable (an argument of export, readonly, local, unset, read or ` +
            'getopts); write it after the =: export NAME={}',
        );
      if (s.codeArgs)
        s.refuse(
          i,
          `${r} is an argument of eval, trap or alias, which run it as code; ` +
            'pass it as data instead: v={}; eval \'gzip "$v"\'',
        );
      if (place === 'fd')
        s.refuse(i, `${r} follows >& or <&, where sh reads a file descriptor number; write > {} for a file`);
      const f: Found = {
        at: s.base + i,
        r,
        quote: afterName === i || tilde || (place !== 'arg' && place !== 'redir'),
        multi: (place === 'arg' || place === 'forIn') && !namesVars,
        wordStart: i === s.bnl(start),
        command: place === 'cmd' || place === 'name',
        wordFrom: s.base + start,
        wordEnd: -1,
      };
      mine.push(f);
      plain = false;
      s.i = i + r.length;
      continue;
    }
    if (c === '\\') {
      plain = false;
      s.i = i + 2;
      if (i + 1 >= src.length) s.i = i + 1; // a trailing backslash is itself
      continue;
    }
    if (c === "'") {
      const e = src.indexOf("'", i + 1);
      if (e === -1) s.refuse(i, "this ' is never closed");
      s.noSlotIn(i, e, "is inside '…' quotes");
      plain = false;
      s.i = e + 1;
      continue;
    }
    if (c === '"' || c === '$') {
      plain = false;
      // The output of a bare `$(…)` here is the command's name (and its first arguments): `$(echo {})` would let
      // a value name the command, whatever path comes before it (`./$(…)` → `./../../bin/sh -c …`). Quoted, it
      // is one word: a path when a `/` comes before it (expansions.ts).
      const saved = s.within;
      const savedFrom = s.quotedCommandFrom;
      if (s.commandWord && !assignment) {
        if (c === '$') s.within ??= IN_COMMAND;
        else s.quotedCommandFrom ??= start;
      }
      try {
        if (c === '"') doubleQuoted(s);
        else if (dollar(s, false, i) === 'name') afterName = s.i;
      } finally {
        s.within = saved;
        s.quotedCommandFrom = savedFrom;
      }
      continue;
    }
    if (c === '`') {
      plain = false;
      backquote(s, false);
      continue;
    }
    if (c === '~') tilde = true;
    else if (c === '/') tilde = false;
    else if (c === '=' && !sawEquals) {
      sawEquals = true;
      // `NAME=` at the start of a command word: an assignment. A bare value before the `=` could make one.
      if ((place === 'cmd' || place === 'name') && plain && /^[A-Za-z_][A-Za-z0-9_]*$/.test(text))
        assignment = true;
      // Elsewhere (`echo {}=x`, `echo --opt={}`) the `=` is text: a `{}` there is several words as anywhere.
      tilde = false;
      s.nameArgs = false; // export NAME=value: after the =, a value is only the value
    } else if (c === ':' && sawEquals) tilde = false;
    text += c;
    s.i = i + 1;
  }
  if (s.i === start) s.refuse(start, 'expected a word here');
  for (const f of mine) f.wordEnd = s.base + s.i;
  // `{}>f`, `{}<f`: a bare number before < or > would be a file descriptor.
  const next = src[s.bnl(s.i)];
  if (next === '<' || next === '>' || next === '(') for (const f of mine) f.quote = true;
  if (place === 'cmd' || place === 'pattern' || place === 'caseIn' || place === 'forIn')
    for (const f of mine) f.quote = true;
  s.found.push(...mine);
  if (mine.length) plain = false;
  return { text, plain, assignment, raw: src.slice(start, s.i) };
}

export function operator(s: ReadState, i: number): { op: string; end: number } | undefined {
  const src = s.src;
  const c = src[i]!;
  if (!';&|<>()'.includes(c)) return undefined;
  if (c === '(' || c === ')') return { op: c, end: i + 1 };
  const j = s.bnl(i + 1);
  const d = src[j];
  const two = (op: string) => ({ op, end: j + 1 });
  switch (c) {
    case ';':
      return d === ';' ? two(';;') : { op: ';', end: i + 1 };
    case '&':
      return d === '&' ? two('&&') : { op: '&', end: i + 1 };
    case '|':
      return d === '|' ? two('||') : { op: '|', end: i + 1 };
    case '>':
      if (d === '>' || d === '&' || d === '|') return two('>' + d);
      return { op: '>', end: i + 1 };
    default: {
      // '<'
      if (d === '<') {
        const k = s.bnl(j + 1);
        return src[k] === '-' ? { op: '<<-', end: k + 1 } : two('<<');
      }
      if (d === '&' || d === '>') return two('<' + d);
      return { op: '<', end: i + 1 };
    }
  }
}
