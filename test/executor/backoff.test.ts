/** The retry delay doubles per attempt and stops at a timer's longest wait (unit: src). */
import { describe, expect, it } from 'vitest';
import { backoff } from '../../src/executor/options.js';
import { MAX_TIMER_MS } from '../../src/executor/check.js';

describe('backoff', () => {
  it('doubles per attempt from the base', () => {
    expect([1, 2, 3, 4].map((a) => backoff(100, a))).toEqual([100, 200, 400, 800]);
    expect(backoff(0, 50)).toBe(0);
  });

  it("stops at a timer's longest wait: 20d × 2 and a thousand attempts (Infinity) were asked for", () => {
    const day = 24 * 3600 * 1000;
    expect(backoff(20 * day, 2)).toBe(MAX_TIMER_MS);
    expect(backoff(1000, 1000)).toBe(MAX_TIMER_MS);
    expect(backoff(1000, 1e6)).toBe(MAX_TIMER_MS);
  });
});
