/**
 * `--each` command templates. Every value is substituted as one shell-quoted word (quote.ts), which is literal
 * text only where sh reads a plain word of a command: inside '…', "…", `…`, ${…}, $((…)), a comment or a
 * here-document the quotes poolrun adds do not make it one literal word (in `sh -c 'gzip {}'` it is code for a
 * second shell; in a here-document quotes do not count at all). So the template is read once, as dash (Debian's
 * /bin/sh) reads it, and a replacement string anywhere but in a plain word is refused with a message that says
 * how to write it, rather than guessed. So is a value that sh would take for more than a word: the command to
 * run (it could be `eval`), an argument of eval/trap/alias, a variable's name (`export {}`), a here-document's
 * delimiter, a file descriptor. A template that sh would not read to its end (an unclosed quote, backquote, `${`,
 * `$(`, `$((` or here-document) is refused too: a value after it would be read as code. test/input/template-sh.test.ts
 * checks the reader against dash itself.
 */
import { UsageError } from '../errors.js';
import { quoteBytes } from './quote.js';
import { applyReplacement, parseReplacement, replacementAt, type SlotSpec } from './replacements.js';
import { singleQuote } from '../util/shell.js';

interface Slot {
  r: string;
  /** What the value is (which argument, which part of it). */
  spec: SlotSpec;
  /** It may stand for several words (a plain argument of a command): `{}` of a job with several arguments. */
  multi: boolean;
  /** The value must be quoted even when it is a safe word (`$v{}`, `{}=x`, `~{}`, `{}>f`, a command name…). */
  quote: boolean;
}

export interface Template {
  /** Literal text around the slots: `parts.length === slots.length + 1`. */
  parts: string[];
  slots: Slot[];
  /** No replacement string: the argument is appended (as GNU parallel does), after a space. */
  appends: boolean;
}

/** What sh sees for the worker slot, which is only known when the job starts (src/jobs/run.ts sets it). */
const WORKER = '"$POOLRUN_WORKER"';

/** dash's reserved words: a value that spells one is quoted wherever it stands. */
const RESERVED = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'case',
  'esac',
  'while',
  'until',
  'for',
  'in',
  '{',
  '}',
  '!',
]);

/** Builtins that run an argument as code. */
const CODE = new Set(['eval', 'trap', 'alias']);

/**
 * A word's text after sh's quote removal, when it has no expansion (no `$`, no backquote, no value in it):
 * undefined otherwise, as then what it runs is not known here.
 */
function unquoted(raw: string): string | undefined {
  if (/[$`{]/.test(raw)) return undefined;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      if (raw[i + 1] !== '\n') out += raw[i + 1] ?? '';
      i++;
    } else if (c === "'") {
      const e = raw.indexOf("'", i + 1);
      out += raw.slice(i + 1, e);
      i = e;
    } else if (c === '"') {
      for (i++; i < raw.length && raw[i] !== '"'; i++) {
        if (raw[i] === '\\' && '\\"$`\n'.includes(raw[i + 1] ?? '')) i++;
        if (raw[i] !== '\n' || raw[i - 1] !== '\\') out += raw[i];
      }
    } else out += c;
  }
  return out;
}
/** Builtins whose arguments name variables (`export NAME=value`): a value must not make the name. */
const NAMES = new Set(['export', 'readonly', 'local', 'unset', 'read', 'getopts']);

/** Deeper than this, `$(…)`, `${…}`, backquotes and groups are refused rather than read (no stack overflow). */
const MAX_DEPTH = 64;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
/** Characters that end an unquoted word. */
const WORD_END = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);

/** Where a word stands, as far as its value's meaning goes. */
type Place =
  | 'cmd' // first word of a command: reserved words count
  | 'name' // command name after assignments or redirections: reserved words do not count
  | 'arg'
  | 'redir' // a redirection's target
  | 'fd' // the target of >& or <&: a number or -, not a file
  | 'delim' // a here-document's delimiter
  | 'caseWord'
  | 'caseIn'
  | 'pattern'
  | 'forName'
  | 'forIn';

interface Heredoc {
  delim: string;
  quoted: boolean;
  strip: boolean;
  at: number;
}

interface Found {
  at: number;
  r: string;
  quote: boolean;
  /** Several words may stand here (see Slot.multi). */
  multi: boolean;
  /** It begins its word (an appended argument must). */
  wordStart: boolean;
  /** It stands where sh reads the name of the command to run. */
  command: boolean;
}

class Refusal extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

const IN_BACKQUOTE = 'is inside `…`; a backquote in a value would end it early: write $(…) instead';
const IN_HEREDOC = 'is in a here-document; quotes do not protect a value there: pipe it in instead';
const IN_BRACE = 'is inside ${…} (in a $(…) there too); set a variable first: v={}; … "${v:-…}"';
const inParam = (r: string): string => `${r} is inside \${…}; set a variable first: v=${r}; … "\${v:-…}"`;
const inArith = (r: string): string =>
  `${r} is inside $((…)); sh would read the value as arithmetic: ` +
  `set a variable first and check it: n=${r}; case $n in *[!0-9]*) exit 2;; esac; echo $((n + 1))`;
