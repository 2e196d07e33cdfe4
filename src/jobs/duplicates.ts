/**
 * Duplicate keys in a JSON text (`{"run": "a", "run": "b"}`): JSON.parse keeps the last one silently, so a job
 * would run something its author did not see. Every object of a job file is checked (a job, `env`, `headers`,
 * `call.args` values, the document itself): a duplicate is ambiguous wherever it is.
 *
 * A valid text pays one scan counting the keys in it, compared with the keys JSON.parse kept; only when they
 * differ is the text scanned again to say which key is repeated and where.
 */
import { lineColumns, type Origin } from './locate.js';
import type { Segment } from './issues.js';

export interface DuplicateKey {
  /** Path from the root of the text's value to the repeated key (the key is its last segment). */
  at: Segment[];
  /** `file:line:col` of the repeated key, and of its first use. */
  where: string;
  firstWhere: string;
}

/** The duplicate keys of `text`, which JSON.parse turned into `value`; [] (after one scan) when there is none. */
export function duplicateKeys(text: string, value: unknown, origin: Origin): DuplicateKey[] {
  if (keysInText(text) === keysInValue(value)) return [];
  const found = scanDuplicates(text);
  const places = lineColumns(
    text,
    found.flatMap((d) => [d.offset, d.firstOffset]),
  );
  const where = (offset: number) => {
    const [line, column] = places.get(offset)!;
    return `${origin.name}:${origin.line + line - 1}:${line === 1 ? origin.column + column - 1 : column}`;
  };
  return found.map((d) => ({ at: d.at, where: where(d.offset), firstWhere: where(d.firstOffset) }));
}

/** The message for a duplicate key. */
export function duplicateMessage(d: DuplicateKey): string {
  const key = d.at[d.at.length - 1]!;
  return `duplicate key ${JSON.stringify(String(key))} (first at ${d.firstWhere}; JSON would silently keep only the last)`;
}

/** Keys written in a valid JSON text: the colons outside strings. */
function keysInText(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length;) {
    const quote = text.indexOf('"', i);
    const end = quote === -1 ? text.length : quote;
    for (let k = i; k < end; k++) if (text.charCodeAt(k) === 0x3a) n++;
    if (quote === -1) break;
    i = stringEnd(text, quote) + 1;
  }
  return n;
}

/** Keys of every object in a parsed value (its depth is bounded before parsing: util/limits). */
function keysInValue(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) n += keysInValue(x);
    return n;
  }
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    n += 1 + keysInValue((v as Record<string, unknown>)[k]);
  }
  return n;
}

/** The offset of the quote that closes the string opened at `start` (the text is valid JSON). */
function stringEnd(text: string, start: number): number {
  for (let i = text.indexOf('"', start + 1); i !== -1; i = text.indexOf('"', i + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  return text.length;
}

interface ObjectFrame {
  object: true;
  keys: Map<string, number>;
  key: string;
  expectKey: boolean;
}
interface ArrayFrame {
  object: false;
  index: number;
}

/** Each repeated key of a valid JSON text, with its offset and its first use's. */
function scanDuplicates(text: string): { at: Segment[]; offset: number; firstOffset: number }[] {
  const out: { at: Segment[]; offset: number; firstOffset: number }[] = [];
  const stack: (ObjectFrame | ArrayFrame)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (top?.object && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        const first = top.keys.get(key);
        if (first === undefined) top.keys.set(key, i);
        else {
          const at: Segment[] = stack.slice(0, -1).map((f) => (f.object ? f.key : f.index));
          out.push({ at: [...at, key], offset: i, firstOffset: first });
        }
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === 0x7b) stack.push({ object: true, keys: new Map(), key: '', expectKey: true });
    else if (c === 0x5b) stack.push({ object: false, index: 0 });
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x2c && top) {
      if (top.object) top.expectKey = true;
      else top.index++;
    }
  }
  return out;
}
