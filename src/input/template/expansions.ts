/**
 * Quoting and expansions inside a word: `"…"`, `$name`, `$(…)` (a list of commands again, where values may
 * stand), `${…}`, `$((…))` and backquotes. A replacement string inside any of them but `$(…)` is refused.
 */
import {
  IN_ARITH,
  IN_BACKQUOTE,
  IN_BRACE,
  IN_CODE,
  IN_COMMAND,
  IN_NAME,
  Refusal,
  SLOT_FIX,
  inArith,
  inParam,
} from './refusals.js';
import type { ReadState } from './state.js';
import { NAME_CHAR, NAME_START } from './syntax.js';

/** `"…"`, from its opening quote: \ escapes $ ` " \ and newline; $… and `…` expand; values are refused. */
export function doubleQuoted(s: ReadState): void {
  const src = s.src;
  const open = s.i;
  s.i++;
  for (;;) {
    const i = s.i;
    if (i >= src.length)
      s.refuse(open, 'this " is never closed (sh would read a value after it as code): close it');
    const c = src[i]!;
    const r = s.slotAt(i);
    if (r) s.refuse(i, `${r} is inside "…" quotes; ${SLOT_FIX(r)}`);
    if (c === '"') {
      s.i = i + 1;
      return;
    }
    if (c === '\\') s.i = i + 2;
    else if (c === '$') dollar(s, true, i);
    else if (c === '`') backquote(s, true);
    else s.i = i + 1;
  }
}

/**
 * From a `$`: `$(…)` (a new list, where values are allowed again), `$((…))`, `${…}`, `$name`, `$1`, `$@`…
 * or a `$` that is itself (dash has no `$'…'`). Returns what it was.
 */
export function dollar(s: ReadState, inDq: boolean, at: number): 'name' | 'other' {
  s.level++;
  try {
    return dollarIn(s, inDq, at);
  } finally {
    s.level--;
  }
}