const IN_ARITH = 'is inside $((…)) (in a $(…) there too); sh would read the value as arithmetic';
const IN_CODE =
  'is in an argument of eval, trap or alias (in a $(…) there too), which run it as code; ' +
  'pass it as data instead: v={}; eval \'gzip "$v"\'';
const IN_NAME =
  'is in an argument of export, readonly, local, unset, read or getopts (in a $(…) there too), where it ' +
  'could make the name of a variable; write it after the =: export NAME={}';

const SLOT_FIX = (r: string) =>
  `poolrun quotes every value itself, so write ${r} bare ` +
  `(to hand it to a nested shell, pass it as an argument: sh -c 'gzip "$1"' sh ${r})`;

/**
 * Reads `src` as dash does and collects the replacement strings that stand in plain words; throws a Refusal at
 * the first one that does not, or at the first construct sh would not read to its end.
 */
class Reader {
  i = 0;
  readonly found: Found[] = [];
  private heredocs: Heredoc[] = [];
  /** The words being read are arguments of eval or trap. */
  private codeArgs = false;
  /** The words being read are arguments of export, readonly, local, unset, read or getopts. */
  private nameArgs = false;
  /** The word being read is the name of the command to run (perhaps after `command`). */
  private commandWord = false;

  constructor(
    readonly src: string,
    /** Offset of `src` in the template, for messages (backquoted text is read again on its own). */
    readonly base = 0,
    /** How deep in `$…`, `…` and groups this text is. */
    public level = 0,
    /**
     * Why every replacement string in this text is refused, if it is: the text is inside `…`, `${…}`, `$((…))`
     * or an argument of eval, so even a `$(…)` in it does not make a value one literal word.
     */
    readonly refuseAll?: string,
  ) {}

  /** Set while reading `${…}` or `$((…))`: why a `$(…)` inside refuses its values too. */
  private within: string | undefined;

  private refuse(at: number, message: string): never {
    throw new Refusal(this.base + at, message);
  }

  private slotAt(i: number): string | undefined {
    return replacementAt(this.src, i, headerNames);
  }

  /** Refuses any replacement string in `src[from, to)`. */
  private noSlotIn(from: number, to: number, why: string, fix?: string): void {
    for (let k = this.src.indexOf('{', from); k !== -1 && k < to; k = this.src.indexOf('{', k + 1)) {
      const r = this.slotAt(k);
      if (r) this.refuse(k, `${r} ${why}; ${fix ?? SLOT_FIX(r)}`);
    }
  }

  /** Skips backslash-newline pairs (line continuations), which dash removes before reading on. */
  private bnl(i: number): number {
    while (this.src[i] === '\\' && this.src[i + 1] === '\n') i += 2;
    return i;
  }

  private deeper(at: number): void {
    if (this.level > MAX_DEPTH) this.refuse(at, `the command is nested more than ${MAX_DEPTH} levels deep`);
  }

  /** The whole text: commands up to the end. */
  readAll(): void {
    this.list(undefined);
  }

