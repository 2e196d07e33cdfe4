/**
 * The table of GNU parallel options poolrun refuses (src/gnu/unknown.ts) lists only options poolrun does not
 * define, and its messages do not deny what poolrun does (--load, --memfree, --delay, the input sources came with
 * issues 16 and 17).
 */
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { specOf } from '../../src/util/argv-split.js';
import { GNU_ONLY, gnuOnlyOption } from '../../src/gnu/unknown.js';

describe('GNU-only options: the table matches what poolrun takes', () => {
  const defined = new Set(specOf(buildProgram('0.0.0-test')).options.flatMap((o) => [o.long, o.short]));

  it('no option poolrun defines is listed as refused', () => {
    expect(GNU_ONLY.filter((n) => defined.has(n))).toEqual([]);
  });

  it('--load, --memfree and --delay are poolrun options; --memsuspend, --noswap, --limit name them', () => {
    for (const n of ['--load', '--memfree', '--delay', '-a', '--colsep', '--header', '--link', '-n'])
      expect(defined.has(n), n).toBe(true);
    for (const n of ['--memsuspend', '--noswap', '--limit']) {
      const m = gnuOnlyOption(n)!;
      expect(m).toMatch(/--memfree SIZE/);
      expect(m).toMatch(/--load N/);
      expect(m).not.toMatch(/does not watch/);
    }
  });

  it('no message says a feature poolrun has is missing or still to come', () => {
    for (const n of GNU_ONLY) {
      const m = gnuOnlyOption(n)!;
      expect(m, n).not.toMatch(/does not watch the load|come with issue|no delay between starts|meanwhile/);
    }
    expect(gnuOnlyOption('--xapply')).toMatch(/--link/);
    expect(gnuOnlyOption('-C')).toMatch(/--colsep/);
  });
});
