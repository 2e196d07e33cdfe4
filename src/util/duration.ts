const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const NUM = String.raw`(?:\d+(?:\.\d+)?|\.\d+)`;
/**
 * A duration's text (the job-file schema's pattern too): a number of seconds, or numbers each with a unit
 * (ms s m h d), compounded as GNU parallel takes them (`1d2h3m4s`, `2m0s`, `1h30m`), a last bare number
 * counting as seconds (`2m30`).
 */
export const DURATION = new RegExp(
  String.raw`^(?=\s*\.?\d)\s*(?:${NUM}\s*(?:ms|s|m|h|d)\s*)*(?:${NUM}\s*)?$`,
);
const PART = new RegExp(String.raw`(${NUM})\s*(ms|s|m|h|d)?`, 'g');

/** Largest duration accepted: setTimeout cannot wait longer than 2^31-1 ms (~24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** The longest --queue-ttl: a Redis expiry, not a timer, so not bound to a timer's 24.8 days. */
export const MAX_TTL_MS = 365 * 24 * 3600 * 1000;

/** What a duration option or field takes, for messages. */
export const DURATION_HELP = 'a duration such as 500ms, 30s, 2m, 1h, 1d, 1d2h3m4s or a number of seconds';

/** Milliseconds of a text of DURATION's form (unbounded, unrounded); undefined when it is not one. */
function durationMs(value: string): number | undefined {
  if (!DURATION.test(value)) return undefined;
  let ms = 0;
  for (const m of value.matchAll(PART)) ms += Number(m[1]) * UNITS[m[2] ?? 's']!;
  return ms;
}

/**
 * Parses `500ms`, `30s`, `2m`, `1h`, `1d`, `1.5s`, compounds such as `1d2h3m4s`, or a bare number of seconds
 * (GNU parallel's convention). Returns milliseconds, or undefined when the text is not a duration or is past
 * `maxMs` (MAX_DURATION_MS: what a timer can wait; a Redis expiry is not one).
 */
export function parseDuration(value: string | number, maxMs = MAX_DURATION_MS): number | undefined {
  const ms = typeof value === 'number' ? value * 1000 : durationMs(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > maxMs) return undefined;
  return Math.round(ms);
}

/**
 * Why a text that parseDuration refused is refused, for `NAME: ` to precede: not a duration at all, or one
 * past the limit (`min` the smallest accepted, as the caller words it).
 */
export function durationProblem(value: string, min = '0'): string {
  const ms = durationMs(value);
  if (ms !== undefined && ms > MAX_DURATION_MS)
    return `expected a duration from ${min} to 24.8 days (the longest a timer can wait), got ${JSON.stringify(value)}`;
  if (ms !== undefined) return `expected a duration of at least ${min}, got ${JSON.stringify(value)}`;
  return `expected ${DURATION_HELP}, got ${JSON.stringify(value)}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, '0')}s`;
}
