/**
 * Results as reports show and store them: a job's error message, stack and properties go through the one redactor
 * (util/redact.ts), since they can quote a URL or a command line (`command not found: …`, an exception a `call`
 * threw with its arguments in it). What a job printed (stdout, stderr) and a call's return value are the job's
 * own data and stay as they are; the summaries made of them for sharing (a JUnit failure, a --report tooltip,
 * a GitHub annotation) are redacted where they are made.
 */
import type { JobResult, SerializedError } from '../kinds/types.js';
import { isSecretName, MASK, redactId, redactText } from '../util/redact.js';

export function redactError(e: SerializedError): SerializedError {
  const message = redactText(e.message);
  const stack = e.stack === undefined ? undefined : redactText(e.stack);
  // An error's own properties (a module's `url`, a `path`, a `cmd`) quote the same things.
  let props = e.props;
  if (props) {
    // A property named as a secret (`password`, `token`) has its value masked whatever it is.
    const masked = Object.entries(props).map(
      ([k, v]) =>
        [k, isSecretName(k) && v !== null ? MASK : typeof v === 'string' ? redactText(v) : v] as const,
    );
    if (masked.some(([k, v]) => v !== props![k])) props = Object.fromEntries(masked);
  }
  const cause = e.cause && redactError(e.cause);
  if (message === e.message && stack === e.stack && props === e.props && cause === e.cause) return e;
  const out: SerializedError = { ...e, message };
  if (stack !== undefined) out.stack = stack;
  if (props !== undefined) out.props = props;
  if (cause !== undefined) out.cause = cause;
  return out;
}

/**
 * The same result, or a copy whose id and error are redacted when they held something to mask: an id is the
 * user's label, often the URL a job fetches, and a results file stores it.
 */
export function redactResult<R extends JobResult>(r: R): R {
  const id = redactId(r.id);
  const error = r.error && redactError(r.error);
  if (id === r.id && error === r.error) return r;
  return error ? { ...r, id, error } : { ...r, id };
}
