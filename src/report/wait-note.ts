/** How a job's wait for its dependencies is told in the --report timeline (a bar's note). */
import { formatDuration } from '../util/duration.js';

export function waitNote(wait: { time: number; after: string[] }, startedAt: number): string {
  const ids = wait.after.map((a) => JSON.stringify(a)).join(', ');
  return `waited ${formatDuration(Math.max(0, startedAt - wait.time))} for ${ids}`;
}

export function joinNotes(...notes: Array<string | undefined>): string | undefined {
  const kept = notes.filter((n): n is string => !!n);
  return kept.length ? kept.join(' · ') : undefined;
}
