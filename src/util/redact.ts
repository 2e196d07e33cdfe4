/**
 * The one redactor. Every place that shows or stores a URL or a command line (messages, --dry-run, the joblog,
 * the rerun hint, --json, NDJSON, JUnit, --report, a download's .part.meta) passes it through here, so a secret
 * has one way out and it is masked there: a URL's user and password, every query value and the fragment become
 * `***`; outside a URL, the value of an assignment, option or JSON member whose name is a secret's (`DB_PASS=VALUE`,
 * `--passphrase VALUE`, `"api_key": VALUE`: isSecretName) and `mysql -pVALUE` too.
 * Host, port and path stay, so the message still says where.
 *
 * Works on text, not on a parsed URL: a URL object re-encodes and normalises (`HTTP://h:80/a/../b` → `http://h/b`),
 * and a value that does not parse as a URL (`redis://:pa ss@h`) must be masked all the same.
 */

import { shellWord, type Sticky } from './shell-word.js';
import { isSecretName } from './secret-name.js';
import { maskProgramPasswords, PROGRAM_HINT } from './redact-programs.js';

export { isSecretName };

export const MASK = '***';

/** Where a URL in a line of text is: at each `://`, its scheme before it (see schemeStart), its end (urlEnd). */
const URL_IN_TEXT = /:\/\//g;
/**
 * A name before `=` (`DB_PASS=x`, `--passphrase=x`, `password = x`, spaces round `=` only when before it too:
 * `REDIS_PASS= cmd` sets nothing secret), outside a URL (an environment assignment, an option). Only `=`: a colon
 * is too common in ordinary text to mask after. Whether the name is a secret's is isSecretName's to say.
 */
const ASSIGNMENT_NAME = /(?<![\w.-])([\w.-]*\w)(=|[ \t]+==?[ \t]*)/g;
/** A value as a shell word, to unquoted white space, `&` or `;` (shellWord). */
const ASSIGNED_VALUE = shellWord(';&');

/**
 * Every match of `name` (a global expression whose group 1 is a name, its match ending where a value starts)
 * whose name is a secret's: the value `value` (a sticky expression) matches there becomes `***`. A name that is
 * no secret's is passed over, not its value: `X=DB_PASS=x` masks x. One scan, linear in the text.
 */
function maskNamed(
  text: string,
  name: RegExp,
  value: Sticky,
  quote = '',
  secret: (name: string) => boolean = isSecretName,
  /** A value that is the next name (`-psecret --token X`): that one's value is masked, not the name. */
  isName?: (value: string) => boolean,
): string {
  let out = '';
  let last = 0;
  name.lastIndex = 0;
  value.start?.(text);
  for (let m = name.exec(text); m; m = name.exec(text)) {
    if (m[0] === '') {
      name.lastIndex++;
      continue;
    }
    if (!secret(m[1]!)) continue;
    const at = m.index + m[0].length;
    value.lastIndex = at;
    const v = value.exec(text);
    if (!v || v[0] === '' || isName?.(v[0])) continue;
    out += text.slice(last, at) + quote + MASK + quote;
    last = at + v[0].length;
    name.lastIndex = last;
  }
  return out + text.slice(last);
}

/**
 * A value meant as a URL, with its secrets masked. One that does not parse (`http://u:p@exa mple.com/?t=x`,
 * `http ://u:pw@h`, `h.example/?t=x`, `http:/u:pw@h`) is masked all the same, and more widely, since where its
 * parts end is a guess: its user and password are everything before the last `@` (a `/` in a password does not
 * end them), and its query values and fragment go as always.
 */
