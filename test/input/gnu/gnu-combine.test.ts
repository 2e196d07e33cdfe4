/** input/gnu/combine.ts on its own: the counts it announces (the live view's total) are the jobs it makes. */
import { describe, expect, it } from 'vitest';
import {
  combinations,
  countCombinations,
  countJobs,
  perJobArgs,
  splitColumns,
  type Value,
} from '../../../src/input/gnu/combine.js';
import { rng } from '../../helpers.js';

const v = (s: string): Value => [Buffer.from(s)];

describe('combinations', () => {
  it('generated sources: the count is the number made, and every job has its arguments', () => {
    const r = rng(1616);
    for (let n = 0; n < 2000; n++) {
      const k = 1 + Math.floor(r() * 4);
      const values = Array.from({ length: k }, (_, s) =>
        Array.from({ length: Math.floor(r() * 4) }, (_, i) => v(`${s}.${i}`)),
      );
      const linked = values.map((_, s) => s > 0 && r() < 0.4);
      const linkAll = r() < 0.2;
      const src = { values, linked, linkAll };
      const made = [...combinations(src)];
      expect(made.length).toBe(countCombinations(src));
      // Each combination has one value of each source, in source order.
      for (const c of made)
        expect(c.map((b) => b.toString().split('.')[0] ?? '')).toEqual(
          values.map((_, s) => (values[s]!.length ? String(s) : '')),
        );
      const per = r() < 0.3 ? undefined : Math.floor(r() * 4);
      const jobs = [...perJobArgs(made, per)];
      expect(jobs.length).toBe(countJobs(made.length, per));
      if (per) expect(jobs.flat().length).toBe(made.flat().length);
    }
  });

  it('the first source varies slowest; :::+ pairs up to the shorter; --link wraps', () => {
    const s = (xs: Buffer[][]) => xs.map((c) => c.map(String).join(' '));
    expect(
      s([
        ...combinations({
          values: [
            [v('a'), v('b')],
            [v('1'), v('2')],
          ],
          linked: [false, false],
          linkAll: false,
        }),
      ]),
    ).toEqual(['a 1', 'a 2', 'b 1', 'b 2']);
    expect(
      s([
        ...combinations({
          values: [
            [v('a'), v('b'), v('c')],
            [v('1'), v('2')],
          ],
          linked: [false, true],
          linkAll: false,
        }),
      ]),
    ).toEqual(['a 1', 'b 2']);
    expect(
      s([
        ...combinations({
          values: [
            [v('a'), v('b'), v('c')],
            [v('1'), v('2')],
          ],
          linked: [false, false],
          linkAll: true,
        }),
      ]),
    ).toEqual(['a 1', 'b 2', 'c 1']);
    // An empty source among others is one empty value; all empty, or --link: nothing.
    expect(s([...combinations({ values: [[v('a')], []], linked: [false, false], linkAll: false })])).toEqual([
      'a ',
    ]);
    expect([...combinations({ values: [[], []], linked: [false, false], linkAll: false })]).toEqual([]);
    expect([...combinations({ values: [[v('a')], []], linked: [false, false], linkAll: true })]).toEqual([]);
  });
});

describe('splitColumns', () => {
  it('keeps empty fields, and bytes that are not UTF-8', () => {
    expect(splitColumns(Buffer.from(',d,,'), /,/u).map(String)).toEqual(['', 'd', '', '']);
    expect(splitColumns(Buffer.from([0xff, 0x2c, 0xfe]), /,/u)).toEqual([
      Buffer.from([0xff]),
      Buffer.from([0xfe]),
    ]);
  });
});
