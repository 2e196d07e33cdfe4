/**
 * GNU parallel's --colsep is a Perl regular expression (its `split /$colsep/, $line, -1`); poolrun runs it as a
 * JavaScript one (u flag) after translating the Perl forms JavaScript reads otherwise or refuses:
 *
 *   - a backslash before an ASCII character that is not a letter or digit is that character (`\,` `\;` `\:` `\ `),
 *     and before a letter Perl gives no meaning, the letter (`\y` is y), as Perl reads them;
 *   - POSIX classes in brackets, `[[:space:]]`, `[^[:alpha:][:digit:]_]`, `[[:^digit:]]` (ASCII, as Perl on the
 *     bytes GNU parallel reads); `\h` `\H` (horizontal blanks), `\v` `\V` (vertical: Perl's, not JavaScript's one
 *     VT), `\R`, `\N`, `\e`, `\a`, `\x{…}`, `\o{…}`, octal `\012`, `\A` `\z` `\Z`, `\pL`, `\g{1}`, `\k'name'`;
 *   - `.` is any character but a newline (JavaScript's also stops at CR and U+2028/2029);
 *   - a `{` or `}` that is no quantifier is itself (`{`, `x{a}`, `{2}` first), `{,n}` is `{0,n}`, `{ 1 , 2 }` is
 *     `{1,2}`; a `]` outside brackets is itself, and `[]a]` is `]` or `a`;
 *   - a leading `(?i)` `(?s)` `(?m)` `(?x)` (or several: `(?ix)`) are flags; `(?#…)` a comment, `(?P<n>…)` and
 *     `(?'n'…)` named groups.
 *
 * What JavaScript cannot do (an inline flag elsewhere, `(?i:…)`, `(?>…)`, `(?|…)`, `\K`, `\G`, `\X`, `\C`, `\b{…}`,
 * a relative `\g{-1}`, an unknown POSIX class) is a UsageError naming it; the caller names the option.
 */
import { UsageError } from '../../errors.js';

type Range = readonly [number, number];
const MAX = 0x10ffff;

const POSIX: Record<string, readonly Range[]> = {
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  digit: [[0x30, 0x39]],
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  upper: [[0x41, 0x5a]],
  lower: [[0x61, 0x7a]],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  print: [[0x20, 0x7e]],
  graph: [[0x21, 0x7e]],
  word: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
};

/** Perl's \h and \v. */
const HORIZONTAL: readonly Range[] = [
  [0x09, 0x09],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x180e, 0x180e],
  [0x2000, 0x200a],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];
const VERTICAL: readonly Range[] = [
  [0x0a, 0x0d],
  [0x85, 0x85],
  [0x2028, 0x2029],
];

function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX) out.push([next, MAX]);
  return out;
}

const cp = (n: number) => `\\u{${n.toString(16)}}`;
/** The ranges as the inside of a JavaScript class. */
const inner = (ranges: readonly Range[]) =>
  ranges.map(([lo, hi]) => (lo === hi ? cp(lo) : `${cp(lo)}-${cp(hi)}`)).join('');

/** Characters JavaScript's u flag lets a backslash escape (outside a class; `-` too inside one). */
const SYNTAX = new Set('^$\\.*+?()[]{}|/');

