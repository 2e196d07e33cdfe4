/**
 * Command-line arguments as the bytes the user passed. Node decodes argv as UTF-8 and turns bytes that are not
 * UTF-8 into U+FFFD, so a file named `caf\xe9` would reach `--each` as `caf�`. On Linux the exact bytes are in
 * /proc/self/cmdline; elsewhere the decoded text is the best there is.
 */
import { readFileSync } from 'node:fs';
import { printable } from './text.js';
import { utf8Runs } from './utf8.js';

export function rawArguments(args: readonly string[]): Buffer[] {
  const plain = () => args.map((a) => Buffer.from(a));
  if (!args.some((a) => a.includes('\uFFFD'))) return plain();
  const user = userArgv();
  if (!user) return plain();
  // The arguments are the last words of the command line (util/argv-split.ts): match them from the end, so an
  // option's value that decodes to the same text (`--joblog $'\xff' … $'\xfe'`) never lends its bytes.
  const tail = user.slice(user.length - args.length);
  if (tail.length === args.length && tail.every((u, k) => u.toString('utf8') === args[k])) return tail;
  return plain();
}

/** The entries of /proc/self/cmdline that are process.argv.slice(2), if they line up with it. */
function userArgv(): Buffer[] | undefined {
  let cmdline: Buffer;
  try {
    cmdline = readFileSync('/proc/self/cmdline');
  } catch {
    return undefined;
  }
  const entries: Buffer[] = [];
  for (let start = 0; start < cmdline.length;) {
    let end = cmdline.indexOf(0, start);
    if (end === -1) end = cmdline.length;
    entries.push(cmdline.subarray(start, end));
    start = end + 1;
  }
  const n = process.argv.length - 2;
  if (n < 0 || entries.length < n) return undefined;
  const user = entries.slice(entries.length - n);
  const matches = user.every((b, k) => b.toString('utf8') === process.argv[k + 2]);
  return matches ? user : undefined;
}

/**
 * A path given as a command-line word, as the user's bytes when they are not UTF-8: Node decoded `j\xe9.txt` to
 * `j\uFFFD.txt`, which fs would look for as `j\xef\xbf\xbd.txt`. A Buffer (fs takes one as a path) when an
 * argument decodes to `decoded`, and every argument that does has the same bytes; else `decoded` itself (valid
 * UTF-8, no /proc, or two different byte strings that read the same).
 */
export function rawPath(decoded: string): string | Buffer {
  if (!decoded.includes('\uFFFD')) return decoded;
  const same = userArgv()?.filter((u) => u.toString('utf8') === decoded) ?? [];
  if (same.length === 0 || same.some((u) => !u.equals(same[0]!))) return decoded;
  return Buffer.from(same[0]!);
}

/** A path as messages show it: bytes that are not UTF-8 as `\xHH`, control characters escaped (util/text). */
export function shownPath(path: string | Buffer): string {
  if (typeof path === 'string') return printable(path);
  return utf8Runs(path)
    .map((r) =>
      'text' in r
        ? printable(r.text)
        : Array.from(r.bytes, (b) => `\\x${b.toString(16).padStart(2, '0')}`).join(''),
    )
    .join('');
}

/**
 * Whether the user wrote `decoded` (a word Node decoded from argv, or part of one: `--each=CMD`'s CMD) in bytes that
 * are not UTF-8: some argument holds it and is not the UTF-8 of its own text. Any such argument counts, so two
 * arguments that read the same (one of them not UTF-8) say yes. False without /proc.
 */
export function writtenNotUtf8(decoded: string): boolean {
  if (!decoded.includes('\uFFFD')) return false;
  return (userArgv() ?? []).some((u) => {
    const text = u.toString('utf8');
    return text.includes(decoded) && !u.equals(Buffer.from(text));
  });
}