  /**
   * A list of commands, up to the end of the text or, inside `$(…)`, up to its `)` (returns just after it).
   * `open` is where that `$(` is.
   */
  private list(open: number | undefined): void {
    const src = this.src;
    let place: Place = 'cmd';
    /** Open `(`, `{` and `case`, innermost last; a `case` in its patterns is `pattern`. */
    const frames: Array<'sub' | 'group' | 'case' | 'fn'> = [];
    /** The command is eval, trap or alias, which run their arguments as code. */
    let runsCode = false;
    let namesVars = false;
    /** After `command`, the next word is the command that runs. */
    let wrapped = false;
    for (;;) {
      // Blanks and line continuations between words.
      for (;;) {
        const j = this.bnl(this.i);
        if (src[j] === ' ' || src[j] === '\t') this.i = j + 1;
        else {
          this.i = j;
          break;
        }
      }
      const i = this.i;
      if (i >= src.length) {
        if (open !== undefined)
          this.refuse(open, 'this $( is never closed (sh would read a value after it as code): close it');
        this.endHeredocs();
        return;
      }
      const c = src[i]!;
      if (c === '#') {
        // A comment, to the end of the line (a backslash does not continue it).
        const nl = src.indexOf('\n', i);
        const end = nl === -1 ? src.length : nl;
        this.noSlotIn(i, end, 'is in a comment', 'sh ignores it there: move it out of the comment');
        this.i = end;
        continue;
      }
      if (c === '\n') {
        runsCode = namesVars = wrapped = false;
        this.i = i + 1;
        this.readHeredocs();
        if (place !== 'caseIn' && place !== 'pattern' && place !== 'forName' && place !== 'caseWord')
          place = 'cmd';
        continue;
      }
      const op = this.operator(i);
      if (op) {
        this.i = op.end;
        if (!/[<>]/.test(op.op)) runsCode = namesVars = wrapped = false;
        switch (op.op) {
          case ';;':
            if (frames.at(-1) === 'case') place = 'pattern';
            else place = 'cmd';
            break;
          case ';':
          case '&':
          case '&&':
          case '||':
            place = 'cmd';
            break;
          case '|':
            if (place !== 'pattern') place = 'cmd'; // `a|b)`: patterns
            break;
          case '(':
            if (place === 'pattern') break; // `(pat)`: the optional opening parenthesis
            if (place === 'cmd' || place === 'name') {
              this.deeper(i);
              frames.push('sub');
              place = 'cmd';
            } else {
              frames.push('fn'); // `name()`: a function definition, a body follows
              place = 'arg';
            }
            break;
          case ')':
            if (place === 'pattern' && frames.at(-1) === 'case') {
              place = 'cmd';
              break;
            }
            if (frames.at(-1) === 'sub') {
              frames.pop();
              place = 'arg';
              break;
            }
            if (frames.at(-1) === 'fn') {
              frames.pop();
              place = 'cmd';
              break;
            }
            if (open !== undefined) {
              this.endHeredocs(open);
              return;
            }
            place = 'arg';
            break;
          case '<<':
          case '<<-':
            place = this.heredocStart(op.op === '<<-', i, place);
            break;
          default: {
            // < > >> <> >| >& <&: the target word follows.
            this.skipBlanks();
            if (this.i >= src.length || WORD_END.has(src[this.i]!))
              this.refuse(i, `the redirection ${op.op} needs a target word after it`);
            this.codeArgs = this.nameArgs = this.commandWord = false;
            this.word(op.op === '>&' || op.op === '<&' ? 'fd' : 'redir');
            if (place === 'cmd') place = 'name';
          }
        }
        continue;
      }
      // A word.
      this.codeArgs = place === 'arg' && runsCode;
      this.nameArgs = place === 'arg' && namesVars;
      this.commandWord = place === 'cmd' || place === 'name' || (place === 'arg' && wrapped);
      const w = this.word(place);
      if (((place === 'cmd' || place === 'name') && !w.assignment) || (place === 'arg' && wrapped)) {
        // What sh runs: the word after quote removal (`"eval"`, `\eval`, `e''val` are eval too).
        const name = w.plain ? w.text : unquoted(w.raw);
        runsCode = name !== undefined && CODE.has(name);
        namesVars = name !== undefined && NAMES.has(name);
        // `command [-p] NAME …`, `exec NAME …`: NAME is the command; options before it are skipped.
        // `command -v NAME` only looks NAME up.
        if (place === 'arg' && wrapped && name?.startsWith('-')) wrapped = !/[vV]/.test(name);
        else wrapped = name === 'command' || name === 'exec';
      }
      const kw =
        w.plain && (place === 'cmd' || place === 'pattern' || place === 'forIn' || place === 'caseIn');
      if (place === 'cmd' && kw && RESERVED.has(w.text) && w.text !== 'in') {
        switch (w.text) {
          case 'case':
            this.deeper(i);
            frames.push('case');
            place = 'caseWord';
            break;
          case 'for':
            place = 'forName';
            break;
          case '{':
            this.deeper(i);
            frames.push('group');
            place = 'cmd';
            break;
          case '}':
            if (frames.at(-1) === 'group') frames.pop();
            place = 'arg';
            break;
          case 'esac':
            if (frames.at(-1) === 'case') frames.pop();
            place = 'arg';
            break;
          case 'fi':
          case 'done':
            place = 'arg';
            break;
          default: // if then else elif do while until ! in
            place = 'cmd';
        }
        continue;
      }
      switch (place) {
        case 'caseWord':
          place = 'caseIn';
          break;
        case 'caseIn':
          place = 'pattern'; // `in`
          break;
        case 'pattern':
          if (kw && w.text === 'esac') {
            frames.pop();
            place = 'arg';
          }
          break;
        case 'forName':
          place = 'forIn';
          break;
        case 'forIn':
          place = w.plain && w.text === 'do' ? 'cmd' : 'arg';
          break;
        case 'cmd':
        case 'name':
          place = w.assignment ? 'name' : 'arg';
          break;
        default:
          break;
      }
    }
  }