export function redactUrl(url: string): string {
  const loose = !URL.canParse(url);
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (m) return m[1]! + redactRest(m[2]!, loose);
  const sep = url.indexOf('://');
  // A `://` after a `?` or `#` is inside the query or fragment (`//h?k=-http://`), not after a scheme: masking
  // what is before it as text would find this same query and come back here for ever.
  if (sep >= 0 && !/[?#]/.test(url.slice(0, sep)))
    return maskAssignments(url.slice(0, sep + 3)) + redactRest(url.slice(sep + 3), true);
  // `http:/h`, `//h`: the slashes are no part of a user name.
  const lead = /^(?:[a-z][a-z0-9+.-]*:)?\/+/i.exec(url)?.[0] ?? '';
  return lead + redactRest(url.slice(lead.length), true);
}

/**
 * The part of a URL after `scheme://`: userinfo, then host and path, then `?query`, then `#fragment`. `loose`:
 * the text is no valid URL, and its userinfo is whatever comes before the last `@`.
 */
function redactRest(rest: string, loose = false): string {
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.length > hash + 1 ? `#${MASK}` : '#';
    rest = rest.slice(0, hash);
  }
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = `?${redactQuery(rest.slice(q + 1))}`;
    rest = rest.slice(0, q);
  }
  // The authority ends at the first '/'; its userinfo at the last '@' within it (a password may hold '@').
  const slash = loose && rest.includes('@') ? rest.indexOf('/', rest.lastIndexOf('@')) : rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash) : '';
  const at = authority.lastIndexOf('@');
  let shown = authority;
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    const masked = (user ? MASK : '') + (colon >= 0 ? `:${userinfo.length > colon + 1 ? MASK : ''}` : '');
    shown = `${masked}@${authority.slice(at + 1)}`;
  }
  return shown + redactPath(path) + query + fragment;
}

/** `;password=x` path parameters (some drivers take them) lose their value too. */
function redactPath(path: string): string {
  return maskAssignments(path);
}

/** Every value goes; keys stay (they say what was there). A bare `?token` is a value. */
function redactQuery(query: string): string {
  // `?…` is how a message says "a query was here" (http-client's showUrl): already masked.
  if (query === '' || query === '…') return query;
  return query
    .split(/([&;])/)
    .map((part, k) => {
      if (k % 2 === 1 || part === '') return part;
      const eq = part.indexOf('=');
      if (eq < 0) return MASK;
      return `${part.slice(0, eq)}=${part.length > eq + 1 ? MASK : ''}`;
    })
    .join('');
}

/**
 * Free text (a command line, an error message): every URL in it is redacted, and every `password=…`. A URL that
 * does not parse is redacted as redactUrl does (its user and password are all before its last `@`); one cut in
 * two by a space (`http://u:pw@exa mple.com/?t=x`) loses the query values of its tail too (BARE_QUERY).
 */
export function redactText(text: string): string {
  if (
    !text.includes('://') &&
    !text.includes('?') &&
    !text.includes('@') &&
    !HINT.test(text) &&
    !PROGRAM_HINT.test(text)
  )
    return text;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(URL_IN_TEXT)) {
    const from = schemeStart(text, m.index);
    if (from < last || from === m.index) continue; // in the URL before (`http://h/?u=http://…`), or no scheme
    const start = m.index + 3;
    // Punctuation that ends a sentence is not part of the URL (`… to http://h/x?…: a download …`).
    const rest = text.slice(start, urlEnd(text, start)).replace(/[.,:;!)\]]+$/, '');
    out += maskAssignments(text.slice(last, from), last > 0);
    out += redactUrl(text.slice(from, start) + rest);
    last = start + rest.length;
  }
  return out + maskAssignments(text.slice(last), last > 0);
}

/**
 * Where the scheme before the `://` at `colon` begins: a letter, then letters, digits, `+`, `.`, `-` (`x_http://`
 * is `http://`). Scanned back from the `://`, not matched from every word boundary: a long `a.a.a.…` made that
 * quadratic.
 */
function schemeStart(text: string, colon: number): number {
  let from = colon;
  while (from > 0 && /[a-z0-9+.-]/i.test(text[from - 1]!)) from--;
  while (from < colon && !/[a-z]/i.test(text[from]!)) from++;
  return from;
}

/**
 * Where a URL in text ends: at white space, `<`, `>` or a backtick (none of which a URL holds), or at a quote
 * followed by white space, punctuation or the end (`"http://h/x",`, `'http://h/x'`). A quote followed by more of
 * the word is in the URL (`http://u:p'w@h`, `?t='x`: both legal), so its secret is masked whole.
 */
function urlEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (/[\s<>`]/.test(c)) return i;
    // A quote a shell or JSON escaped is in the word: `'…'\''…'` (sh), `\"` (JSON).
    if (text.startsWith("'\\''", i)) {
      i += 3;
      continue;
    }
    if (text[i - 1] === '\\') continue;
    if ((c === '"' || c === "'") && (i + 1 === text.length || /[\s.,:;!?)\]}>'"`]/.test(text[i + 1]!))) {
      // Unless the word goes on to the `@` that ends a user and password (`http://u':p@h`, `http://u:p'@h`).
      const word = /^[^\s<>`]*/.exec(text.slice(from))![0];
      const at = word.lastIndexOf('@');
      if (at > i - from && !/[/?#]/.test(word.slice(0, at))) return urlEnd(text, from + at + 1);
      return i;
    }
  }
  return text.length;
}

/**
 * A job's id, or another label a user gave (a `--tagstring` tag), as poolrun shows or stores it. One that is a
 * URL (the most common id of a download) is redacted as a URL, so one that does not parse
 * (`http://u:pw@exa mple.com/?t=x`) is masked whole; any other is free text.
 */
export function redactId(id: string): string {
  const lead = /^\s*(?=(?:[a-z][a-z0-9+.-]*\s*:\/|\/\/))/i.exec(id);
  return lead ? lead[0] + redactUrl(id.slice(lead[0].length)) : redactText(id);
}

/** Words that come before a secret in the forms below; text without any of them is returned at once. */
const HINT = /pass|pw|secret|token|key|auth|cred|bearer|cookie|session|-u\b|--user\b/i;
/**
 * `--password VALUE`, `--pass VALUE`, `-pass VALUE` (openssl): an option whose name is a secret's (isSecretName)
 * with a space before the value (after a JSON `\n` too). A long option's words may be joined by `.` or `:` too
 * (`--db.password`, `--db:password`); not by `/`, nor a short option's (`-I/opt/tokenizers/include -O2`,
 * `-Cfoo.token` are a path glued to its option).
 */
const LONG_NAME = '[a-z0-9][a-z0-9_.:-]*';
const SHORT_NAME = '[a-z0-9][a-z0-9_-]*';
const SECRET_OPTION = new RegExp(
  `(?<=^|[\\s'"\`(<[{,=]|\\\\[ntr])(?:--(?=${LONG_NAME}\\s)|-(?=${SHORT_NAME}\\s))(${LONG_NAME})(\\s+)`,
  'gi',
);
/** To where sh ends the word: a blank, or `;`, `&`, `|`, a redirection, a `)` (the command around goes on). */
const OPTION_VALUE = shellWord(';&|<>)');
/** The value is itself an option with a secret's name (`--pass --token X`): masked is that one's value. */
const SECRET_OPTION_WORD = new RegExp(`^(?:--(${LONG_NAME})|-(${SHORT_NAME}))$`, 'i');
const secretOption = (word: string) => {
  const m = SECRET_OPTION_WORD.exec(word);
  return isSecretName(m?.[1] ?? m?.[2] ?? '');
};
/**
 * A header written out whose name says it carries a secret (`Authorization: Basic X`, `X-Api-Token: X`,
 * `Cookie: a=b`, `Proxy-Authorization: …`): the value, to the end of the quoted word or line. And `Bearer X`.
 * Not the end of a path in a job file's message (`jobs[0].env.TOKEN: cannot contain a NUL character`).
 */
const HEADER_NAME = /(?<![\w.\]-])([a-z0-9][\w-]*)(:[ \t]*)(?=\S)/gi;
/** Header names that carry a secret though isSecretName would not say so of them as a variable's. */
const SECRET_HEADER_NAME = /authorization|token|api-?key|secret|passw(?:or)?d|cookie|session/i;
/**
 * To the end of the quoted word or line; or a value quoted on its own after the colon (`password: 'a b'`), whose
 * closing quote ends a word: in `echo 'session: '$(date) …` the quote after the colon closes one, and what
 * follows up to the next quote is code, not a value.
 */
const HEADER_VALUE = /'[^'\n]*'(?=[\s;&|)]|$)|"[^"\n]*"(?=[\s;&|)]|$)|[^'"\n]+/y;
const BEARER = /\b(bearer)(\s+)([a-z0-9._~+/=-]{8,})/gi;
/** A JSON member whose key says it is a secret (`{"db_pass":"x"}`, a `call`'s argument as --dry-run shows it). */
const JSON_KEY = /"((?:[^"\\\n]|\\.)*)"\s*:\s*/g;
const JSON_VALUE = /"(?:[^"\\]|\\.)*"|[^\s,}\]]+/y;
/** `curl -u user:pw`, `--user user:pw`: the password after the colon. */
const USER_OPTION = /(^|\s)(-u|--user|--proxy-user)(\s*|=)("?[^\s:"']+):("[^"]*"|'[^']*'|[^\s'"]+)/g;

/** Bytes that are a label (a --tag): redacted as text, each byte kept as it is (latin1), the same Buffer if clean. */
export function redactBytes(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1');
  const shown = redactText(text);
  return shown === text ? bytes : Buffer.from(shown, 'latin1');
}

/**
 * A URL without its scheme, or the tail of one a space cut off (`exa mple.com/?t=x`): a word with a `.` or `/`
 * before its `?`, and something after it. Its query values and fragment go (a quote ends it as it ends a URL).
 */
/** A run of a bare URL's characters that ends in `?`: tried once from its start, so that scanning stays linear. */
const QUERY_RUN = /(?<![^\s'"`<>?#])[^\s'"`<>?#]+\?/g;
/** What follows the `?`: query values and fragment (a quote ends it as it ends a URL). */
const QUERY_TAIL = /(?:[^\s'"`<>]|'\\''|(?<=\\)['"]|['"](?![\s.,:;!?)\]}>'"`]|$))+/y;
const QUERY_LEAD = /[\s'"`(<=]/;
function maskAssignments(text: string, afterUrl = false): string {
  text = maskBare(text, afterUrl);
  text = maskNamed(text, ASSIGNMENT_NAME, ASSIGNED_VALUE);
  text = maskNamed(text, JSON_KEY, JSON_VALUE, '"');
  text = maskNamed(text, SECRET_OPTION, OPTION_VALUE, '', isSecretName, secretOption);
  // `mysql -pSECRET`, `sshpass -p SECRET`, `redis-cli -a SECRET`…: util/redact-programs.ts.
  text = maskProgramPasswords(text, MASK);
  return maskHeaders(text)
    .replace(BEARER, (_m, scheme: string, space: string) => `${scheme}${space}${MASK}`)
    .replace(
      USER_OPTION,
      (_m, lead: string, opt: string, sep: string, user: string) => `${lead}${opt}${sep}${user}:${MASK}`,
    );
}

/**
 * A header written out whose name says it carries a secret (`X-Auth: …`, `Ssh-Key: …`, not `Author: …` or
 * `Sort-Key: …`): its value, to the end of the quoted word or line. HEADER_NAME tries each run of name
 * characters once, from its start, so that long runs of them stay linear.
 */
function maskHeaders(text: string): string {
  if (!text.includes(':')) return text;
  return maskNamed(text, HEADER_NAME, HEADER_VALUE, '', (n) => SECRET_HEADER_NAME.test(n) || isSecretName(n));
}

/**
 * Each word (after white space, a quote, `(`, `<` or `=`) with a `.` or `/` before its `?` and a `name=value` after
 * it, or in a URL a space cut in two (`afterUrl`: the text follows a URL): its query values and fragment are masked
 * (redactUrl); not `Why?.txt`, `*.??`. A word cannot hold a `?`, so every start inside one run of word characters
 * ends at the same `?`: each run is scanned once, from its start, and the leftmost start in it is taken.
 */
export function maskBareQueries(text: string, afterUrl = false): string {
  // Its own regular expressions: redactUrl below comes back here for the word it masks.
  const cutTail = afterUrl ? (/^[ \t]+/.exec(text)?.[0].length ?? -1) : -1;
  const runs = new RegExp(QUERY_RUN);
  const tails = new RegExp(QUERY_TAIL);
  let out = '';
  let from = 0;
  for (let m = runs.exec(text); m; m = runs.exec(text)) {
    const run = m.index;
    const q = run + m[0].length; // just past the '?'
    let word = -1;
    if (run === 0 || QUERY_LEAD.test(text[run - 1]!)) word = run;
    else
      for (let k = run; k < q - 2; k++)
        if (text[k] === '(' || text[k] === '=') {
          word = k + 1;
          break;
        }
    if (word < 0) continue;
    tails.lastIndex = q;
    const tailMatch = tails.exec(text);
    if (!tailMatch) continue;
    const query = tailMatch[0];
    const end = q + query.length;
    runs.lastIndex = end;
    const head = text.slice(word, q);
    if (!/[./]/.test(head)) continue;
    if (!query.split('#')[0]!.includes('=') && word !== cutTail && !cutUrlBefore(text, word)) continue;
    const tail = /[.,:;!)\]]+$/.exec(query)?.[0] ?? '';
    out += text.slice(from, word) + redactUrl(head + query.slice(0, query.length - tail.length)) + tail;
    from = end;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Whether the word at `at` follows, after blanks, a word holding `://` (the head of a URL a space cut in two). */
export function cutUrlBefore(text: string, at: number): boolean {
  let end = at;
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  let start = end;
  while (start > 0 && !/[\s'"`<>]/.test(text[start - 1]!)) start--;
  return end < at && text.slice(start, end).includes('://');
}

function maskBare(text: string, afterUrl: boolean): string {
  if (!text.includes('?') && !text.includes('@')) return text;
  if (text.includes('?')) text = maskBareQueries(text, afterUrl);
  return text.includes('@') ? text.replace(/[^\s'"`<>]+/g, maskBareUserinfo) : text;
}

/**
 * A URL whose `//` a path resolution made `/` (`/cwd/https:/u:pw@h/x`, a `copy.from` or `call.module` written as a
 * URL): its user and password, up to the last `@`. The first `SCHEME:/` whose user part (to a `:`) holds no `/` or
 * `@`. Scanned, not matched: each candidate's scan stops at the next `:`, `/` or `@`, so the scans never overlap.
 */
function maskMangledUrl(word: string, at: number): string {
  for (let c = word.indexOf(':/'); c > 0 && c < at; c = word.indexOf(':/', c + 1)) {
    if (!/[a-z0-9+.-]/i.test(word[c - 1]!)) continue;
    let lead = c + 1;
    while (word[lead] === '/') lead++;
    let colon = lead;
    while (colon < at && !':/@'.includes(word[colon]!)) colon++;
    if (colon >= at || word[colon] !== ':') continue;
    return `${word.slice(0, lead)}${colon > lead ? MASK : ''}:${at > colon + 1 ? MASK : ''}@${word.slice(at + 1)}`;
  }
  return word;
}

/**
 * `user:password@host` without a scheme (`u:pw@h`, `DB=:pw@h`, `//u:pw@h`): in a word, the user after the last `(`, `=` or `,`
 * before the first `:`, the password up to the last `@`. Scanned, not matched by one regular expression: a long
 * word of `=` or `,:` made that quadratic.
 */
function maskBareUserinfo(word: string): string {
  const at = word.lastIndexOf('@');
  if (at < 1 || !/[a-z0-9[]/i.test(word[at + 1] ?? '')) return word;
  const colon = word.indexOf(':');
  if (colon < 0 || colon > at) return word;
  let lead =
    Math.max(word.lastIndexOf('(', colon), word.lastIndexOf('=', colon), word.lastIndexOf(',', colon)) + 1;
  // A scheme-relative URL (`//u:pw@h/x`), as a URL with its scheme is.
  if (word.startsWith('//', lead)) lead += 2;
  if (/[@/]/.test(word.slice(lead, colon))) return maskMangledUrl(word, at);
  const masked = `${colon > lead ? MASK : ''}:${at > colon + 1 ? MASK : ''}@`;
  return word.slice(0, lead) + masked + word.slice(at + 1);
}
