/**
 * The table of GNU parallel options poolrun refuses (src/gnu/unknown.ts) lists only options poolrun does not
 * define, and its messages do not deny what poolrun does (--load, --memfree, --delay, the input sources came with
 * issues 16 and 17).
 */
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { specOf } from '../../src/util/argv-split.js';
import { GNU_ONLY, gnuOnlyOption } from '../../src/gnu/unknown.js';
import { GNU_OPTION_NAMES } from '../../src/util/gnu-option-names.js';

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
  });

  it('no alias of an option poolrun takes is refused (--lb, --res, --xapply, --halt-on-error are taken)', () => {
    const groups = GNU_OPTION_NAMES.map((l) => l.split(' ').map((n) => (n.length > 1 ? `--${n}` : `-${n}`)));
    const taken = groups.filter((g) => g.some((n) => n.startsWith('--') && defined.has(n)));
    expect(taken.length).toBeGreaterThan(30);
    for (const g of taken) for (const n of g) if (n.startsWith('--')) expect(GNU_ONLY, n).not.toContain(n);
    for (const n of [
      '--lb',
      '--res',
      '--jl',
      '--xapply',
      '--halt-on-error',
      '--spreadstdin',
      '--block-size',
      '-P',
      '-C',
    ])
      expect(GNU_ONLY, n).not.toContain(n);
  });

  it('an alias or abbreviation of a refused option names GNU’s option and the poolrun way', () => {
    expect(gnuOnlyOption('--semaphore-ti', ['--semaphore-timeout', '--semaphoretimeout'])).toBe(
      `--semaphore-ti is GNU parallel's --semaphore-timeout, which poolrun does not take: ${gnuOnlyOption('--semaphore')!.replace(/^--semaphore is a GNU parallel option that poolrun does not take: /, '')}`,
    );
    expect(gnuOnlyOption('--nokeeporder', ['--no-keep-order', '--nokeeporder', '--nok', '--no-k'])).toMatch(
      /^--nokeeporder is a GNU parallel option, which poolrun does not take: --order completion/,
    );
    // A GNU option missing from the table still gets a message naming it.
    expect(gnuOnlyOption('--zz', ['--zzz'])).toMatch(
      /^--zz is GNU parallel's --zzz, which poolrun does not take \(see/,
    );
    expect(gnuOnlyOption('--zz')).toBeUndefined();
  });
});
