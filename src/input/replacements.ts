/**
 * GNU parallel's replacement strings, on bytes (file names need not be UTF-8). Their meanings follow
 * GNU parallel's definitions: `{.}` is `s:\.[^/.]*$::`, `{/}` is `s:.*\/::`, `{//}` is Perl's
 * File::Basename::dirname, `{/.}` is `{/}` then `{.}`.
 */
const SLASH = 0x2f;
const DOT = 0x2e;

export type Replacement = '{}' | '{.}' | '{/}' | '{//}' | '{/.}' | '{#}' | '{%}';

/** Longest first, so `{//}` is not read as `{/}` and a stray `/}`. */
export const REPLACEMENTS: readonly Replacement[] = ['{//}', '{/.}', '{/}', '{.}', '{#}', '{%}', '{}'];

/** `{/}`: everything after the last slash (`a/b/` gives the empty string, as in GNU parallel). */
export function basename(b: Buffer): Buffer {
  return b.subarray(b.lastIndexOf(SLASH) + 1);
}

/** `{.}`: without the last extension of the last path component (`a.tar.gz` → `a.tar`, `.bashrc` → ``). */
export function withoutExtension(b: Buffer): Buffer {
  const dot = b.lastIndexOf(DOT);
  if (dot === -1 || b.indexOf(SLASH, dot) !== -1) return b;
  return b.subarray(0, dot);
}

/** `{//}`: Perl's dirname: `a` → `.`, `/a` → `/`, `a/b/` → `a`, `a//b` → `a`, `/` → `/`. */
export function dirname(b: Buffer): Buffer {
  const [first, base] = fileparse(b);
  const dir = stripTrailingSlashes(first);
  return base.length > 0 ? dir : stripTrailingSlashes(fileparse(dir)[0]);
}

const DOT_SLASH = Buffer.from('.');

/** Perl's fileparse: the part up to the last slash (`./` when there is none), and the rest. */
function fileparse(b: Buffer): [Buffer, Buffer] {
  const slash = b.lastIndexOf(SLASH);
  if (slash === -1) return [DOT_SLASH, b];
  return [b.subarray(0, slash + 1), b.subarray(slash + 1)];
}

/** Perl's `s{(.)/*\z}{$1}s`: trailing slashes go, but never the first character. */
function stripTrailingSlashes(b: Buffer): Buffer {
  let end = b.length;
  while (end > 1 && b[end - 1] === SLASH) end--;
  return b.subarray(0, end);
}

export function applyReplacement(r: Exclude<Replacement, '{#}' | '{%}'>, arg: Buffer): Buffer {
  switch (r) {
    case '{}':
      return arg;
    case '{.}':
      return withoutExtension(arg);
    case '{/}':
      return basename(arg);
    case '{//}':
      return dirname(arg);
    case '{/.}':
      return withoutExtension(basename(arg));
  }
}

/** What a replacement string's value is made of; see parseReplacement. */
export type Op = '{}' | '{.}' | '{/}' | '{//}' | '{/.}';

export interface SlotSpec {
  /** all: every argument of the job (`{}`); pos: one of them (`{2}`, `{name}`); seq: `{#}`; worker: `{%}`. */
  kind: 'all' | 'pos' | 'seq' | 'worker';
  /** 1-based, for `pos`; from the end when negative (`{-1}` is the last argument). */
  pos?: number;
  op: Op;
}

const POSITIONAL = /^\{(-?[1-9][0-9]{0,5})(\.|\/|\/\/|\/\.)?\}/;

/**
 * The replacement string that starts at `src[i]`, if one does: `{}` `{.}` `{/}` `{//}` `{/.}` `{#}` `{%}`,
 * GNU parallel's positional ones `{1}` `{1.}` `{1/}` `{1//}` `{1/.}` (`{-1}`: the last), and with `--header :` a column's name
 * `{name}` (`names`), with the same suffixes (`{name.}` `{name/}` `{name//}` `{name/.}`).
 */
export function replacementAt(
  src: string,
  i: number,
  names?: ReadonlyMap<string, number>,
): string | undefined {
  if (src[i] !== '{') return undefined;
  const fixed = REPLACEMENTS.find((t) => src.startsWith(t, i));
  if (fixed) return fixed;
  const m = POSITIONAL.exec(src.slice(i, i + 12));
  if (m) return m[0];
  if (names && names.size) {
    const close = src.indexOf('}', i + 1);
    if (close !== -1 && named(src.slice(i + 1, close), names)) return src.slice(i, close + 1);
  }
  return undefined;
}

/** Suffixes a `{name}` takes, as `{1}` does (GNU: `{name.}` is `{1.}`); longest first. */
const NAME_OPS = ['/.', '//', '/', '.'] as const;

/** `name`, or `name` and one of the suffixes, as --header's names give them (the exact name first). */
function named(inner: string, names: ReadonlyMap<string, number>): SlotSpec | undefined {
  const pos = names.get(inner);
  if (pos !== undefined) return { kind: 'pos', pos, op: '{}' };
  for (const op of NAME_OPS) {
    const at =
      inner.length > op.length && inner.endsWith(op) ? names.get(inner.slice(0, -op.length)) : undefined;
    if (at !== undefined) return { kind: 'pos', pos: at, op: `{${op}}` as Op };
  }
  return undefined;
}

/**
 * The 0-based index of positional `pos` (1-based; from the end when negative) among `n` arguments, or undefined
 * when there is none. GNU parallel indexes its Perl array with `n + pos` for a negative one, and Perl counts a
 * negative index from the end again: `{-k}` past the first argument wraps around once (`{-2}` of one argument is
 * it; `{-3}` of two is the second), and is nothing past twice n.
 */
export function argIndex(pos: number, n: number): number | undefined {
  let at = pos > 0 ? pos - 1 : n + pos;
  if (at < 0) at += n;
  return at >= 0 && at < n ? at : undefined;
}

/** The meaning of a replacement string found by replacementAt (with the same `names`). */
export function parseReplacement(token: string, names?: ReadonlyMap<string, number>): SlotSpec {
  if (token === '{#}') return { kind: 'seq', op: '{}' };
  if (token === '{%}') return { kind: 'worker', op: '{}' };
  if ((REPLACEMENTS as readonly string[]).includes(token)) return { kind: 'all', op: token as Op };
  const byName = names && named(token.slice(1, -1), names);
  if (byName) return byName;
  const m = POSITIONAL.exec(token)!;
  return { kind: 'pos', pos: Number(m[1]), op: `{${m[2] ?? ''}}` as Op };
}
