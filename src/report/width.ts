/**
 * Terminal columns of text, for the live view only: string-width takes ~10 ms to load, which a run without a
 * terminal should not pay.
 */
import stringWidth from 'string-width';

export const width = (s: string): number => stringWidth(s);

const segmenter = new Intl.Segmenter();

/** Cuts plain text (no escape codes) to at most `max` terminal columns, ending with `…` when cut. */
export function fit(text: string, max: number): string {
  if (max <= 0) return '';
  if (width(text) <= max) return text;
  let out = '';
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = width(segment);
    if (used + w > max - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}
