/**
 * SIGINT, SIGTERM, SIGHUP and a closed stdout: start nothing more, kill running trees, print results so far
 * (exit 130/143/129/141). A second signal SIGKILLs every running tree at once; a closed stdout after a signal
 * changes nothing.
 */
import type { EventEmitter } from 'node:events';
import { formatDuration } from '../../util/duration.js';
import type { Interrupt, RunStop } from './run-stop.js';

export const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** How the notice names a stdout that failed: closed (EPIPE), or the error that stopped its writes. */
function stdoutFailure(code: string | undefined): string {
  if (code === undefined || code === 'EPIPE') return 'stdout was closed';
  const why: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EIO: 'an I/O error',
    EDQUOT: 'over quota',
  };
  return `stdout cannot be written (${code}${why[code] ? `: ${why[code]}` : ''})`;
}

export function interrupt(stop: RunStop, reason: Interrupt, killAfterMs: number, code?: string): void {
  const { actions } = stop;
  if (stop.interrupted) {
    // A second signal: no more grace.
    if (reason !== 'EPIPE') {
      actions.notice(`${reason} again: killing every running job now (SIGKILL)`);
      actions.killRunning({ now: true });
      actions.killAll();
    }
    return;
  }
  stop.interrupted = reason;
  stop.reason = reason;
  actions.notice(
    `${reason === 'EPIPE' ? stdoutFailure(code) : reason}: starting no more jobs; running jobs get SIGTERM, ` +
      `then SIGKILL after ${formatDuration(killAfterMs)}` +
      (reason === 'EPIPE' ? '' : ` (${reason} again to kill them now)`),
  );
  stop.stopStarting(true);
}

/** Listens for the stop signals on `proc` (the process); returns what stops listening. */
export function watchSignals(proc: EventEmitter, stop: RunStop, killAfterMs: number): () => void {
  const onSignal = (sig: NodeJS.Signals) => interrupt(stop, sig as Interrupt, killAfterMs);
  for (const s of SIGNALS) proc.on(s, onSignal);
  return () => {
    for (const s of SIGNALS) proc.off(s, onSignal);
  };
}

/** What the stdout sink calls when the reader has gone (EPIPE) or stdout cannot be written: as a signal would. */
export function stdoutClosedPolicy(stop: RunStop, killAfterMs: number): (code?: string) => void {
  return (code) => interrupt(stop, 'EPIPE', killAfterMs, code);
}
