/** A finished job in a few words, as every status display and a queue worker's log line show it. */
import type { JobResult } from '../kinds/types.js';
import { KINDS } from '../kinds/index.js';
import { formatDuration } from '../util/duration.js';
import { redactText } from '../util/redact.js';
import { formatBytes, printable } from '../util/text.js';

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

/**
 * The first line of the error of a job that did not succeed, when its exit status does not say it all: a shell
 * job's exit status does; a crashed worker, a spawn error, a call that threw need their message.
 */
export function errorLine(r: JobResult): string | undefined {
  if (!r.error || r.status === 'succeeded' || (KINDS[r.kind].exitStatus && r.exitCode !== null))
    return undefined;
  return redactText(r.error.message.split('\n', 1)[0]!);
}