  private operator(i: number): { op: string; end: number } | undefined {
    const src = this.src;
    const c = src[i]!;
    if (!';&|<>()'.includes(c)) return undefined;
    if (c === '(' || c === ')') return { op: c, end: i + 1 };
    const j = this.bnl(i + 1);
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
          const k = this.bnl(j + 1);
          return src[k] === '-' ? { op: '<<-', end: k + 1 } : two('<<');
        }
        if (d === '&' || d === '>') return two('<' + d);
        return { op: '<', end: i + 1 };
      }
    }
  }

  private skipBlanks(): void {
    for (;;) {
      const j = this.bnl(this.i);
      if (this.src[j] === ' ' || this.src[j] === '\t') this.i = j + 1;
      else {
        this.i = j;
        return;
      }
    }
  }

  /** After `<<` or `<<-`: the delimiter word; its body is read at the next newline. */
  private heredocStart(strip: boolean, at: number, place: Place): Place {
    this.skipBlanks();
    const start = this.i;
    if (start >= this.src.length || WORD_END.has(this.src[start]!))
      this.refuse(at, 'a here-document (<<) needs a delimiter word after it');
    this.codeArgs = this.nameArgs = this.commandWord = false;
    const w = this.word('delim');
    const raw = this.src.slice(start, this.i);
    if (/[$`]/.test(raw))
      this.refuse(start, 'a here-document delimiter with $ or ` in it is not supported: write a plain word');
    // Quote removal: '…' "…" and \x give the delimiter; any quoting makes the body literal.
    let delim = '';
    for (let k = 0; k < raw.length; k++) {
      const c = raw[k]!;
      if (c === "'") {
        const e = raw.indexOf("'", k + 1);
        delim += raw.slice(k + 1, e);
        k = e;
      } else if (c === '"') {
        k++;
        while (raw[k] !== '"') {
          if (raw[k] === '\\' && '$`"\\\n'.includes(raw[k + 1]!)) k++;
          delim += raw[k];
          k++;
        }
      } else if (c === '\\') {
        if (raw[k + 1] !== '\n') delim += raw[k + 1] ?? '';
        k++;
      } else delim += c;
    }
    this.heredocs.push({ delim, quoted: !w.plain, strip, at });
    return place === 'cmd' ? 'name' : place;
  }

  /** At the end of a list: a here-document still waiting for its body is refused. */
  private endHeredocs(open?: number): void {
    const h = this.heredocs[0];
    if (!h) return;
    if (open !== undefined)
      this.refuse(h.at, 'a here-document started inside $(…) must end inside it, before the )');
    this.refuse(h.at, `this here-document is never ended: no line ${JSON.stringify(h.delim)} follows`);
  }

  /** A newline inside `$(…)` or `…` while a here-document waits for its body: dash reads it elsewhere. */
  private noPendingHeredoc(from: number, to: number): void {
    const h = this.heredocs[0];
    if (h && this.src.slice(from, to).includes('\n'))
      this.refuse(
        h.at,
        'a here-document must begin on the line after its <<, not inside a $(…) or `…` that follows',
      );
  }

  /** After a newline: the bodies of the here-documents started on the line before, in order. */
  private readHeredocs(): void {
    if (this.heredocs.length === 0) return;
    const src = this.src;
    for (const h of this.heredocs) {
      for (;;) {
        if (this.i >= src.length)
          this.refuse(h.at, `this here-document is never ended: no line ${JSON.stringify(h.delim)} follows`);
        const nl = src.indexOf('\n', this.i);
        const end = nl === -1 ? src.length : nl;
        let line = src.slice(this.i, end);
        if (h.strip) line = line.replace(/^\t+/, '');
        if (line === h.delim) {
          this.i = nl === -1 ? end : end + 1;
          break;
        }
        this.noSlotIn(
          this.i,
          end,
          'is in a here-document',
          'quotes do not protect a value there: pipe it in instead (printf "%s\\n" {} | cmd)',
        );
        if (!h.quoted) {
          const tail = /\\+$/.exec(line);
          if (tail && tail[0].length % 2 === 1)
            this.refuse(
              end - 1,
              'a line of a here-document ends with \\ (it would join the next line): not supported',
            );
          // Expansions in the body must close on their line; dash would read on into the next lines.
          const sub = new Reader(src.slice(this.i, end), this.base + this.i, this.level, IN_HEREDOC);
          try {
            sub.heredocLine();
          } catch (e) {
            if (e instanceof Refusal && /never closed/.test(e.message))
              throw new Refusal(e.at, `${e.message} on its line of the here-document`);
            throw e;
          }
        }
        this.i = nl === -1 ? end : end + 1;
      }
    }
    this.heredocs = [];
  }

  /** A line of an unquoted here-document body: `$…`, `…` and \ work as inside "…", quotes are text. */
  heredocLine(): void {
    const src = this.src;
    while (this.i < src.length) {
      const c = src[this.i]!;
      if (c === '\\') this.i += 2;
      else if (c === '$') this.dollar(true, this.i);
      else if (c === '`') this.backquote(true);
      else this.i++;
    }
  }

  /**
   * One word in BASE syntax, from `this.i` up to an unquoted blank, newline or operator character. Replacement
   * strings that stand in it unquoted are collected (or refused, by `place`).
   */
  private word(place: Place): { text: string; plain: boolean; assignment: boolean; raw: string } {
    const src = this.src;
    const start = this.i;
    let plain = true;
    let text = '';
    const mine: Found[] = [];
    /** Index just after `$name`, where a bare value would lengthen the name. */
    let afterName = -1;
    /** An unquoted `~` with no `/` since: a bare value would be part of a tilde prefix. */
    let tilde = false;
    let sawEquals = false;
    let assignment = false;
    for (;;) {
      const i = this.bnl(this.i);
      this.i = i;
      if (i >= src.length) break;
      const c = src[i]!;
      if (WORD_END.has(c)) break;
      const r = this.slotAt(i);
      if (r) {
        if (this.refuseAll) this.refuse(i, `${r} ${this.refuseAll}`);
        if (place === 'delim')
          this.refuse(i, `${r} is a here-document's delimiter; a value cannot be one: write a fixed word`);
        if (place === 'forName')
          this.refuse(i, `${r} is the variable name of a for loop; a value cannot be one`);
        if (this.commandWord && !assignment && !src.slice(start, i).includes('/'))
          this.refuse(
            i,
            `${r} would be the name of the command to run, and a value there could name a builtin such as ` +
              'eval, which runs the rest as code: to run a file, put a path before it (./{})',
          );
        if (this.nameArgs)
          this.refuse(
            i,
            `${r} would make the name of a variable (an argument of export, readonly, local, unset, read or ` +
              'getopts); write it after the =: export NAME={}',
          );
        if (this.codeArgs)
          this.refuse(
            i,
            `${r} is an argument of eval, trap or alias, which run it as code; ` +
              'pass it as data instead: v={}; eval \'gzip "$v"\'',
          );
        if (place === 'fd')
          this.refuse(
            i,
            `${r} follows >& or <&, where sh reads a file descriptor number; write > {} for a file`,
          );
        const f: Found = {
          at: this.base + i,
          r,
          quote: afterName === i || tilde || (place !== 'arg' && place !== 'redir'),
          multi: (place === 'arg' || place === 'forIn') && !sawEquals,
          wordStart: i === this.bnl(start),
          command: place === 'cmd' || place === 'name',
        };
        mine.push(f);
        plain = false;
        this.i = i + r.length;
        continue;
      }
      if (c === '\\') {
        plain = false;
        this.i = i + 2;
        if (i + 1 >= src.length) this.i = i + 1; // a trailing backslash is itself
        continue;
      }
      if (c === "'") {
        const e = src.indexOf("'", i + 1);
        if (e === -1) this.refuse(i, "this ' is never closed");
        this.noSlotIn(i, e, "is inside '…' quotes");
        plain = false;
        this.i = e + 1;
        continue;
      }
      if (c === '"') {
        plain = false;
        this.doubleQuoted();
        continue;
      }
      if (c === '$') {
        plain = false;
        const kind = this.dollar(false, i);
        if (kind === 'name') afterName = this.i;
        continue;
      }
      if (c === '`') {
        plain = false;
        this.backquote(false);
        continue;
      }
      if (c === '~') tilde = true;
      else if (c === '/') tilde = false;
      else if (c === '=' && !sawEquals) {
        sawEquals = true;
        // `NAME=` at the start of a command word: an assignment. A bare value before the `=` could make one.
        if ((place === 'cmd' || place === 'name') && plain && /^[A-Za-z_][A-Za-z0-9_]*$/.test(text))
          assignment = true;
        for (const f of mine) f.quote = true;
        for (const f of mine) f.multi = false;
        tilde = false;
        this.nameArgs = false; // export NAME=value: after the =, a value is only the value
      } else if (c === ':' && sawEquals) tilde = false;
      text += c;
      this.i = i + 1;
    }
    if (this.i === start) this.refuse(start, 'expected a word here');
    // `{}>f`, `{}<f`: a bare number before < or > would be a file descriptor.
    const next = src[this.bnl(this.i)];
    if (next === '<' || next === '>' || next === '(') for (const f of mine) f.quote = true;
    if (place === 'cmd' || place === 'pattern' || place === 'caseIn' || place === 'forIn')
      for (const f of mine) f.quote = true;
    this.found.push(...mine);
    if (mine.length) plain = false;
    return { text, plain, assignment, raw: src.slice(start, this.i) };
  }

  /** `"…"`, from its opening quote: \ escapes $ ` " \ and newline; $… and `…` expand; values are refused. */
  private doubleQuoted(): void {
    const src = this.src;
    const open = this.i;
    this.i++;
    for (;;) {
      const i = this.i;
      if (i >= src.length)
        this.refuse(open, 'this " is never closed (sh would read a value after it as code): close it');
      const c = src[i]!;
      const r = this.slotAt(i);
      if (r) this.refuse(i, `${r} is inside "…" quotes; ${SLOT_FIX(r)}`);
      if (c === '"') {
        this.i = i + 1;
        return;
      }
      if (c === '\\') this.i = i + 2;
      else if (c === '$') this.dollar(true, i);
      else if (c === '`') this.backquote(true);
      else this.i = i + 1;
    }
  }

  /**
   * From a `$`: `$(…)` (a new list, where values are allowed again), `$((…))`, `${…}`, `$name`, `$1`, `$@`…
   * or a `$` that is itself (dash has no `$'…'`). Returns what it was.
   */
  private dollar(inDq: boolean, at: number): 'name' | 'other' {
    this.level++;
    try {
      return this.dollarIn(inDq, at);
    } finally {
      this.level--;
    }
  }

  private dollarIn(inDq: boolean, at: number): 'name' | 'other' {
    const src = this.src;
    const j = this.bnl(at + 1);
    const c = src[j];
    if (c === '(') {
      const k = this.bnl(j + 1);
      if (src[k] === '(') {
        this.arith(at, k + 1);
        return 'other';
      }
      this.deeper(at);
      const why =
        this.refuseAll ?? this.within ?? (this.codeArgs ? IN_CODE : this.nameArgs ? IN_NAME : undefined);
      const inner = new Reader(this.src, this.base, this.level, why);
      inner.i = j + 1;
      inner.heredocs = [];
      inner.list(at);
      this.noPendingHeredoc(j, inner.i);
      this.found.push(...inner.found);
      this.i = inner.i;
      return 'other';
    }
    if (c === '{') {
      this.braced(at, j + 1, inDq);
      return 'other';
    }
    if (c !== undefined && NAME_START.test(c)) {
      let k = this.bnl(j + 1);
      while (k < src.length && NAME_CHAR.test(src[k]!)) k = this.bnl(k + 1);
      this.i = k;
      return 'name';
    }
    if (c !== undefined && /[0-9@*#?$!-]/.test(c)) {
      this.i = j + 1;
      return 'other';
    }
    this.i = at + 1;
    return 'other';
  }

  /** `${…}` from after its `{`: up to the first `}` that is not quoted; values inside are refused. */
  private braced(open: number, from: number, inDq: boolean): void {
    const saved = this.within;
    this.within = IN_BRACE;
    this.bracedIn(open, from, inDq);
    this.within = saved;
  }

  private bracedIn(open: number, from: number, inDq: boolean): void {
    const src = this.src;
    this.deeper(open);
    // The parameter: `#` (length) then a name, digits or one special character; then the operator. In the
    // word of # ## % %% single quotes quote even inside "…"; in that of - = ? + they are text there.
    let k = this.bnl(from);
    const special = (ch: string | undefined) => ch !== undefined && /[@*#?$!0-9-]/.test(ch);
    if (src[k] === '#') {
      const n = this.bnl(k + 1);
      if (src[n] !== '}' && (NAME_START.test(src[n] ?? '') || special(src[n]))) k = n;
    }
    if (NAME_START.test(src[k] ?? '')) while (k < src.length && NAME_CHAR.test(src[k]!)) k = this.bnl(k + 1);
    else if (/[0-9]/.test(src[k] ?? '')) while (/[0-9]/.test(src[k] ?? '')) k = this.bnl(k + 1);
    else if (special(src[k])) k = this.bnl(k + 1);
    if (src[k] === ':') k = this.bnl(k + 1);
    const pattern = src[k] === '#' || src[k] === '%';
    const sq = !inDq || pattern;
    this.i = from;
    for (;;) {
      const i = this.bnl(this.i);
      if (i >= src.length)
        this.refuse(open, 'this ${ is never closed (sh would read a value after it as code): close it');
      const c = src[i]!;
      const r = this.slotAt(i);
      if (r) this.refuse(i, inParam(r));
      if (c === '}') {
        this.i = i + 1;
        return;
      }
      if (c === '\\') this.i = i + 2;
      else if (c === "'" && sq) {
        const e = src.indexOf("'", i + 1);
        if (e === -1) this.refuse(i, "this ' is never closed");
        this.i = e + 1;
      } else if (c === '"') this.doubleQuotedNoSlots(inParam);
      else if (c === '$') this.dollar(inDq, i);
      else if (c === '`') this.backquote(inDq);
      else this.i = i + 1;
    }
  }

  /** `"…"` inside `${…}` or `$((…))`: read as "…", a value in it refused with `why`. */
  private doubleQuotedNoSlots(why: (slot: string) => string): void {
    const src = this.src;
    const q = this.i;
    this.i++;
    for (;;) {
      const i = this.i;
      if (i >= src.length)
        this.refuse(q, 'this " is never closed (sh would read a value after it as code): close it');
      const c = src[i]!;
      const r = this.slotAt(i);
      if (r) this.refuse(i, why(r));
      if (c === '"') {
        this.i = i + 1;
        return;
      }
      if (c === '\\') this.i = i + 2;
      else if (c === '$') this.dollar(true, i);
      else if (c === '`') this.backquote(true);
      else this.i = i + 1;
    }
  }

  /** `$((…))` from after its `((`: parentheses nest; it ends at `))`; values inside are refused. */
  private arith(open: number, from: number): void {
    const saved = this.within;
    this.within = IN_ARITH;
    this.arithIn(open, from);
    this.within = saved;
  }

  private arithIn(open: number, from: number): void {
    const src = this.src;
    this.deeper(open);
    this.i = from;
    let parens = 0;
    for (;;) {
      const i = this.bnl(this.i);
      if (i >= src.length)
        this.refuse(open, 'this $(( is never closed (sh would read a value after it as code): close it');
      const c = src[i]!;
      const r = this.slotAt(i);
      if (r) this.refuse(i, inArith(r));
      if (c === '(') {
        parens++;
        this.i = i + 1;
      } else if (c === ')') {
        if (parens > 0) {
          parens--;
          this.i = i + 1;
        } else {
          const k = this.bnl(i + 1);
          if (src[k] !== ')') this.refuse(open, 'this $(( is not closed by ))');
          this.i = k + 1;
          return;
        }
      } else if (c === '\\') this.i = i + 2;
      else if (c === "'") {
        const e = src.indexOf("'", i + 1);
        if (e === -1) this.refuse(i, "this ' is never closed");
        this.i = e + 1;
      } else if (c === '"') this.doubleQuotedNoSlots(inArith);
      else if (c === '$') this.dollar(false, i);
      else if (c === '`') this.backquote(false);
      else this.i = i + 1;
    }
  }

  /**
   * `` `…` `` from its opening backquote. sh finds its end first (a backquote not escaped by \), takes \` \\ \$
   * (and \" inside "…") as the characters, then reads the text again as commands. A value inside is refused:
   * a backquote in it would end the substitution early.
   */
  private backquote(inDq: boolean): void {
    const src = this.src;
    const open = this.i;
    this.deeper(open);
    let inner = '';
    let k = open + 1;
    for (;;) {
      if (k >= src.length)
        this.refuse(open, 'this ` is never closed (sh would read a value after it as code): close it');
      const c = src[k]!;
      if (c === '`') break;
      if (c === '\\') {
        const d = src[k + 1];
        if (d === undefined)
          this.refuse(open, 'this ` is never closed (sh would read a value after it as code): close it');
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
    this.noSlotIn(
      open,
      k,
      'is inside `…`',
      'a backquote in a value would end it early: write $(…) instead, with the value bare inside it',
    );
    this.noPendingHeredoc(open, k);
    this.i = k + 1;
    const sub = new Reader(inner, 0, this.level + 1, IN_BACKQUOTE);
    try {
      sub.readAll();
    } catch (e) {
      if (e instanceof Refusal) throw new Refusal(this.base + open, `inside this \`…\`: ${e.message}`);
      throw e;
    }
  }
}

/** `line L, column C` for a multi-line template, else `column C` (both from 1). */
function position(cmd: string, at: number): string {
  const before = cmd.slice(0, at);
  const line = before.split('\n').length;
  const col = at - (before.lastIndexOf('\n') + 1) + 1;
  return cmd.includes('\n') ? `line ${line}, column ${col}` : `column ${col}`;
}

function read(cmd: string): Found[] {
  const reader = new Reader(cmd);
  reader.readAll();
  return reader.found.sort((a, b) => a.at - b.at);
}

export interface CompileOptions {
  /** `--header :`: the columns' names (`{name}`), each the 1-based position of its value. */
  names?: ReadonlyMap<string, number>;
  /**
   * A job may have several arguments (several sources, -N/-n, --colsep): a `{}` then stands for all of them,
   * one word each, and is refused where several words would not be several arguments.
   */
  multi?: boolean;
  /** How messages name the command: `--each` (the default) or `the command`. */
  label?: string;
}

/** The names the reader recognises as `{name}` while a template is compiled (set for that call only). */
let headerNames: ReadonlyMap<string, number> | undefined;

export function compileTemplate(cmd: string, options: CompileOptions = {}): Template {
  headerNames = options.names;
  try {
    return compile(cmd, options);
  } finally {
    headerNames = undefined;
  }
}

function compile(cmd: string, options: CompileOptions): Template {
  const label = options.label ?? '--each';
  if (cmd.trim() === '') throw new UsageError(`${label}: expected a command such as 'gzip {}', got ""`);
  if (cmd.includes('\0')) throw new UsageError(`${label}: the command cannot contain a NUL character`);
  let found: Found[];
  let appends = false;
  let text = cmd;
  try {
    found = read(cmd);
    if (found.length === 0) {
      // No replacement string: the argument is appended. It must land in a plain word too.
      appends = true;
      text = `${cmd} {}`;
      try {
        found = read(text);
        if (found[0]?.command)
          throw new Refusal(
            cmd.length,
            '{} would be the name of the command to run (the command ends where a new one begins): add {} ' +
              'where the argument goes',
          );
        if (!found[0]?.wordStart)
          throw new Refusal(
            cmd.length,
            '{} would join the word before it (the command ends in a backslash): end it with a space or add {}',
          );
        if (options.multi && !found[0].multi)
          throw new Refusal(
            cmd.length,
            '{} would be several words (a job has several arguments) where they would not all be arguments ' +
              'of the command: add {1} {2}… where they go',
          );
      } catch (e) {
        if (e instanceof Refusal && e.at >= cmd.length)
          throw new Refusal(
            cmd.length,
            `the argument, appended after the command (it has no {}), ${e.message.replace(/^\{\} /, '')}`,
          );
        throw e;
      }
    } else if (options.multi) {
      const lone = found.find((f) => !f.multi && parseReplacement(f.r, headerNames).kind === 'all');
      if (lone)
        throw new Refusal(
          lone.at,
          `${lone.r} stands for all of a job's arguments, one word each, and here several words would not be ` +
            `several arguments (an assignment, a redirection, a case word…): use {1}, {2}… for one each`,
        );
    }
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    const at = Math.min(e.at, cmd.length);
    let msg = e.message.replace(/^(\{[^}]*\}) /, '');
    if (/never closed$/.test(msg))
      msg += ': sh would read what follows it, a value too, differently; close it';
    const lead = /^\{[^}]*\} /.exec(e.message)?.[0];
    throw new UsageError(`${label}: ${lead ?? ''}at ${position(cmd, at)}${lead ? ' ' : ': '}${msg}`);
  }
  const parts: string[] = [];
  const slots: Slot[] = [];
  let last = 0;
  for (const f of found) {
    parts.push(text.slice(last, f.at));
    slots.push({ r: f.r, quote: f.quote, multi: f.multi, spec: parseReplacement(f.r, headerNames) });
    last = f.at + f.r.length;
  }
  parts.push(text.slice(last));
  return { parts, slots, appends };
}

/** The command for one argument; `seq` is the 1-based job number (`{#}`). */
export function expandTemplate(t: Template, arg: Buffer, seq: number): string {
  return expandArgs(t, [arg], seq);
}

const EMPTY = Buffer.alloc(0);

/**
 * The command for a job's arguments (GNU parallel's rules): `{}` is all of them, one quoted word each, joined
 * by spaces; `{n}` the n-th. A missing one (a short last group of -N) is empty: nothing where it is a plain
 * argument, as GNU parallel has it, and an empty word ('') anywhere else, so that it never shifts a word into
 * another's place. `none` (-N 0, with that many sources): every replacement string is made from the empty
 * string, as GNU parallel does (`{//}` is then `.`; `{}` stands for one empty value per source).
 */
export function expandArgs(t: Template, args: readonly Buffer[], seq: number, none = 0): string {
  let out = t.parts[0]!;
  t.slots.forEach((s, k) => {
    let word: string;
    const { spec } = s;
    const missing = (): string => {
      const v = none ? applyReplacement(spec.op, EMPTY) : EMPTY;
      return v.length ? quoted(s, v, '{}') : s.multi ? '' : "''";
    };
    if (spec.kind === 'seq') word = safe(s, String(seq));
    else if (spec.kind === 'worker') word = WORKER;
    else if (none) word = spec.kind === 'all' ? Array.from({ length: none }, missing).join(' ') : missing();
    else if (spec.kind === 'all' && args.length !== 1)
      word = args.length === 0 ? missing() : args.map((a) => quoted(s, a, spec.op)).join(' ');
    else {
      const at = spec.pos! > 0 ? spec.pos! - 1 : args.length + spec.pos!;
      const arg = spec.kind === 'all' ? args[0] : at >= 0 ? args[at] : undefined;
      word = arg === undefined ? missing() : quoted(s, arg, spec.op);
    }
    out += word + t.parts[k + 1]!;
  });
  return out;
}

function quoted(s: Slot, arg: Buffer, op: SlotSpec['op']): string {
  return safe(s, quoteBytes(applyReplacement(op, arg ?? EMPTY)));
}

/** A safe word stays bare, unless where it stands a bare word would mean more than its text. */
function safe(s: Slot, word: string): string {
  return (s.quote || RESERVED.has(word)) && !/^['"]/.test(word) ? singleQuote(word) : word;
}
