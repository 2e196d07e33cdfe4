/** The queue of units and each worker's jobs (util/deque.ts), against an array, over generated operations. */
import { describe, expect, it } from 'vitest';
import { Deque } from '../../src/util/deque.js';
import { rng } from '../helpers.js';

describe('Deque', () => {
  it('push, unshift, shift, insertAt, remove and at agree with an array (generated, long runs past the compaction)', () => {
    const r = rng(5);
    for (let round = 0; round < 20; round++) {
      const d = new Deque<number>();
      const a: number[] = [];
      let next = 0;
      for (let op = 0; op < 5000; op++) {
        const x = r();
        if (x < 0.35) {
          d.push(next);
          a.push(next++);
        } else if (x < 0.45) {
          d.unshift(next);
          a.unshift(next++);
        } else if (x < 0.75) {
          expect(d.shift()).toBe(a.shift());
        } else if (x < 0.9) {
          const i = Math.floor(r() * (a.length + 1));
          d.insertAt(i, next);
          a.splice(i, 0, next++);
        } else if (a.length) {
          const v = r() < 0.8 ? a[Math.floor(r() * a.length)]! : -1;
          expect(d.remove(v)).toBe(a.includes(v));
          if (a.includes(v)) a.splice(a.indexOf(v), 1);
        }
        expect(d.length).toBe(a.length);
        expect(d.peek()).toBe(a[0]);
      }
      expect(Array.from({ length: a.length }, (_, i) => d.at(i))).toEqual(a);
      expect([...d.drain()]).toEqual(a);
    }
  });
});
