/**
 * What the template reader knows of sh's grammar (dash, Debian's /bin/sh): its reserved words, the builtins that
 * give an argument a meaning beyond its text, the characters that end a word, and what the reader records.
 */

/** dash's reserved words (a value stands only where they do not count, or quoted: words.ts). */
export const RESERVED = new Set([
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
export const CODE = new Set(['eval', 'trap', 'alias']);

/** Builtins whose arguments name variables (`export NAME=value`): a value must not make the name. */
export const NAMES = new Set(['export', 'readonly', 'local', 'unset', 'read', 'getopts']);

/** Deeper than this, `$(…)`, `${…}`, backquotes and groups are refused rather than read (no stack overflow). */
export const MAX_DEPTH = 64;

export const NAME_START = /[A-Za-z_]/;
export const NAME_CHAR = /[A-Za-z0-9_]/;
/** Characters that end an unquoted word. */
export const WORD_END = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);

/**
 * A word's text after sh's quote removal, when it has no expansion (no `$`, no backquote, no value in it):
 * undefined otherwise, as then what it runs is not known here.
 */
export function unquoted(raw: string): string | undefined {
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

/** Where a word stands, as far as its value's meaning goes. */
export type Place =
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

export interface Heredoc {
  delim: string;
  quoted: boolean;
  strip: boolean;
  at: number;
}

/** A replacement string found where it stands in a plain word, and what its place asks of its value. */
export interface Found {
  at: number;
  r: string;
  quote: boolean;
  /** Several words may stand here (see Slot.multi). */
  multi: boolean;
  /** It begins its word (an appended argument must). */
  wordStart: boolean;
  /** It stands where sh reads the name of the command to run. */
  command: boolean;
  /** Where the shell word holding it begins and ends (GNU parallel's -N context: the word is repeated). */
  wordFrom: number;
  wordEnd: number;
}
