/** Small text helpers shared by the status displays: safe ids, sizes, durations (widths: width.ts). */

/**
 * Characters a terminal acts on rather than shows: C0 controls, DEL, C1 (U+009B is a one-byte CSI to some
 * terminals), and the line separators and bidi controls that reorder what a reader sees.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** One character of CONTROL (not global: for test()). */
export const UNSHOWABLE = new RegExp(CONTROL.source);

/**
 * Text from a job file, an argument or a message, made safe to show: every character of CONTROL written as an
 * escape (`\x1b`, `\u202e`). `keepLines`: tab and newline stay (a message may have several lines).
 */
export function escapeControls(text: string, keepLines = false): string {
  return text.replace(CONTROL, (c) => {
    if (keepLines && (c === '\n' || c === '\t')) return c;
    const n = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** A job id as a display shows it: one id is one line, and cannot drive the terminal. */
export function printable(id: string): string {
  return escapeControls(id);
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

export function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
