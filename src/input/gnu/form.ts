/**
 * GNU parallel's input separators. Kept apart, with no imports of poolrun's: main.ts asks isGnuForm on every run,
 * before anything else is loaded.
 */
import { statSync } from 'node:fs';

export const SEPARATORS: readonly string[] = [':::', ':::+', '::::', '::::+'];

export function isSeparator(word: string | Buffer): boolean {
  return SEPARATORS.includes(typeof word === 'string' ? word : word.toString('latin1'));
}

/**
 * Whether the words after the options are GNU parallel's form `CMD [WORD…] ::: A B …` rather than a job file:
 * a `:::`/`::::` separator is among them, or `-a FILE` gave the input. Then every word is a command word or an
 * input value, and none is an option.
 */
export function isGnuForm(args: readonly string[], argFiles: readonly string[] | undefined): boolean {
  return (argFiles?.length ?? 0) > 0 || args.some(isSeparator) || isStdinForm(args);
}

/**
 * GNU parallel's plainest form, `seq 3 | poolrun echo {}`: a command whose input lines come from stdin (as
 * `:::: -`). The words are that command when they cannot be a job file: two or more words whose first is not a job
 * file; or one word holding a replacement string or a blank (`'echo {}'`), or naming an executable file
 * (`ls | poolrun ./fix.sh`). A word is a job file when it ends in .json, .jsonl, .ndjson or .txt, or names an
 * existing path other than an executable file; `-` is stdin's job file. A lone plain word (`poolrun gzip`) stays a
 * job file name, so a mistyped job file is "not found" (exit 2), never a command run on whatever stdin holds; and
 * `poolrun jobs.json -w 2` (an option after a job file) is exit 2 as always.
 */
export function isStdinForm(args: readonly string[]): boolean {
  if (args.length === 0 || args.some(isSeparator)) return false;
  const first = args[0]!;
  if (first === '-' || mayBeJobFile(first)) return false;
  if (args.length >= 2) return true;
  return /\{[^{}\s]*\}|\s/.test(first) || isExecutableFile(first);
}

function mayBeJobFile(word: string): boolean {
  if (/\.(json|jsonl|ndjson|txt)$/i.test(word)) return true;
  try {
    statSync(word);
  } catch {
    return false;
  }
  return !isExecutableFile(word);
}

function isExecutableFile(word: string): boolean {
  try {
    const st = statSync(word);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
