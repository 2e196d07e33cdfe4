/** `download`: an HTTP(S) GET into a part file beside `to`, checked, then renamed into place. */
import { withoutFsync } from '../durable.js';
import { isRecord, type Kind, type KindIssue } from '../kind.js';
import type { DownloadSpec } from './spec.js';
import { redactUrl } from '../../util/redact.js';
import { shellQuote } from '../../util/shell.js';

export const download: Kind<'download'> = {
  name: 'download',
  normalize(value, resolve) {
    const v = value as Record<string, unknown>;
    const spec: DownloadSpec = {
      url: v.url as string,
      to: resolve(v.to as string),
      overwrite: v.overwrite === true,
    };
    if (typeof v.sha256 === 'string') spec.sha256 = v.sha256.toLowerCase();
    if (isRecord(v.headers)) spec.headers = v.headers as Record<string, string>;
    if (v.fsync === true) spec.fsync = true;
    return { kind: 'download', download: spec };
  },
  issues(value, at) {
    const issues: KindIssue[] = [];
    // A URL of the schema's pattern that the URL parser still refuses.
    if (isRecord(value) && typeof value.url === 'string' && /^https?:\/\/[^\s/?#]+/i.test(value.url))
      issues.push(...urlIssues(value.url, [...at, 'url']));
    if (isRecord(value) && isRecord(value.headers))
      issues.push(...headerIssues(value.headers, [...at, 'headers']));
    return issues;
  },
  // The whole URL as one word (it may hold spaces), redacted before it is quoted.
  describe: (job) => `download ${shellQuote(redactUrl(job.download.url))} ${shellQuote(job.download.to)}`,
  hashed: (job) => withoutFsync(job.download),
  destination: (job) => job.download.to,
  paths: (job) => [[['to'], job.download.to]],
  stop: 'abort',
  sendAhead: false,
  noCwd: "a download's to resolves against the job file's folder",
  succeeded: () => true,
  // Loaded on first use: shell-only runs skip it.
  async worker() {
    const { runDownload } = await import('./download.js');
    return { execute: (job, ctx) => runDownload(job.download, ctx) };
  },
};

/**
 * What the URL parser would refuse, or take other than as written: a control character (it drops a tab or a line
 * break inside a URL, and `http://a\tb/` went to host `ab`; a NUL is the schema's to report), and a user or
 * password whose `%` escapes do not decode (Node threw "URI malformed" when the request was made).
 */
function urlIssues(url: string, at: Array<string | number>): KindIssue[] {
  const bad = (detail?: string): KindIssue[] => [
    { at, message: `not a valid URL${detail ? ` (${detail})` : ''}: ${JSON.stringify(redactUrl(url))}` },
  ];
  // eslint-disable-next-line no-control-regex
  if (/[\x01-\x1f\x7f]/.test(url))
    return bad('a control character in it: write a tab or a line break as %09, %0A');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad();
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad();
  try {
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
  } catch {
    return bad(
      'a % escape in its user or password that does not decode: % takes two hex digits of UTF-8; write % as %25',
    );
  }
  return [];
}

/** A header name as HTTP has it (a token, RFC 9110). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What a header value may not hold (Node refuses it when the request is sent): control characters but TAB, and characters past Latin-1. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/**
 * Headers a job may not set: the message's framing and the connection's (a `Content-Length: 5` on a GET made the
 * server read the next job's request, on the same kept-alive connection, as its body), and those poolrun sets to
 * resume a download.
 */
const OWN_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'range',
  'if-range',
]);

/** A download's `headers`, checked when the job file is read: a bad one is exit 2 there, not a failure later. */
function headerIssues(headers: Record<string, unknown>, at: Array<string | number>): KindIssue[] {
  const issues: KindIssue[] = [];
  // A name given twice in other case (`Authorization`, `authorization`) is one header: which would be sent?
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const here = [...at, name];
    const first = seen.get(name.toLowerCase());
    if (first === undefined) seen.set(name.toLowerCase(), name);
    else
      issues.push({
        at: here,
        message: `the header ${first} is given twice (${first}, ${name}): header names ignore case`,
      });
    if (!TOKEN.test(name))
      issues.push({
        at: here,
        message: "not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)",
      });
    else if (OWN_HEADERS.has(name.toLowerCase()))
      issues.push({
        at: here,
        message: `a job may not set ${name}: poolrun frames the request and its connection itself (and sends Range to resume)`,
      });
    // The value is never shown: it may be a secret. A NUL is the schema's to report (noNul).
    if (typeof value === 'string' && !value.includes('\0') && BAD_VALUE.test(value))
      issues.push({
        at: here,
        message:
          'a header value is Latin-1 text without line breaks or other control characters (TAB aside): this one is not',
      });
  }
  return issues;
}
