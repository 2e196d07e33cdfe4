/**
 * Lists of commands: where each word stands (the command's name, an argument, a redirection's target, a case
 * pattern, a for loop's words…), what the command is (eval and trap run their arguments as code, export and
 * read name variables, `command` and `exec` run the next word), and the groups, subshells, `case` and `for`
 * around it.
 */
import { heredocStart, readHeredocs } from './heredocs.js';
import type { ReadState } from './state.js';
import { CODE, NAMES, RESERVED, WORD_END, unquoted, type Place } from './syntax.js';
import { operator, word } from './words.js';

/**
 * A list of commands, up to the end of the text or, inside `$(…)`, up to its `)` (returns just after it).
 * `open` is where that `$(` is.
 */
export function list(s: ReadState, open: number | undefined): void {
  const src = s.src;
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
      const j = s.bnl(s.i);
      if (src[j] === ' ' || src[j] === '\t') s.i = j + 1;
      else {
        s.i = j;
        break;
      }
    }
    const i = s.i;
    if (i >= src.length) {
      if (open !== undefined)
        s.refuse(open, 'this $( is never closed (sh would read a value after it as code): close it');
      s.endHeredocs();
      return;
    }
    const c = src[i]!;
    if (c === '#') {
      // A comment, to the end of the line (a backslash does not continue it).
      const nl = src.indexOf('\n', i);
      const end = nl === -1 ? src.length : nl;
      s.noSlotIn(i, end, 'is in a comment', 'sh ignores it there: move it out of the comment');
      s.i = end;
      continue;
    }
    if (c === '\n') {
      runsCode = namesVars = wrapped = false;
      s.i = i + 1;
      readHeredocs(s);
      if (place !== 'caseIn' && place !== 'pattern' && place !== 'forName' && place !== 'caseWord')
        place = 'cmd';
      continue;
    }
    // `2>f`, `0<&3`: digits right before < or > are the redirection's file descriptor (sh's IO_NUMBER), not a
    // word; the command's name is still to come (`2>/dev/null eval …` runs eval).
    if (place === 'cmd' || place === 'name' || place === 'arg') {
      let j = i;
      while (j < src.length && src[j]! >= '0' && src[j]! <= '9') j++;
      if (j > i && (src[j] === '<' || src[j] === '>')) {
        s.i = j;
        continue;
      }
    }
    const op = operator(s, i);
    if (op) {
      s.i = op.end;
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
            s.deeper(i);
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
            s.endHeredocs(open);
            return;
          }
          place = 'arg';
          break;
        case '<<':
        case '<<-':
          place = heredocStart(s, op.op === '<<-', i, place);
          break;
        default: {
          // < > >> <> >| >& <&: the target word follows.
          s.skipBlanks();
          if (s.i >= src.length || WORD_END.has(src[s.i]!))
            s.refuse(i, `the redirection ${op.op} needs a target word after it`);
          s.codeArgs = s.nameArgs = s.commandWord = false;
          word(s, op.op === '>&' || op.op === '<&' ? 'fd' : 'redir');
          if (place === 'cmd') place = 'name';
        }
      }
      continue;
    }
    // A word.
    s.codeArgs = place === 'arg' && runsCode;
    s.nameArgs = place === 'arg' && namesVars;
    s.commandWord = place === 'cmd' || place === 'name' || (place === 'arg' && wrapped);
    const w = word(s, place);
    if (((place === 'cmd' || place === 'name') && !w.assignment) || (place === 'arg' && wrapped)) {
      // What sh runs: the word after quote removal (`"eval"`, `\eval`, `e''val` are eval too).
      const name = w.plain ? w.text : unquoted(w.raw);
      runsCode = name !== undefined && CODE.has(name);
      if (name === 'alias') s.context.aliasAt ??= s.base + i;
      namesVars = name !== undefined && NAMES.has(name);
      // `command [-p] NAME …`, `exec NAME …`: NAME is the command; options before it are skipped.
      // `command -v NAME` only looks NAME up.
      if (place === 'arg' && wrapped && name?.startsWith('-')) wrapped = !/[vV]/.test(name);
      else wrapped = name === 'command' || name === 'exec';
    }
    const kw = w.plain && (place === 'cmd' || place === 'pattern' || place === 'forIn' || place === 'caseIn');
    if (place === 'cmd' && kw && RESERVED.has(w.text) && w.text !== 'in') {
      switch (w.text) {
        case 'case':
          s.deeper(i);
          frames.push('case');
          place = 'caseWord';
          break;
        case 'for':
          place = 'forName';
          break;
        case '{':
          s.deeper(i);
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
