/**
 * The template reader's state: the text, where it is in it, what it found, what it is inside. The reader is a set
 * of functions over this object, one file per part of the grammar (commands.ts, words.ts, expansions.ts,
 * heredocs.ts); this file holds the checks they all make. A `$(…)`, a backquote or a here-document line is read
 * by a state of its own (`sub`), which reads its commands with the `list` it was given: the reader's entry point
 * (compile.ts) passes commands.ts's, so that the parts below commands.ts do not import it back.
 */
import { replacementAt } from '../replacements.js';
import { Refusal, SLOT_FIX } from './refusals.js';
import { MAX_DEPTH, type Found, type Heredoc } from './syntax.js';

/** What a reader and every reader it starts share. */
export interface ReadContext {
  /** `--header :`: the names a `{name}` may use. */
  names: ReadonlyMap<string, number> | undefined;
  /**
   * A list of commands, up to the end of the text or, inside `$(…)`, up to its `)` (returns just after it).
   * `open` is where that `$(` is. (commands.ts's `list`.)
   */
  list: (s: ReadState, open: number | undefined) => void;
  /** Where the template first runs `alias` (set by commands.ts), if it does. */
  aliasAt?: number;
}

/**
 * Reads `src` as dash does and collects the replacement strings that stand in plain words; throws a Refusal at
 * the first one that does not, or at the first construct sh would not read to its end.
 */
export class ReadState {
  i = 0;
  readonly found: Found[] = [];
  heredocs: Heredoc[] = [];
  /** The words being read are arguments of eval or trap. */
  codeArgs = false;
  /** The words being read are arguments of export, readonly, local, unset, read or getopts. */
  nameArgs = false;
  /** The word being read is the name of the command to run (perhaps after `command`). */
  commandWord = false;
  /** Set while reading `${…}` or `$((…))`: why a `$(…)` inside refuses its values too. */
  within: string | undefined;
  /**
   * Set while reading `"…"` in the name of the command to run: where that word begins. A `$(…)` in it makes one
   * word, a path if a `/` comes before it (`./"$(basename {})"`), else a name a value could choose.
   */
  quotedCommandFrom: number | undefined;

  constructor(
    readonly context: ReadContext,
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

  /** A reader for text inside this one (`$(…)`, backquoted text, a here-document line). */
  sub(src: string, base: number, level: number, refuseAll: string | undefined): ReadState {
    return new ReadState(this.context, src, base, level, refuseAll);
  }

  /** The whole text: commands up to the end. */
  readAll(): void {
    this.context.list(this, undefined);
  }

  /** Commands up to the `)` of the `$(` at `open` (see ReadContext.list). */
  readList(open: number): void {
    this.context.list(this, open);
  }

  refuse(at: number, message: string): never {
    throw new Refusal(this.base + at, message);
  }

  slotAt(i: number): string | undefined {
    return replacementAt(this.src, i, this.context.names);
  }

  /** Refuses any replacement string in `src[from, to)`. */
  noSlotIn(from: number, to: number, why: string, fix?: string): void {
    for (let k = this.src.indexOf('{', from); k !== -1 && k < to; k = this.src.indexOf('{', k + 1)) {
      const r = this.slotAt(k);
      if (r) this.refuse(k, `${r} ${why}; ${fix ?? SLOT_FIX(r)}`);
    }
  }

  /** Skips backslash-newline pairs (line continuations), which dash removes before reading on. */
  bnl(i: number): number {
    while (this.src[i] === '\\' && this.src[i + 1] === '\n') i += 2;
    return i;
  }

  deeper(at: number): void {
    if (this.level > MAX_DEPTH) this.refuse(at, `the command is nested more than ${MAX_DEPTH} levels deep`);
  }

  /** Past blanks and line continuations. */
  skipBlanks(): void {
    for (;;) {
      const j = this.bnl(this.i);
      if (this.src[j] === ' ' || this.src[j] === '\t') this.i = j + 1;
      else {
        this.i = j;
        return;
      }
    }
  }

  /** At the end of a list: a here-document still waiting for its body is refused. */
  endHeredocs(open?: number): void {
    const h = this.heredocs[0];
    if (!h) return;
    if (open !== undefined)
      this.refuse(h.at, 'a here-document started inside $(…) must end inside it, before the )');
    this.refuse(h.at, `this here-document is never ended: no line ${JSON.stringify(h.delim)} follows`);
  }

  /** A newline inside `$(…)` or `…` while a here-document waits for its body: dash reads it elsewhere. */
  noPendingHeredoc(from: number, to: number): void {
    const h = this.heredocs[0];
    if (h && this.src.slice(from, to).includes('\n'))
      this.refuse(
        h.at,
        'a here-document must begin on the line after its <<, not inside a $(…) or `…` that follows',
      );
  }
}
