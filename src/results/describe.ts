/** A finished job in a few words, as every status display and a queue worker's log line show it. */
import type { JobResult } from '../kinds/types.js';
import { formatDuration } from '../util/duration.js';
import { redactText } from '../util/redact.js';
import { escapeControls, formatBytes, printable } from '../util/text.js';

export function describeEnd(r: JobResult): string {
  const parts: string[] = [];
  if (r.worker !== null) parts.push(`worker ${r.worker}`);
  if (r.durationMs !== null) parts.push(formatDuration(r.durationMs));
  if (r.signal) parts.push(`signal ${r.signal}`);
  else if (r.exitCode !== null) parts.push(`exit ${r.exitCode}`);
  if (r.bytes !== undefined) parts.push(formatBytes(r.bytes));
  if (r.attempts > 1) parts.push(`attempt ${r.attempts}`);
  const error = errorLine(r);
  if (error !== undefined) parts.push(printable(error));
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** A stack trace some message carries at its end (`\n    at f (file:1:2)`): where poolrun was, not why. */
const STACK = /\n[ \t]+at [\s\S]*$/;

/**
 * The error of a job that did not succeed, on one line: a crashed worker, a program that could not be started
 * (`command not found: NAME`, beside its 127), a call that threw, a copy or download that failed. A shell job that
 * just exited non-zero has no error: its exit status says it all. Control characters are escaped (`\n`), not cut
 * at: a file name in a message may hold a newline, and the text after it is part of the name (and of the reason).
 * Only a trailing stack trace is left out.
 */
export function errorLine(r: JobResult): string | undefined {
  if (!r.error || r.status === 'succeeded') return undefined;
  return escapeControls(redactText(r.error.message.replace(STACK, '')));
}
