/** `run`: a shell command (or an argv) in a process group of its own; success is exit 0. */
import { appendFileSync } from 'node:fs';
import type { Kind } from '../kind.js';
import type { Outcome } from '../outcome.js';
import { redactText } from '../../util/redact.js';
import { shellQuote } from '../../util/shell.js';
import { asShellWouldReport } from './direct.js';

export const run: Kind<'run'> = {
  name: 'run',
  normalize: (value) => ({ kind: 'run', run: value as string | string[] }),
  describe: (job) =>
    typeof job.run === 'string' ? job.run : job.run.map((word) => shellQuote(redactText(word))).join(' '),
  hashed: (job) => job.run,
  // The pid may still be on its way from the worker: its `spawned` message kills it on arrival.
  stop: 'group',
  sendAhead: false,
  exitStatus: true,
  succeeded: (o) => o.exitCode === 0 && o.signal === null,
  finish(o, killed) {
    if (o.direct && o.signal !== null && !killed) shellReport(o);
  },
  preload: true,
  async worker() {
    const { runShell } = await import('./run.js');
    return { execute: (job, ctx) => runShell(job.run, ctx) };
  },
};

/**
 * A command run without /bin/sh died of a signal nobody in poolrun sent to its group: report it as the shell it
 * skipped would have (exit 128+n and the signal's name on stderr), so results do not depend on the shortcut.
 */
function shellReport(o: Outcome): void {
  const { exitCode, message } = asShellWouldReport(o.signal!);
  o.exitCode = exitCode;
  o.signal = null;
  if (!message) return;
  if (o.stderrFile) appendFileSync(o.stderrFile, message);
  if (!o.stderrTruncated) o.stderr = Buffer.concat([o.stderr, Buffer.from(message)]);
}
