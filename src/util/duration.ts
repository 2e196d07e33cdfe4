const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** A duration's text: a number, maybe with a unit (the job-file schema's pattern too). */
export const DURATION = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/;

/** Largest duration accepted: setTimeout cannot wait longer than 2^31-1 ms (~24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Parses `500ms`, `30s`, `2m`, `1h`, `1.5s` or a bare number of seconds (GNU parallel's convention).
 * Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseDuration(value: string | number): number | undefined {
  let ms: number;
  if (typeof value === 'number') {
    ms = value * 1000;
  } else {
    const m = DURATION.exec(value);
    if (!m) return undefined;
    ms = Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000);
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DURATION_MS) return undefined;
  return Math.round(ms);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, '0')}s`;
}
