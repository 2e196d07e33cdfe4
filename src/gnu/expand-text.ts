/**
 * GNU parallel's replacement strings in a text that is no shell command (--tagstring, --results NAME): values go
 * in as they are, unquoted. `{}` `{.}` `{/}` `{//}` `{/.}` are all of the job's arguments joined by spaces, `{n}`
 * (`{-n}` from the end) one of them or nothing, `{#}` the job number, `{%}` the worker slot; with --header,
 * `{name}`. With -N, GNU's context replace: the text between blanks (space, TAB) around a `{}`-form is written
 * once per argument, the copies joined by spaces (`x{}y` → `xay xby`), as in the command.
 */
import {
  applyReplacement,
  argIndex,
  parseReplacement,
  replacementAt,
  type SlotSpec,
} from '../input/replacements.js';

export interface TextValues {
  /** The job's arguments, in order. */
  values: readonly Buffer[];
  /** --header: each argument's name, by position. */
  names?: readonly string[] | undefined;
  /** `{#}`. */
  seq: number;
  /** `{%}`: the worker slot, when known. */
  slot: number | null;
  /** -N was given: context replace. */
  context: boolean;
}

type Piece = string | { spec: SlotSpec };

const SPACE = Buffer.from(' ');

/** Whether `text` holds a replacement string (--header's names too, when given). */
export function hasReplacement(text: string, names?: readonly string[]): boolean {
  const map = nameMap(names);
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1))
    if (replacementAt(text, i, map)) return true;
  return false;
}

/** --header's names, each to its source's number (the first of a name given twice wins, as GNU's). */
export function nameMap(names: readonly string[] | undefined): ReadonlyMap<string, number> | undefined {
  return names ? new Map(names.map((n, k) => [n, k + 1] as const).reverse()) : undefined;
}

function pieces(text: string, names: ReadonlyMap<string, number> | undefined): Piece[] {
  const out: Piece[] = [];
  let last = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i)) {
    const r = replacementAt(text, i, names);
    if (!r) {
      i++;
      continue;
    }
    if (i > last) out.push(text.slice(last, i));
    out.push({ spec: parseReplacement(r, names) });
    i += r.length;
    last = i;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/**
 * `text` is a string, or bytes (a --tagstring after its escapes, which may make any byte): bytes are read as
 * latin1, one character each, and --header's names with them.
 */
export function expandText(given: string | Buffer, v: TextValues): Buffer {
  const bytes = typeof given !== 'string';
  const text = bytes ? given.toString('latin1') : given;
  const names = nameMap(bytes ? v.names?.map((x) => Buffer.from(x).toString('latin1')) : v.names);
  const literal = (p: string): Buffer => Buffer.from(p, bytes ? 'latin1' : 'utf8');
  const n = v.values.length;
  const one = (spec: SlotSpec, arg: Buffer | undefined): Buffer => {
    if (spec.kind === 'seq') return Buffer.from(String(v.seq));
    if (spec.kind === 'worker') return Buffer.from(v.slot === null ? '' : String(v.slot));
    if (spec.kind === 'pos') {
      const at = argIndex(spec.pos!, n);
      const a = at === undefined ? undefined : v.values[at];
      return a === undefined ? Buffer.alloc(0) : applyReplacement(spec.op, a);
    }
    if (arg !== undefined) return applyReplacement(spec.op, arg);
    return join(v.values.map((a) => applyReplacement(spec.op, a)));
  };
  const render = (ps: Piece[], arg?: Buffer): Buffer =>
    Buffer.concat(ps.map((p) => (typeof p === 'string' ? literal(p) : one(p.spec, arg))));
  if (!v.context) return render(pieces(text, names));
  // Context replace: groups between blanks; a space separates groups, a TAB begins the next one (GNU's tokens).
  const out: Buffer[] = [];
  for (const part of text.split(/( )/)) {
    if (part === ' ') {
      out.push(SPACE);
      continue;
    }
    for (const group of part.split(/(?=\t)/)) {
      const ps = pieces(group, names);
      const repeats = ps.some((p) => typeof p !== 'string' && p.spec.kind === 'all');
      if (!repeats) out.push(render(ps));
      else out.push(join((n ? v.values : [Buffer.alloc(0)]).map((a) => render(ps, a))));
    }
  }
  return Buffer.concat(out);
}

function join(parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i) out.push(SPACE);
    out.push(p);
  });
  return Buffer.concat(out);
}
