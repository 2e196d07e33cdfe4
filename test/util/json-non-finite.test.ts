/** nonFiniteAt (src/util/json.ts): where a value parsed from JSON holds a number JSON.parse made Infinity. */
import { describe, expect, it } from 'vitest';
import { nonFiniteAt } from '../../src/util/json.js';
import { rng } from '../helpers.js';

type Tree = unknown;

/** A random JSON value, and every path in it that leads to a number. */
function tree(
  r: () => number,
  depth: number,
  path: (string | number)[],
  numbers: (string | number)[][],
): Tree {
  const pick = r();
  if (depth === 0 || pick < 0.3) {
    const leaf = [1.5, 0, -3, 'x', '1e999', null, true][Math.floor(r() * 7)];
    if (typeof leaf === 'number') numbers.push(path);
    return leaf;
  }
  const n = Math.floor(r() * 4);
  if (pick < 0.65) return Array.from({ length: n }, (_, i) => tree(r, depth - 1, [...path, i], numbers));
  const o: Record<string, Tree> = {};
  for (let i = 0; i < n; i++) {
    const k = ['a', 'b', '0', 'constructor', ''][i]!;
    o[k] = tree(r, depth - 1, [...path, k], numbers);
  }
  return o;
}

function setAt(root: Tree, path: (string | number)[], v: number): Tree {
  if (!path.length) return v;
  let at = root as Record<string | number, Tree>;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, Tree>;
  at[path.at(-1)!] = v;
  return root;
}

describe('nonFiniteAt', () => {
  it('finds the one number JSON.parse made Infinity, at its path, in 3000 generated values; none in finite ones', () => {
    const r = rng(41);
    let found = 0;
    for (let n = 0; n < 3000; n++) {
      const numbers: (string | number)[][] = [];
      const text = JSON.stringify(tree(r, 5, [], numbers));
      const value: Tree = JSON.parse(text);
      expect(nonFiniteAt(value)).toBeUndefined();
      if (!numbers.length) continue;
      const path = numbers[Math.floor(r() * numbers.length)]!;
      // Written in the text as JSON.parse would read it: 1e999 or -1e400.
      const marked = JSON.stringify(setAt(value, path, 123456789.5)).replace(
        '123456789.5',
        r() < 0.5 ? '1e999' : '-1e400',
      );
      expect(nonFiniteAt(JSON.parse(marked))).toEqual(path);
      found++;
    }
    expect(found).toBeGreaterThan(1000);
  });
});
