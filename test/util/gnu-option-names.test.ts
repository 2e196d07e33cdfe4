/**
 * GNU parallel's option spellings (util/argv-split.ts, util/gnu-option-names.ts): every alias of an option poolrun
 * takes (`--lb`, `-P 4`, `-C ,`, `--halt-on-error`), and every abbreviation Getopt::Long would take, counted over
 * GNU parallel's names and poolrun's, so an abbreviation never means another option here than in GNU parallel.
 *
 * The oracle is GNU parallel's own options table read by Perl's Getopt::Long with GNU's configuration
 * (test/fixtures/getopt-oracle.pl), and GNU parallel itself for whole command lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { EARLY_SPEC, specOf, splitArgv } from '../../src/util/argv-split.js';
import { GNU_OPTION_NAMES } from '../../src/util/gnu-option-names.js';
import { BIN, FIXTURES, ROOT, poolrun, runClean, useTempDirs } from '../helpers.js';

const GNU = '/usr/bin/parallel';
const haveGnu = existsSync(GNU);
const spec = specOf(buildProgram('0.0.0-test'));
const split = (argv: string[]) => splitArgv(argv, spec);
const longsOf = (line: string) => line.split(' ').map((n) => `--${n}`);

describe.skipIf(!haveGnu)("GNU parallel's option names, against GNU parallel", () => {
  it('the table is the installed GNU parallel’s (scripts/gnu-option-names.pl)', () => {
    const r = spawnSync('perl', [join(ROOT, 'scripts', 'gnu-option-names.pl'), GNU], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const norm = (lines: readonly string[]) => lines.map((l) => l.split(' ').sort().join(' ')).sort();
    expect(norm(GNU_OPTION_NAMES)).toEqual(norm(r.stdout.trim().split('\n')));
  });

  it('every prefix of every long name, and each name in capitals, resolves as Getopt::Long resolves it for GNU', () => {
    const gnuNames = new Set(GNU_OPTION_NAMES.flatMap(longsOf));
    const ownLongs = spec.options.map((o) => o.long).filter((l): l is string => l !== undefined);
    const poolrunOnly = new Set(ownLongs.filter((l) => !gnuNames.has(l)));
    const words = new Set<string>();
    for (const name of [...gnuNames, ...ownLongs]) {
      // Two letters at least: a one-letter long name (`--k`) is GNU's single-letter option, matched whole.
      for (let n = 4; n <= name.length; n++) words.add(name.slice(0, n));
      if (name.length > 3) words.add(name.toUpperCase());
    }
    const list = [...words];
    const r = spawnSync('perl', [join(FIXTURES, 'getopt-oracle.pl'), GNU, ...list], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const oracle = new Map(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    );
    expect(oracle.size).toBe(list.length);
    let resolved = 0;
    let ambiguous = 0;
    let unclear = 0;
    for (const word of list) {
      const gnu = oracle.get(word)!;
      const s = split([word, 'x']);
      const p = s.parsed[0]!;
      const what = `${word}: GNU ${gnu}, poolrun ${JSON.stringify(p)} ${JSON.stringify(s.options)}`;
      if (gnu === 'none') {
        // Taken by GNU, but its value `1` not (`--template` wants KEY=VALUE): the oracle cannot say which.
        unclear++;
      } else if (gnu === 'ambiguous') {
        ambiguous++;
        expect(p.ambiguous, what).toBeDefined();
      } else if (gnu === 'unknown') {
        // Only poolrun's own options may take it.
        if (p.ambiguous)
          expect(
            p.ambiguous.some((n) => poolrunOnly.has(n)),
            what,
          ).toBe(true);
        else expect(p.gnu, what).toBeUndefined();
        if (!p.ambiguous && spec.options.some((o) => o.long === p.name))
          expect(poolrunOnly.has(p.name), what).toBe(true);
      } else {
        resolved++;
        const names = new Set(gnu.split(/[|,]/).map((n) => `--${n}`));
        if (p.ambiguous) {
          // Ambiguous only because a poolrun-only name begins so too (`--wor`: --work-dir and --workers).
          expect(
            p.ambiguous.some((n) => poolrunOnly.has(n)),
            what,
          ).toBe(true);
        } else if (p.gnu) {
          expect(new Set(p.gnu), what).toEqual(new Set([...names].filter((n) => p.gnu!.includes(n))));
          expect(
            p.gnu.every((n) => names.has(n)),
            what,
          ).toBe(true);
        } else if (poolrunOnly.has(word.toLowerCase())) {
          // A name of poolrun's own, written whole, is poolrun's (`--output`; GNU: --output-as-files).
          expect(p.name, what).toBe(word.toLowerCase());
        } else {
          // The option poolrun takes is GNU's: its long name is one of GNU's names for it, and commander gets it.
          expect(names.has(p.name), what).toBe(true);
          expect(s.options[0], what).toBe(p.name);
        }
      }
    }
    // The oracle said something of each kind: a test that cannot fail is a defect.
    expect(resolved).toBeGreaterThan(500);
    expect(ambiguous).toBeGreaterThan(50);
    expect(unclear).toBeLessThan(20);
  });
});

describe('aliases and abbreviations on the split (unit)', () => {
  it('an alias or abbreviation reaches commander as poolrun’s name, its value kept', () => {
    expect(split(['--lb', 'echo']).options).toEqual(['--line-buffer']);
    expect(split(['--res=-rf', 'echo']).options).toEqual(['--results=-rf']);
    expect(split(['--jl', 'log', 'echo']).options).toEqual(['--joblog', 'log']);
    expect(split(['--dry', '--TAG', 'echo']).options).toEqual(['--dry-run', '--tag']);
    expect(split(['--halt-on-error', 'now', 'echo']).options).toEqual(['--halt', 'now']);
    expect(split(['--tim=5s', 'echo']).options).toEqual(['--timeout=5s']);
    expect(split(['--k', 'echo']).options).toEqual(['--keep-order']);
    // GNU's -P and -C: poolrun's --jobs and --colsep, alone or in a cluster, the value in the word or the next.
    expect(split(['-P4', 'echo']).options).toEqual(['--jobs=4']);
    expect(split(['-P', '4', 'echo']).options).toEqual(['--jobs', '4']);
    expect(split(['-kP', '4', 'echo']).options).toEqual(['-k', '--jobs', '4']);
    expect(split(['-kC,', 'echo']).options).toEqual(['-k', '--colsep=,']);
    // A cluster without them is left as written.
    expect(split(['-kw4', 'echo']).options).toEqual(['-kw4']);
    // --each's abbreviation ends the options as --each does.
    const e = split(['--eac', 'echo {}', '-rf', '--x=y']);
    expect(e.options).toEqual(['--each', 'echo {}']);
    expect(e.operands).toEqual(['-rf', '--x=y']);
    expect(e.argumentsAfter).toBe('--each');
  });

  it('ambiguous and GNU-only words are marked, and the start-up guess splits them alike', () => {
    expect(split(['--ta', 'echo']).parsed[0]!.ambiguous).toEqual(['--tag', '--tag-string', '--tagstring']);
    expect(split(['--sema', 'echo']).parsed[0]!.ambiguous).toContain('--semaphore-timeout');
    expect(split(['--semaphore', 'echo']).parsed[0]!.gnu).toEqual(['--semaphore']);
    expect(split(['--nok', 'echo']).parsed[0]!.gnu).toContain('--no-keep-order');
    expect(split(['--no-such-thing', 'echo']).parsed[0]).toEqual({ name: '--no-such-thing' });
    // GNU's one-letter long names: poolrun's option where the letter is poolrun's too (`--k`, `--j`, `--P`),
    // GNU's alone where it is not (`--t` is GNU's --verbose, not poolrun's, which has no -t).
    expect(split(['--k', 'echo']).options).toEqual(['--keep-order']);
    expect(split(['--P', '2', 'echo']).options).toEqual(['--jobs', '2']);
    expect(split(['--t', 'echo']).parsed[0]!.gnu).toEqual(['--t']);
    expect(split(['--q', 'echo']).parsed[0]!.gnu).toContain('--quote');
    for (const argv of [
      ['--mo', 'process', 'x.json'],
      ['-P', '3', '--mod=process', 'echo', ':::', 'a'],
    ]) {
      const early = splitArgv(argv, EARLY_SPEC);
      expect(early.parsed.map((p) => p.name)).toEqual(split(argv).parsed.map((p) => p.name));
      expect(early.operands).toEqual(split(argv).operands);
    }
  });
});

describe.skipIf(!haveGnu)('GNU parallel’s spellings on the command line, against GNU parallel', () => {
  const temp = useTempDirs('all');

  const run = async (file: string, args: string[], cwd: string, home: string, input = '') => {
    const r = await runClean(file, args, { cwd, home, input });
    return { code: r.code, out: r.out.toString('utf8') };
  };

  it('aliases and abbreviations: the same stdout and exit status', async () => {
    const home = temp();
    mkdirSync(join(home, '.parallel'));
    writeFileSync(join(home, '.parallel', 'will-cite'), '');
    const cases: string[][] = [
      ['--lb', '-k', 'echo', ':::', 'a', 'b'],
      ['-P', '2', '-k', 'echo', ':::', 'a', 'b'],
      ['-kP2', 'echo', ':::', 'a', 'b'],
      ['--max-procs=2', '-k', 'echo', ':::', 'a'],
      ['-C', ',', '-k', 'echo', '{2}', '{1}', ':::', 'a,b', 'c,d'],
      ['--col-sep', ',', '-k', 'echo', '{2}', ':::', 'a,b'],
      ['--xapply', '-k', 'echo', ':::', 'a', 'b', ':::', '1', '2'],
      // -k: GNU's --dry-run prints in the order its jobs end (CI once had them reversed).
      ['--dry', '-k', 'echo', ':::', 'a b', "c'd"],
      ['--DRY-RUN', 'echo', ':::', 'x'],
      ['--tagst', '<{}>', '-k', 'echo', ':::', 'a'],
      ['--keeporder', '--TAG', 'echo', ':::', 'a'],
      ['--halt-on-error', 'now,fail=1', '-j1', 'sh', '-c', 'exit {}', ':::', '0', '3', '0'],
      ['--haltonerror', '2', '-j1', 'sh', '-c', 'exit {}', ':::', '0', '4', '0'],
      ['--maxargs', '2', '-k', 'echo', ':::', '1', '2', '3'],
      ['--norunifempty', '-k', 'echo', 'x{}', ':::', ' ', 'a'],
      ['--spreadstdin', '--block-size', '1k', '-k', 'wc', '-c'],
      ['--willcite', '--nonotice', 'echo', ':::', 'q'],
    ];
    for (const args of cases) {
      const dir = temp();
      const input = 'a line of input\n'.repeat(300);
      const [g, p] = await Promise.all([
        run(GNU, args, dir, home, input),
        run(process.execPath, [BIN, '-q', ...args], dir, home, input),
      ]);
      const what = `${JSON.stringify(args)}\npoolrun ${p.out}\nGNU ${g.out}`;
      expect(p.code, what).toBe(g.code);
      expect(p.out, what).toBe(g.out);
    }
  }, 120_000);

  it('--version abbreviated (--vers, --V, --VERSION) prints what --version prints, the spawn path too', async () => {
    const full = await poolrun(['--version']);
    expect(full.stdout).toMatch(/\(spawn: /);
    for (const w of ['--vers', '--V', '--VERSION']) expect((await poolrun([w])).stdout, w).toBe(full.stdout);
  });

  it('an ambiguous abbreviation: exit 2 naming every option it begins, nothing runs (GNU: exit 255)', async () => {
    const dir = temp();
    const canary = join(dir, 'ran');
    // --work is ambiguous in poolrun only (--work-dir and --workers): GNU takes it as --work-dir.
    for (const word of ['--ta', '--sh', '--ver', '--work', '--re']) {
      const r = await poolrun([word, 'x', 'touch', canary, ':::', 'a'], { cwd: dir });
      expect(r.code, word).toBe(2);
      expect(r.stderr, word).toMatch(new RegExp(`^poolrun: option ${word} is ambiguous: it begins --`));
      expect(r.stderr, word).not.toMatch(/\n\s+at /);
      expect(existsSync(canary), word).toBe(false);
      if (word === '--work') continue;
      const g = await run(GNU, [word, 'x', 'touch', canary, ':::', 'a'], dir, temp());
      expect(g.code, word).toBe(255);
    }
    expect(existsSync(canary)).toBe(false);
  }, 60_000);
});
