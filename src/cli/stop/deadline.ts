/** --deadline: start nothing more, kill running trees, print nothing more (exit 124). */
import { formatDuration } from '../../util/duration.js';
import type { RunStop } from './run-stop.js';

/** The deadline's action, as its timer calls it: nothing once the run was interrupted or is past it already. */
export function deadlineReached(stop: RunStop, deadlineMs: number): void {
  if (stop.deadlinePassed || stop.interrupted) return;
  stop.deadlinePassed = true;
  stop.reason = 'deadline';
  stop.actions.notice(`--deadline ${formatDuration(deadlineMs)} reached: unfinished jobs cancelled`);
  stop.stopStarting(true);
}

/** Arms the deadline (none when `deadlineMs` is undefined); returns what disarms it. */
export function startDeadline(stop: RunStop, deadlineMs: number | undefined): () => void {
  if (deadlineMs === undefined) return () => {};
  const timer = setTimeout(() => deadlineReached(stop, deadlineMs), deadlineMs);
  return () => clearTimeout(timer);
}
