/**
 * GitHub Actions workflow commands: each job's grouped output folded under `::group::id`, and one
 * `::error title=…::` annotation per job that failed or timed out. Values are escaped as the runner expects.
 */
import type { JobResult } from '../kinds/types.js';
import { endReason } from './summary.js';
import { redactId, redactText } from '../util/redact.js';
import { printable } from '../util/text.js';

export function inGitHubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/** Escaping of a command's message. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escaping of a command's property value (`title=`). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function groupStart(id: string): string {
  return `::group::${escapeData(printable(redactId(id)))}\n`;
}

export const GROUP_END = '::endgroup::\n';

/** The annotation for a job that did not succeed (cancelled jobs get none: they did not fail). */
export function errorAnnotation(r: JobResult): string | undefined {
  if (r.status !== 'failed' && r.status !== 'timed-out') return undefined;
  const title = `${r.status === 'timed-out' ? 'timed out' : 'failed'}: ${printable(redactId(r.id))}`;
  const why: string[] = [];
  const reason = endReason(r);
  if (reason) why.push(printable(reason));
  const lastLine = r.stderr.trimEnd().split('\n').pop()?.trim();
  // Masked before it is cut (a cut through a password would leave its start unmasked), shown escaped.
  if (lastLine && r.status === 'failed') why.push(printable(redactText(lastLine)).slice(0, 500));
  return `::error title=${escapeProperty(title)}::${escapeData(why.join(' — ') || r.status)}\n`;
}