/** One character as a literal, outside a class or inside one. */
function literal(ch: string, inClass: boolean): string {
  if (SYNTAX.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  return ch;
}

const unsupported = (what: string): never => {
  throw new UsageError(`Perl's ${what} has no JavaScript equivalent`);
};

export interface JsRegex {
  source: string;
  flags: string;
}

/** Translates a Perl regular expression (--colsep's) to a JavaScript one; throws UsageError on what JS lacks. */
export function perlToJs(perl: string): JsRegex {
  const flags = new Set<string>(['u']);
  let i = 0;
  const lead = /^\(\?([imsx]+)\)/.exec(perl);
  if (lead) {
    for (const f of lead[1]!) flags.add(f);
    i = lead[0].length;
  }
  const extended = flags.delete('x');
  const groups = countGroups(perl);
  let out = '';
  let atom = false; // whether what came before can take a quantifier
  while (i < perl.length) {
    const ch = String.fromCodePoint(perl.codePointAt(i)!);
    if (extended && /\s/.test(ch)) {
      i += ch.length;
      continue;
    }
    if (extended && ch === '#') {
      const nl = perl.indexOf('\n', i);
      i = nl === -1 ? perl.length : nl + 1;
      continue;
    }
    if (ch === '\\') {
      const [text, n, isAtom] = escape(perl, i, false, groups);
      out += text;
      i += n;
      atom = isAtom;
      continue;
    }
    if (ch === '[') {
      const [text, end] = bracket(perl, i, groups);
      out += text;
      i = end;
      atom = true;
      continue;
    }
    if (ch === '{') {
      const q = /^\{\s*(\d*)\s*(?:(,)\s*(\d*)\s*)?\}/.exec(perl.slice(i));
      if (atom && q && (q[1] !== '' || (q[2] && q[3] !== ''))) {
        out += `{${q[1] || '0'}${q[2] ?? ''}${q[3] ?? ''}}`;
        i += q[0].length;
        atom = false;
        continue;
      }
      out += '\\{';
      i++;
      atom = true;
      continue;
    }
    if (ch === '}' || ch === ']') {
      out += `\\${ch}`;
      i++;
      atom = true;
      continue;
    }
    if (ch === '.') {
      out += flags.has('s') ? '[^]' : '[^\\n]';
      i++;
      atom = true;
      continue;
    }
    if (ch === '(') {
      const [text, n] = group(perl, i);
      out += text;
      i += n;
      atom = text === '' && atom;
      continue;
    }
    out += ch;
    i += ch.length;
    atom = !'|*+?'.includes(ch);
    if (ch === '^' || ch === '$') atom = false;
  }
  return { source: out, flags: [...flags].sort().join('') };
}

/** `(` and what follows it: [JavaScript text, characters read]. */
function group(perl: string, i: number): [string, number] {
  if (perl[i + 1] !== '?') return ['(', 1];
  const rest = perl.slice(i);
  if (rest.startsWith('(?#')) {
    const end = perl.indexOf(')', i);
    return ['', end === -1 ? perl.length - i : end - i + 1];
  }
  for (const same of ['(?:', '(?=', '(?!', '(?<=', '(?<!'])
    if (rest.startsWith(same)) return [same, same.length];
  const named = /^\(\?(?:P?<|')([A-Za-z_]\w*)[>']/.exec(rest);
  if (named) return [`(?<${named[1]}>`, named[0].length];
  const backref = /^\(\?P=([A-Za-z_]\w*)\)/.exec(rest);
  if (backref) return [`\\k<${backref[1]}>`, backref[0].length];
  const what = /^\(\?[\^\w-]*[:)]?/.exec(rest)?.[0] ?? '(?';
  if (/^\(\?\^?[a-z]*(-[a-z]*)?[:)]$/.test(what))
    throw new UsageError(
      `Perl's inline flags ${what} have no JavaScript equivalent here (a leading (?i) has)`,
    );
  return unsupported(`${what.length > 2 ? what : rest.slice(0, 3)} group`);
}

/** How many capture groups the pattern has (for Perl's rule: `\12` is octal unless there are 12 groups). */
function countGroups(perl: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < perl.length; i++) {
    const c = perl[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(' && (perl[i + 1] !== '?' || /^\(\?(P?<|')\w/.test(perl.slice(i)))) n++;
  }
  return n;
}

