/**
 * Here-documents: the delimiter after `<<` or `<<-`, then the bodies, read line by line after the next newline.
 * A replacement string in a body is refused (quotes do not count there); an unquoted body's expansions are read
 * as inside "…", each closed on its line.
 */
import { backquote, dollar } from './expansions.js';
import { IN_HEREDOC, Refusal } from './refusals.js';
import type { ReadState } from './state.js';
import { WORD_END, type Place } from './syntax.js';
import { word } from './words.js';

/** After `<<` or `<<-`: the delimiter word; its body is read at the next newline. */
export function heredocStart(s: ReadState, strip: boolean, at: number, place: Place): Place {
  s.skipBlanks();
  const start = s.i;
  if (start >= s.src.length || WORD_END.has(s.src[start]!))
    s.refuse(at, 'a here-document (<<) needs a delimiter word after it');
  s.codeArgs = s.nameArgs = s.commandWord = false;
  const w = word(s, 'delim');
  const raw = s.src.slice(start, s.i);
  if (/[$`]/.test(raw))
    s.refuse(start, 'a here-document delimiter with $ or ` in it is not supported: write a plain word');
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
  s.heredocs.push({ delim, quoted: !w.plain, strip, at });
  return place === 'cmd' ? 'name' : place;
}

/** After a newline: the bodies of the here-documents started on the line before, in order. */
export function readHeredocs(s: ReadState): void {
  if (s.heredocs.length === 0) return;
  const src = s.src;
  for (const h of s.heredocs) {
    for (;;) {
      if (s.i >= src.length)
        s.refuse(h.at, `this here-document is never ended: no line ${JSON.stringify(h.delim)} follows`);
      const nl = src.indexOf('\n', s.i);
      const end = nl === -1 ? src.length : nl;
      let line = src.slice(s.i, end);
      if (h.strip) line = line.replace(/^\t+/, '');
      if (line === h.delim) {
        s.i = nl === -1 ? end : end + 1;
        break;
      }
      s.noSlotIn(
        s.i,
        end,
        'is in a here-document',
        'quotes do not protect a value there: pipe it in instead (printf "%s\\n" {} | cmd)',
      );
      if (!h.quoted) {
        const tail = /\\+$/.exec(line);
        if (tail && tail[0].length % 2 === 1)
          s.refuse(
            end - 1,
            'a line of a here-document ends with \\ (it would join the next line): not supported',
          );
        // Expansions in the body must close on their line; dash would read on into the next lines.
        const sub = s.sub(src.slice(s.i, end), s.base + s.i, s.level, IN_HEREDOC);
        try {
          heredocLine(sub);
        } catch (e) {
          if (e instanceof Refusal && /never closed/.test(e.message))
            throw new Refusal(e.at, `${e.message} on its line of the here-document`);
          throw e;
        }
      }
      s.i = nl === -1 ? end : end + 1;
    }
  }
  s.heredocs = [];
}

/** A line of an unquoted here-document body: `$…`, `…` and \ work as inside "…", quotes are text. */
function heredocLine(s: ReadState): void {
  const src = s.src;
  while (s.i < src.length) {
    const c = src[s.i]!;
    if (c === '\\') s.i += 2;
    else if (c === '$') dollar(s, true, s.i);
    else if (c === '`') backquote(s, true);
    else s.i++;
  }
}
