/**
 * The one redactor. Every place that shows or stores a URL or a command line (messages, --dry-run, the joblog,
 * the rerun hint, --json, NDJSON, JUnit, --report, a download's .part.meta) passes it through here, so a secret
 * has one way out and it is masked there: a URL's user and password, every query value and the fragment become
 * `***`; `password=VALUE` outside a URL too. Host, port and path stay, so the message still says where.
 *
 * Works on text, not on a parsed URL: a URL object re-encodes and normalises (`HTTP://h:80/a/../b` → `http://h/b`),
 * and a value that does not parse as a URL (`redis://:pa ss@h`) must be masked all the same.
 */

export const MASK = '***';

/** `scheme://` then everything up to white space or a quote: what a URL in a line of text can be. */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s'"`<>]*)/gi;
/**
 * `password=x`, `--password=x`, `MYSQL_PWD=x`, `GITHUB_TOKEN=x`, `api_key=x`… outside a URL (an environment
 * assignment, an option). Only `=`: a colon is too common in ordinary text to mask after.
 */
const SECRET_ASSIGNMENT =
  /\b([a-z0-9_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)[a-z0-9_-]*=)("[^"]*"|'[^']*'|[^\s'"&;]+)/gi;

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
  if (sep >= 0) return maskAssignments(url.slice(0, sep + 3)) + redactRest(url.slice(sep + 3), true);
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

/** Free text (a command line, an error message): every URL in it is redacted, and every `password=…`. */
export function redactText(text: string): string {
  if (!text.includes('://') && !HINT.test(text)) return text;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(URL_IN_TEXT)) {
    // Punctuation that ends a sentence is not part of the URL (`… to http://h/x?…: a download …`).
    const rest = m[2]!.replace(/[.,:;!)\]]+$/, '');
    out += maskAssignments(text.slice(last, m.index));
    out += m[1]! + redactRest(rest);
    last = m.index + m[1]!.length + rest.length;
  }
  return out + maskAssignments(text.slice(last));
}

/** Words that come before a secret in the forms below; text without any of them is returned at once. */
const HINT = /pass|pwd|secret|token|key|auth|bearer|cookie|session|-u\b|--user\b/i;
/** `--password VALUE`, `-p`-less long options with a space before the value. */
const SECRET_OPTION =
  /(^|\s)(--?[a-z0-9-]*(?:password|passwd|secret|token|api-?key|access-?key)[a-z0-9-]*)(\s+)("[^"]*"|'[^']*'|[^\s'"]+)/gi;
/**
 * A header written out whose name says it carries a secret (`Authorization: Basic X`, `X-Api-Token: X`,
 * `Cookie: a=b`, `Proxy-Authorization: …`): the value, to the end of the quoted word or line. And `Bearer X`.
 * Not the end of a path in a job file's message (`jobs[0].env.TOKEN: cannot contain a NUL character`).
 */
const SECRET_HEADER =
  /(?<![.\]])\b([a-z0-9-]*(?:authorization|token|api-?key|secret|passw(?:or)?d|cookie|session)[a-z0-9-]*:[ \t]*)([^'"\n]+)/gi;
const BEARER = /\b(bearer)(\s+)([a-z0-9._~+/=-]{8,})/gi;
/** `curl -u user:pw`, `--user user:pw`: the password after the colon. */
const USER_OPTION = /(^|\s)(-u|--user|--proxy-user)(\s*|=)("?[^\s:"']+):("[^"]*"|'[^']*'|[^\s'"]+)/g;

function maskAssignments(text: string): string {
  return text
    .replace(SECRET_ASSIGNMENT, (_m, key: string) => `${key}${MASK}`)
    .replace(SECRET_OPTION, (_m, lead: string, opt: string, space: string) => `${lead}${opt}${space}${MASK}`)
    .replace(SECRET_HEADER, (_m, name: string) => `${name}${MASK}`)
    .replace(BEARER, (_m, scheme: string, space: string) => `${scheme}${space}${MASK}`)
    .replace(
      USER_OPTION,
      (_m, lead: string, opt: string, sep: string, user: string) => `${lead}${opt}${sep}${user}:${MASK}`,
    );
}
