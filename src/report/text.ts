/** Small text helpers shared by the status displays: safe ids, sizes, durations (widths: width.ts). */

// C0/C1 controls and DEL: an id holding them must not move a terminal's cursor or split a log line.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A job id as a display shows it: control characters escaped as in JSON, so one id is one line. */
export function printable(id: string): string {
  return CONTROL.test(id) ? JSON.stringify(id).slice(1, -1) : id;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** `0.4s`, `12.3s`, `2m05s`, `1h02m`: short and steady enough for a line redrawn ten times a second. */
export function clockDuration(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
