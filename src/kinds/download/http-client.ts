/**
 * The few HTTP things downloads need, on node:http/https: keep-alive agents (one per worker, since module state
 * lives per thread or per process, so consecutive downloads from a host reuse one connection), redirects
 * followed by hand (http and https only, at most 10; https never continues over http; once a redirect leaves the
 * origin, scheme + host + port, of the job's URL, the job's own headers and the URL's user and password stay
 * behind), and errors that name the host, never the credentials or query of the URL.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { JobError, errnoCode } from '../job-error.js';
import { redactText } from '../../util/redact.js';

const NAME = 'DownloadError';
export const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const agents: Record<string, http.Agent> = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/**
 * A URL as it may appear in a message or a result, stricter than the shared redactor: no user, no password, no
 * query at all (tokens live there), no fragment; `;password=…` path parameters masked by the shared redactor.
 */
export function showUrl(url: URL): string {
  return `${url.origin}${redactText(url.pathname)}${url.search ? '?…' : ''}`;
}

export interface Fetched {
  res: IncomingMessage;
  /** Where the response came from, after redirects. */
  url: URL;
}

/**
 * GET, following redirects. The response body is the caller's to read or discard. `own` are poolrun's headers
 * (User-Agent, Range, If-Range), sent everywhere; `job` are the job's (`headers` in the job file), sent only to
 * the job URL's origin, as are the URL's user and password: a redirect elsewhere gets neither, even if it comes
 * back later.
 */
export async function getFollowingRedirects(
  start: URL,
  own: OutgoingHttpHeaders,
  job: Record<string, string> | undefined,
  signal: AbortSignal,
): Promise<Fetched> {
  let url = start;
  let left = false;
  const withJob: OutgoingHttpHeaders = { ...own };
  for (const [k, v] of Object.entries(job ?? {})) withJob[k.toLowerCase()] = v;
  for (let hops = 0; ; hops++) {
    const res = await get(url, left ? own : withJob, signal);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (!REDIRECTS.has(status) || location === undefined) return { res, url };
    res.resume(); // drained, so the connection goes back to the pool
    if (hops === MAX_REDIRECTS)
      throw new JobError(NAME, `too many redirects (more than ${MAX_REDIRECTS}) from ${showUrl(start)}`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new JobError(NAME, `HTTP ${status} from ${showUrl(url)} redirects to an invalid URL`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new JobError(
        NAME,
        `refused a redirect from ${showUrl(url)} to a ${next.protocol} URL: only http and https are followed`,
        'EREDIRECT',
      );
    }
    if (url.protocol === 'https:' && next.protocol === 'http:') {
      throw new JobError(
        NAME,
        `refused a redirect from ${showUrl(url)} to ${showUrl(next)}: a download that began over https does not continue over plain http`,
        'EREDIRECT',
      );
    }
    // As curl does, and stricter: what the job sends (its headers, the URL's user and password) goes along
    // within the job URL's origin only, and is not handed to another site, nor sent again after it has left.
    if (next.origin !== start.origin) left = true;
    else if (!left && !next.username && !next.password) {
      next.username = url.username;
      next.password = url.password;
    }
    url = next;
  }
}

function get(
  url: URL,
  headers: OutgoingHttpHeaders,
  signal: AbortSignal,
  retried = false,
): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    let req: http.ClientRequest;
    try {
      // A URL object carries its user:password into a Basic Authorization header, as curl does.
      req = mod.request(url, { method: 'GET', headers, agent: agents[url.protocol], signal });
    } catch (e) {
      // Bad header names or values: say which header, never its value.
      reject(new JobError(NAME, `cannot send the request to ${showUrl(url)}: ${(e as Error).message}`));
      return;
    }
    let res: IncomingMessage | undefined;
    req.on('response', (r) => {
      res = r;
      resolve(r);
    });
    req.on('error', (e) => {
      if (res) {
        // After the headers: the body stream reports it to whoever reads it.
        res.destroy(e);
        return;
      }
      // A kept-alive connection the server closed while idle: the one case worth a silent second try.
      if (!retried && req.reusedSocket && errnoCode(e) === 'ECONNRESET' && !signal.aborted) {
        get(url, headers, signal, true).then(resolve, reject);
        return;
      }
      reject(signal.aborted ? e : networkError(e, url));
    });
    req.end();
  });
}

/** Turns a socket-level error into a message naming the host and what went wrong. */
export function networkError(e: unknown, url: URL): JobError {
  const code = errnoCode(e);
  const host = url.host;
  const msg = e instanceof Error ? e.message : String(e);
  let reason: string;
  switch (code) {
    case 'ECONNREFUSED':
      reason = `cannot connect to ${host}: connection refused`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      reason = `cannot resolve the host name ${url.hostname}`;
      break;
    case 'ECONNRESET':
      reason = `connection reset by ${host}`;
      break;
    case 'ETIMEDOUT':
      reason = `connection to ${host} timed out`;
      break;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      reason = `${host} is unreachable`;
      break;
    default:
      reason =
        code && /CERT|TLS|SSL|SIGNATURE/.test(code)
          ? `the TLS certificate of ${host} was not accepted: ${msg}`
          : `${showUrl(url)}: ${msg}`;
  }
  return new JobError(NAME, `${reason}${code ? ` (${code})` : ''}`, code);
}
