/** The limits of bounded input, as pure logic: the depth scan, the line reader, shared defaults, destinations. */
// parse.ts needs the schema validator generated at build time: it is imported from dist/.
import { describe, expect, it } from 'vitest';
import { LineTooLong, MAX_DEPTH, tooDeepAt } from '../../src/util/limits.js';
import { rng } from '../helpers.js';
import { records } from '../../src/input/records.js';
import { parseJobText } from '../../dist/jobs/parse.js';
import { JobFileError } from '../../dist/errors.js';

/** A random JSON value of about `depth` levels, with brackets and quotes inside its strings. */
function value(r: () => number, depth: number): unknown {
  if (depth <= 0 || r() < 0.15) {
    const s = ['[', ']', '{', '}', '"', '\\', '\\"[', 'x'];
    return r() < 0.5 ? s.slice(0, Math.floor(r() * s.length)).join('') : Math.floor(r() * 100);
  }
  if (r() < 0.5) return Array.from({ length: 1 + Math.floor(r() * 3) }, () => value(r, depth - 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < 1 + Math.floor(r() * 3); i++) o[`k${i}[{"`] = value(r, depth - 1);
  return o;
}

/** The oracle: the nesting of a parsed value, counted as the scan counts it. */
function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (v !== null && typeof v === 'object') return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

describe('tooDeepAt', () => {
  it('agrees with the parsed depth on generated documents, strings with brackets and escapes included', () => {
    const r = rng(7);
    for (let n = 0; n < 3000; n++) {
      const v = value(r, Math.floor(r() * 12));
      const text = JSON.stringify(v, null, r() < 0.5 ? 1 : undefined);
      const d = depthOf(v);
      const max = Math.floor(r() * 12);
      const at = tooDeepAt(text, max);
      if (d <= max) expect(at, text).toBe(-1);
      else {
        expect('[{').toContain(text[at]);
        // the prefix up to and with that bracket is exactly max + 1 deep
        expect(tooDeepAt(text.slice(0, at), max)).toBe(-1);
      }
    }
  });

  it('a million levels is found at the 65th bracket, in linear time (no recursion)', () => {
    const text = '['.repeat(1_000_000);
    expect(tooDeepAt(text)).toBe(MAX_DEPTH);
  });
});

describe('records', () => {
  async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
    for (let i = 0; i < data.length; i += size) {
      await Promise.resolve(); // a chunk arrives later, as from a pipe
      yield data.subarray(i, i + size);
    }
  }

  it('yields the lines before a long one, then throws LineTooLong with its number; never holds more than max', async () => {
    const r = rng(11);
    for (let n = 0; n < 200; n++) {
      const max = 1 + Math.floor(r() * 50);
      const lines: string[] = [];
      const count = 1 + Math.floor(r() * 20);
      for (let i = 0; i < count; i++) lines.push('a'.repeat(Math.floor(r() * max * 1.3)));
      const data = Buffer.from(lines.join('\n'));
      const firstLong = lines.findIndex((l) => l.length > max);
      const got: string[] = [];
      let thrown: unknown;
      try {
        for await (const b of records(chunked(data, 1 + Math.floor(r() * 40)), 0x0a, max)) {
          for (const item of b.items) {
            expect(item.length).toBeLessThanOrEqual(max);
            got.push(item.toString());
          }
        }
      } catch (e) {
        thrown = e;
      }
      if (firstLong === -1) {
        expect(thrown).toBeUndefined();
        expect(got).toEqual(
          lines.length === 1 && lines[0] === ''
            ? []
            : lines.filter((_, i) => i < lines.length - 1 || lines[i] !== ''),
        );
      } else {
        expect(thrown).toBeInstanceOf(LineTooLong);
        expect((thrown as LineTooLong).line).toBe(firstLong + 1);
        expect(got).toEqual(lines.slice(0, firstLong));
      }
    }
  });
});

