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