/** A backslash and what follows, at `i`: [JavaScript text, characters read, whether it is an atom]. */
function escape(perl: string, i: number, inClass: boolean, groups: number): [string, number, boolean] {
  const d = perl[i + 1];
  if (d === undefined) throw new UsageError('a pattern cannot end with a lone \\');
  const rest = perl.slice(i + 2);
  const code = perl.codePointAt(i + 1)!;
  if (code > 0x7f) return [String.fromCodePoint(code), 1 + (code > 0xffff ? 2 : 1), true];
  if (!/[A-Za-z0-9]/.test(d)) return [literal(d, inClass), 2, true];
  const set = (ranges: readonly Range[], negated: boolean): string => {
    const r = negated ? complement(ranges) : ranges;
    return inClass ? inner(r) : `[${inner(r)}]`;
  };
  const braced = /^\{([^}]*)\}/.exec(rest);
  const number = (digits: string, base: number, len: number): [string, number, boolean] => {
    const v = digits === '' ? 0 : parseInt(digits, base);
    if (Number.isNaN(v) || v > MAX) throw new UsageError(`\\${d}${digits}: not a character`);
    return [cp(v), len, true];
  };
  switch (d) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 's':
    case 'S':
    case 't':
    case 'n':
    case 'r':
    case 'f':
      return [`\\${d}`, 2, true];
    case 'b':
    case 'B':
      if (rest.startsWith('{')) return unsupported(`\\${d}{…}`);
      return [`\\${d}`, 2, inClass];
    case 'h':
    case 'H':
      return [set(HORIZONTAL, d === 'H'), 2, true];
    case 'v':
    case 'V':
      return [set(VERTICAL, d === 'V'), 2, true];
    case 'R':
      if (inClass) return unsupported('\\R in brackets');
      return [`(?:\\r\\n|[${inner(VERTICAL)}])`, 2, true];
    case 'N':
      if (braced) {
        const u = /^U\+([0-9A-Fa-f]+)$/.exec(braced[1]!);
        if (!u) return unsupported(`\\N{${braced[1]}} (a character by name)`);
        return number(u[1]!, 16, 2 + braced[0].length);
      }
      if (inClass) return unsupported('\\N in brackets');
      return ['[^\\n]', 2, true];
    case 'e':
      return [cp(0x1b), 2, true];
    case 'a':
      return [cp(0x07), 2, true];
    case 'x': {
      if (braced) return number(braced[1]!.trim(), 16, 2 + braced[0].length);
      const h = /^[0-9A-Fa-f]{0,2}/.exec(rest)![0];
      return number(h, 16, 2 + h.length);
    }
    case 'o':
      if (!braced) return unsupported('\\o without {…}');
      return number(braced[1]!.trim(), 8, 2 + braced[0].length);
    case 'c':
      return [`\\c${perl[i + 2] ?? ''}`, 3, true];
    case 'p':
    case 'P':
      if (braced) return [`\\${d}${braced[0]}`, 2 + braced[0].length, true];
      return [`\\${d}{${perl[i + 2] ?? ''}}`, 3, true];
    case 'A':
    case 'z':
    case 'Z':
      if (inClass) return [d, 2, true];
      return [d === 'A' ? '(?<![^])' : d === 'z' ? '(?![^])' : '(?=\\n?(?![^]))', 2, false];
    case 'k': {
      const m = /^(?:<(\w+)>|'(\w+)'|\{(\w+)\})/.exec(rest);
      if (!m) return ['k', 2, true];
      return [`\\k<${m[1] ?? m[2] ?? m[3]}>`, 2 + m[0].length, true];
    }
    case 'g': {
      const m = /^(?:\{(-?\w+)\}|(-?\d+))/.exec(rest);
      if (!m) return ['g', 2, true];
      const ref = m[1] ?? m[2]!;
      if (ref.startsWith('-')) return unsupported(`relative back reference \\g${m[0]}`);
      return [/^\d+$/.test(ref) ? `\\${ref}` : `\\k<${ref}>`, 2 + m[0].length, true];
    }
    case 'K':
    case 'G':
    case 'X':
    case 'C':
      return unsupported(`\\${d}`);
  }
  if (d >= '0' && d <= '9') {
    const digits = /^\d+/.exec(perl.slice(i + 1))![0];
    // Perl: \0…, or a number above the groups there are and 10 or more, is octal (up to 3 digits).
    if (d === '0' || inClass || (Number(digits) > groups && digits.length > 1)) {
      const oct = /^[0-7]{1,3}/.exec(perl.slice(i + 1))?.[0] ?? '';
      if (oct === '') return [d, 2, true];
      return number(oct, 8, 1 + oct.length);
    }
    return [`\\${digits}`, 1 + digits.length, true];
  }
  // A letter Perl gives no meaning stands for itself (Perl warns, and matches it).
  return [d, 2, true];
}

/** A bracketed class at `i`: [JavaScript text, index after it]. */
function bracket(perl: string, i: number, groups: number): [string, number] {
  let j = i + 1;
  let out = '[';
  if (perl[j] === '^') {
    out += '^';
    j++;
  }
  if (perl[j] === ']') {
    out += '\\]';
    j++;
  }
  while (j < perl.length && perl[j] !== ']') {
    const posix = /^\[:(\^?)(\w+):\]/.exec(perl.slice(j));
    if (posix) {
      const ranges = POSIX[posix[2]!];
      if (!ranges) throw new UsageError(`POSIX class [:${posix[2]}:] unknown`);
      out += inner(posix[1] ? complement(ranges) : ranges);
      j += posix[0].length;
      continue;
    }
    if (/^\[[=.]/.test(perl.slice(j))) return unsupported(`${perl.slice(j, j + 2)}…${perl[j + 1]}] class`);
    const c = perl[j]!;
    if (c === '\\') {
      const [text, n] = escape(perl, j, true, groups);
      out += text;
      j += n;
      continue;
    }
    const ch = String.fromCodePoint(perl.codePointAt(j)!);
    out += c === '[' ? '\\[' : ch;
    j += ch.length;
  }
  if (j >= perl.length) throw new UsageError('a [ without its ]');
  return [`${out}]`, j + 1];
}