function dollarIn(s: ReadState, inDq: boolean, at: number): 'name' | 'other' {
  const src = s.src;
  const j = s.bnl(at + 1);
  const c = src[j];
  if (c === '(') {
    const k = s.bnl(j + 1);
    if (src[k] === '(') {
      arith(s, at, k + 1);
      return 'other';
    }
    s.deeper(at);
    let why = s.refuseAll ?? s.within ?? (s.codeArgs ? IN_CODE : s.nameArgs ? IN_NAME : undefined);
    // In a quoted command name with no path before it, the output names the command (words.ts).
    const from = s.quotedCommandFrom;
    if (!why && from !== undefined && !s.src.slice(from, at).includes('/')) why = IN_COMMAND;
    const inner = s.sub(s.src, s.base, s.level, why);
    inner.i = j + 1;
    inner.heredocs = [];
    inner.readList(at);
    s.noPendingHeredoc(j, inner.i);
    s.found.push(...inner.found);
    s.i = inner.i;
    return 'other';
  }
  if (c === '{') {
    braced(s, at, j + 1, inDq);
    return 'other';
  }
  if (c !== undefined && NAME_START.test(c)) {
    let k = s.bnl(j + 1);
    while (k < src.length && NAME_CHAR.test(src[k]!)) k = s.bnl(k + 1);
    s.i = k;
    return 'name';
  }
  if (c !== undefined && /[0-9@*#?$!-]/.test(c)) {
    s.i = j + 1;
    return 'other';
  }
  s.i = at + 1;
  return 'other';
}

/** `${…}` from after its `{`: up to the first `}` that is not quoted; values inside are refused. */
function braced(s: ReadState, open: number, from: number, inDq: boolean): void {
  const saved = s.within;
  s.within = IN_BRACE;
  bracedIn(s, open, from, inDq);
  s.within = saved;
}

function bracedIn(s: ReadState, open: number, from: number, inDq: boolean): void {
  const src = s.src;
  s.deeper(open);
  // The parameter: `#` (length) then a name, digits or one special character; then the operator. In the
  // word of # ## % %% single quotes quote even inside "…"; in that of - = ? + they are text there.
  let k = s.bnl(from);
  const special = (ch: string | undefined) => ch !== undefined && /[@*#?$!0-9-]/.test(ch);
  if (src[k] === '#') {
    const n = s.bnl(k + 1);
    if (src[n] !== '}' && (NAME_START.test(src[n] ?? '') || special(src[n]))) k = n;
  }
  if (NAME_START.test(src[k] ?? '')) while (k < src.length && NAME_CHAR.test(src[k]!)) k = s.bnl(k + 1);
  else if (/[0-9]/.test(src[k] ?? '')) while (/[0-9]/.test(src[k] ?? '')) k = s.bnl(k + 1);
  else if (special(src[k])) k = s.bnl(k + 1);
  if (src[k] === ':') k = s.bnl(k + 1);
  const pattern = src[k] === '#' || src[k] === '%';
  const sq = !inDq || pattern;
  s.i = from;
  for (;;) {
    const i = s.bnl(s.i);
    if (i >= src.length)
      s.refuse(open, 'this ${ is never closed (sh would read a value after it as code): close it');
    const c = src[i]!;
    const r = s.slotAt(i);
    if (r) s.refuse(i, inParam(r));
    if (c === '}') {
      s.i = i + 1;
      return;
    }
    if (c === '\\') s.i = i + 2;
    else if (c === "'" && sq) {
      const e = src.indexOf("'", i + 1);
      if (e === -1) s.refuse(i, "this ' is never closed");
      s.i = e + 1;
    } else if (c === '"') doubleQuotedNoSlots(s, inParam);
    else if (c === '$') dollar(s, inDq, i);
    else if (c === '`') backquote(s, inDq);
    else s.i = i + 1;
  }
}

/** `"…"` inside `${…}` or `$((…))`: read as "…", a value in it refused with `why`. */
function doubleQuotedNoSlots(s: ReadState, why: (slot: string) => string): void {
  const src = s.src;
  const q = s.i;
  s.i++;
  for (;;) {
    const i = s.i;
    if (i >= src.length)
      s.refuse(q, 'this " is never closed (sh would read a value after it as code): close it');
    const c = src[i]!;
    const r = s.slotAt(i);
    if (r) s.refuse(i, why(r));
    if (c === '"') {
      s.i = i + 1;
      return;
    }
    if (c === '\\') s.i = i + 2;
    else if (c === '$') dollar(s, true, i);
    else if (c === '`') backquote(s, true);
    else s.i = i + 1;
  }
}

/** `$((…))` from after its `((`: parentheses nest; it ends at `))`; values inside are refused. */
function arith(s: ReadState, open: number, from: number): void {
  const saved = s.within;
  s.within = IN_ARITH;
  arithIn(s, open, from);
  s.within = saved;
}

function arithIn(s: ReadState, open: number, from: number): void {
  const src = s.src;
  s.deeper(open);
  s.i = from;
  let parens = 0;
  for (;;) {
    const i = s.bnl(s.i);
    if (i >= src.length)
      s.refuse(open, 'this $(( is never closed (sh would read a value after it as code): close it');
    const c = src[i]!;
    const r = s.slotAt(i);
    if (r) s.refuse(i, inArith(r));
    if (c === '(') {
      parens++;
      s.i = i + 1;
    } else if (c === ')') {
      if (parens > 0) {
        parens--;
        s.i = i + 1;
      } else {
        const k = s.bnl(i + 1);
        if (src[k] !== ')') s.refuse(open, 'this $(( is not closed by ))');
        s.i = k + 1;
        return;
      }
    } else if (c === '\\') s.i = i + 2;
    else if (c === "'") {
      const e = src.indexOf("'", i + 1);
      if (e === -1) s.refuse(i, "this ' is never closed");
      s.i = e + 1;
    } else if (c === '"') doubleQuotedNoSlots(s, inArith);
    else if (c === '$') dollar(s, false, i);
    else if (c === '`') backquote(s, false);
    else s.i = i + 1;
  }
}

/**
 * `` `…` `` from its opening backquote. sh finds its end first (a backquote not escaped by \), takes \` \\ \$
 * (and \" inside "…") as the characters, then reads the text again as commands. A value inside is refused:
 * a backquote in it would end the substitution early.
 */
export function backquote(s: ReadState, inDq: boolean): void {
  const src = s.src;
  const open = s.i;
  s.deeper(open);
  let inner = '';
  let k = open + 1;
  for (;;) {
    if (k >= src.length)
      s.refuse(open, 'this ` is never closed (sh would read a value after it as code): close it');
    const c = src[k]!;
    if (c === '`') break;
    if (c === '\\') {
      const d = src[k + 1];
      if (d === undefined)
        s.refuse(open, 'this ` is never closed (sh would read a value after it as code): close it');
      if (d === '\n') {
        k += 2;
        continue;
      }
      if (d === '`' || d === '\\' || d === '$' || (inDq && d === '"')) inner += d;
      else inner += c + d;
      k += 2;
      continue;
    }
    inner += c;
    k++;
  }
  s.noSlotIn(
    open,
    k,
    'is inside `…`',
    'a backquote in a value would end it early: write $(…) instead, with the value bare inside it',
  );
  s.noPendingHeredoc(open, k);
  s.i = k + 1;
  const sub = s.sub(inner, 0, s.level + 1, IN_BACKQUOTE);
  try {
    sub.readAll();
  } catch (e) {
    if (e instanceof Refusal) throw new Refusal(s.base + open, `inside this \`…\`: ${e.message}`);
    throw e;
  }
}