describe('defaults.env', () => {
  it('is one object shared by the jobs that have no env of their own; an own env is merged over it', () => {
    const env: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) env[`V${i}`] = 'x'.repeat(100);
    const jobs = Array.from({ length: 50 }, (_, i) =>
      i === 7 ? { run: 'true', env: { OWN: '1', V1: 'y' } } : 'true',
    );
    const { jobs: built } = parseJobText(JSON.stringify({ defaults: { env }, jobs }), {
      name: 'j.json',
      baseDir: '/tmp',
    });
    const shared = built[0]!.env!;
    expect(shared).toEqual(env);
    for (const [i, j] of built.entries()) {
      if (i === 7) {
        const merged = { ...env, OWN: '1', V1: 'y' };
        // merged when read: the job holds no copy of the defaults, and what reaches a worker is the merge
        expect(typeof Object.getOwnPropertyDescriptor(j, 'env')?.['get']).toBe('function');
        expect(j.env).toEqual(merged);
        expect(structuredClone(j).env).toEqual(merged);
        expect((JSON.parse(JSON.stringify(j)) as { env: unknown }).env).toEqual(merged);
        expect({ ...j }.env).toEqual(merged);
      } else expect(j.env).toBe(shared);
    }
    expect(Object.isFrozen(shared)).toBe(true);
  });
});

describe('destinations', () => {
  it('every spelling of one place clashes; distinct places do not', () => {
    const same = ['out/a', './out/a', 'out//a', 'out/x/../a', '/base/out/a', 'out/./a', '../base/out/a'];
    for (const a of same) {
      for (const b of same) {
        const text = JSON.stringify([
          { copy: { from: 's', to: a } },
          { download: { url: 'http://h/x', to: b } },
        ]);
        expect(() => parseJobText(text, { name: 'j.json', baseDir: '/base' }), `${a} ${b}`).toThrow(
          JobFileError,
        );
      }
    }
    const text = JSON.stringify([
      { copy: { from: 's', to: 'out/a' } },
      { copy: { from: 's', to: 'out/ab' } },
      { copy: { from: 's', to: 'out/b/a' } },
      { run: 'true' },
    ]);
    expect(parseJobText(text, { name: 'j.json', baseDir: '/base' }).jobs).toHaveLength(4);
  });
});

describe('locating the problems of a big document job by job', () => {
  /** A job, good or with a problem, with brackets, commas and quotes in its strings. */
  function job(r: () => number, i: number): unknown {
    const odd = ['a,b', '[x]', '{"y":1}', 'q"uote', 'back\\slash', 'é ✓'];
    const s = () => odd[Math.floor(r() * odd.length)]!;
    switch (Math.floor(r() * 9)) {
      case 0:
        return { id: `j${i}`, run: `echo ${s()}`, timout: '1s' };
      case 1:
        return { id: `j${i}`, run: 42 };
      case 2:
        return { id: 'dup', run: s() };
      case 3:
        return { id: `j${i}`, copy: { from: s(), to: 'same/place' } };
      case 4:
        return { id: `j${i}`, download: { url: `ftp://${s()}`, to: `d${i}` } };
      case 5:
        return `echo ${s()}`;
      case 6:
        return { id: `j${i}`, run: [s(), s()], env: { A: s(), B: 3 } };
      default:
        return { id: `j${i}`, run: `echo ${s()}`, env: { A: s() } };
    }
  }

  it('gives the same messages as locating in the whole text (generated documents, any layout)', () => {
    const r = rng(23);
    for (let n = 0; n < 60; n++) {
      const jobs = Array.from({ length: 1 + Math.floor(r() * 12) }, (_, i) => job(r, i));
      const indent = [undefined, 1, 2, '\t'][Math.floor(r() * 4)];
      const body = JSON.stringify(jobs, null, indent);
      const small = `{"jobs": ${body}, "$schema": "x"}`;
      const big = `{"jobs": ${body}, "$schema": "${'x'.repeat(1_100_000)}"}`;
      const message = (text: string) => {
        try {
          parseJobText(text, { name: 'j.json', baseDir: '/base' });
          return 'ok';
        } catch (e) {
          expect(e).toBeInstanceOf(JobFileError);
          return (e as Error).message;
        }
      };
      expect(message(big), small).toBe(message(small));
      // a root array too (the filler a call's argument: a command that long is refused, exec could not take it)
      const filler = (x: string) => `{"call":{"module":"m.mjs","args":["${x}"]}}`;
      const bigArray = `${body.slice(0, -1)}${body.length > 2 ? ',' : ''}${filler('x'.repeat(1_100_000))}]`;
      const smallArray = `${body.slice(0, -1)}${body.length > 2 ? ',' : ''}${filler('x')}]`;
      expect(message(bigArray).replace(/x{20,}/g, 'x'), smallArray).toBe(message(smallArray));
    }
  });
});
