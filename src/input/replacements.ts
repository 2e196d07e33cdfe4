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

const DOT_SLASH = Buffer.from('./');

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
