/** Lone UTF-16 surrogates never reach a JSON output as `\udXXX` escapes (F3): strict readers refuse those. */
import { describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, wellFormedJson } from '../../src/util/json.js';
import { poolrun, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

/**
 * A strict reader's view (jq, serde_json): the escapes `\ud800`-`\udfff` that do not form a high-low pair.
 * Walks escape by escape, so `\\ud800` (an escaped backslash, then letters) is not one.
 */
function loneSurrogateEscapes(text: string): string[] {
  const bad: string[] = [];
  const re = /\\(u[0-9a-fA-F]{4}|[^])/g;
  let m: RegExpExecArray | null;
  let pendingHigh: string | null = null;
  let pendingEnd = -1;
  while ((m = re.exec(text))) {
    const cp = m[1]!.length === 5 ? parseInt(m[1]!.slice(1), 16) : -1;
    const adjacent = m.index === pendingEnd;
    if (pendingHigh !== null && !(adjacent && cp >= 0xdc00 && cp <= 0xdfff)) bad.push(pendingHigh);
    const wasPaired = pendingHigh !== null && adjacent && cp >= 0xdc00 && cp <= 0xdfff;
    pendingHigh = null;
    if (cp >= 0xd800 && cp <= 0xdbff) {
      pendingHigh = m[0];
      pendingEnd = m.index + 6;
    } else if (cp >= 0xdc00 && cp <= 0xdfff && !wasPaired) bad.push(m[0]);
  }
  if (pendingHigh !== null) bad.push(pendingHigh);
  // Raw lone surrogates cannot be written as UTF-8 at all: they would come out as U+FFFD bytes anyway.
  return bad;
}

function strictParse(text: string): unknown {
  expect(loneSurrogateEscapes(text)).toEqual([]);
  return JSON.parse(text);
}

/** String.prototype.toWellFormed (Node 20, not in this TS lib). */
const toWellFormed = (s: string) =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

const HIGH = '\ud83d';
const LOW = '\ude00';
/** Strings holding lone surrogates where they start, end and sit, beside whole pairs and look-alike text. */
const SAMPLES = [
  HIGH,
  LOW,
  `${LOW}${HIGH}`,
  `a${HIGH}`,
  `${LOW}b`,
  `x${HIGH}${HIGH}${LOW}y`,
  `😀${HIGH}`,
  `\\ud800${HIGH}`,
  `\\${LOW}`,
  `"${HIGH}"\n\t\u0001`,
];

describe('lone surrogates in JSON outputs', () => {
  it('the checker itself: finds lone escapes, keeps pairs and escaped backslashes', () => {
    expect(loneSurrogateEscapes(JSON.stringify(HIGH))).toEqual(['\\ud83d']);
    expect(loneSurrogateEscapes(JSON.stringify(`${LOW}x`))).toEqual(['\\ude00']);
    expect(loneSurrogateEscapes('"\\ud83d\\ude00"')).toEqual([]);
    expect(loneSurrogateEscapes(JSON.stringify('\\ud800'))).toEqual([]);
  });

  it('stringify writes U+FFFD for each lone half, in values and keys, at any depth and indent', () => {
    for (const s of SAMPLES)
      for (const indent of [undefined, 2]) {
        const value = { [s]: [s, { deeper: s, [`k${s}`]: 1 }], big: 1n };
        const text = stringify(value, indent);
        const back = strictParse(text);
        const want = toWellFormed(s);
        expect(back).toEqual({ [want]: [want, { deeper: want, [`k${want}`]: 1 }], big: '1' });
      }
  });

  it('well-formed JSON is left exactly as it was', () => {
    for (const v of ['😀', '\\ud800', 'a\\\\ud83d', { '\u0000': '\u001b[0m' }, [1, null, 'é€']]) {
      const text = JSON.stringify(v);
      expect(wellFormedJson(text)).toBe(text);
    }
  });

  it('--json, NDJSON and --call stdout: a value, nested keys and a thrown error holding lone halves', async () => {
    const dir = temp();
    const mod = join(dir, 't.mjs');
    writeFileSync(
      mod,
      `export function cut(s) { return s.slice(0, 1); }
export function nest(s) { return { ['k' + s.slice(0, 1)]: [s.slice(1)] }; }
export function boom(s) {
  const e = new Error('bad' + s.slice(0, 1));
  e.name = 'Weird' + s.slice(1);
  e.detail = s.slice(0, 1);
  throw e;
}
`,
    );
    const cases = [
      { fn: 'cut', arg: '😀x', ok: true },
      { fn: 'nest', arg: '😀', ok: true },
      { fn: 'boom', arg: '😀', ok: false },
    ];
    for (const c of cases) {
      const target = `${mod}#${c.fn}`;
      const json = join(dir, `${c.fn}.json`);
      const plain = await poolrun(['-q', '--json', json, '--call', target, c.arg]);
      expect(plain.code).toBe(c.ok ? 0 : 1);
      for (const line of plain.stdout.split('\n').filter(Boolean)) strictParse(line);
      const doc = strictParse(readFileSync(json, 'utf8')) as { results: Record<string, unknown>[] };
      const r = doc.results[0]!;
      if (c.fn === 'cut') {
        expect(JSON.parse(plain.stdout)).toBe('\ufffd');
        expect(r.value).toBe('\ufffd');
      }
      if (c.fn === 'nest') expect(r.value).toEqual({ 'k\ufffd': ['\ufffd'] });
      if (c.fn === 'boom') {
        const err = r.error as Record<string, unknown>;
        expect(err.message).toBe('bad\ufffd');
        expect(String(err.name)).toContain('\ufffd');
        expect(JSON.stringify(err)).not.toMatch(/\\ud[89a-f]/);
      }
      const nd = await poolrun(['--reporter', 'ndjson', '--call', target, c.arg]);
      expect(nd.code).toBe(c.ok ? 0 : 1);
      const lines = nd.stdout.split('\n').filter(Boolean);
      expect(lines.map((l) => (strictParse(l) as { event: string }).event)).toContain('summary');
    }
  });
});
