/** JSON text for what poolrun writes: never a throw, never a lone surrogate a strict reader refuses. */
/**
 * JSON.stringify that cannot throw on what a `call` job may return through structured clone: BigInt becomes
 * a string; a value that still cannot be written (a cycle) is replaced by a description of why.
 */
export function stringify(value: unknown, indent?: number): string {
  return wellFormedJson(stringifyAny(value, indent));
}

/**
 * JSON text with every escaped lone UTF-16 surrogate (`\ud83d`, as JSON.stringify writes half of a pair, in a
 * value or a key) turned into `\ufffd`: RFC 8259 leaves such text unpredictable, and jq, serde_json and other
 * strict readers refuse the whole document. The same as `toWellFormed()` on every string before writing it.
 * JSON.stringify writes a whole pair as the characters themselves, so an escaped surrogate is always a lone one.
 */
export function wellFormedJson(text: string): string {
  if (!text.includes('\\ud')) return text;
  // Each match is one escape from its backslash on, so `\\ud800` (a backslash, then the letters) is left alone.
  return text.replace(/\\(?:u[dD][89a-fA-F][0-9a-fA-F]{2}|[^])/g, (m) => (m.length === 6 ? '\\ufffd' : m));
}

function stringifyAny(value: unknown, indent?: number): string {
  try {
    // Without a replacer first: it is the common case, and a replacer makes stringify slower.
    return JSON.stringify(value, null, indent);
  } catch {
    /* a BigInt or a cycle: try again below */
  }
  try {
    return JSON.stringify(value, bigintReplacer, indent);
  } catch (e) {
    if (value && typeof value === 'object' && 'value' in value) {
      const why = `[not representable in JSON: ${(e as Error).message.split('\n', 1)[0]}]`;
      return JSON.stringify({ ...value, value: why }, bigintReplacer, indent);
    }
    return JSON.stringify(`[not representable in JSON: ${(e as Error).message.split('\n', 1)[0]}]`);
  }
}

function bigintReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** Whether `text` is one JSON document. */
export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where in a value parsed from JSON a number is not finite: JSON.parse makes a number past a double's range
 * (`1e999`, `-1e400`) Infinity, which no JSON can write back (`null`), so a call would be given another value than
 * the one written. The path from the value's root, or undefined when every number is finite.
 */
export function nonFiniteAt(value: unknown): (string | number)[] | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : [];
  if (value === null || typeof value !== 'object' || !hasNonFinite(value)) return undefined;
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const { v, path } = top;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--)
        stack.push({ v: (v as Record<string, unknown>)[keys[i]!], path: [...path, keys[i]!] });
    }
  }
  return undefined;
}

/** What is said of a number nonFiniteAt found. */
export const NON_FINITE_MESSAGE =
  'a number beyond what a double holds (JSON.parse makes it Infinity, which a result cannot show): write it as a string';

/** nonFiniteAt's first pass, which builds no path: nearly every value has none. */
function hasNonFinite(value: object): boolean {
  const stack: unknown[] = [value];
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) if (x !== null && (typeof x === 'object' || typeof x === 'number')) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v))
        if (x !== null && (typeof x === 'object' || typeof x === 'number')) stack.push(x);
    }
  }
  return false;
}
