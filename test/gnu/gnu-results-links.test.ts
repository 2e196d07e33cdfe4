/**
 * --results never writes through a symbolic link: not one placed where a job's file goes (NAME, NAME.err, DIR's
 * stdout…), not one inside NAME's folder that leads out (no folder made beyond it either).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

describe('--results and symbolic links', () => {
  it.each([
    ['a NAME file', ['--results', 'out/{}'], 'out/f', 'f'],
    ['a NAME.err file', ['--results', 'out/{}'], 'out/f.err', 'f'],
    ['a NAME.seq file', ['--results', 'out/{}'], 'out/f.seq', 'f'],
    ["a GNU tree's stdout", ['--results', 'out'], 'out/1/f/stdout', 'f'],
    ["a GNU tree's seq", ['--results', 'out'], 'out/1/f/seq', 'f'],
  ])('a link placed as %s is not written through', async (_, opts, link, value) => {
    const cwd = temp();
    const victim = join(temp(), 'victim');
    writeFileSync(victim, 'ORIGINAL\n');
    mkdirSync(join(cwd, link, '..'), { recursive: true });
    symlinkSync(victim, join(cwd, link));
    const r = await poolrun(['-q', ...opts, 'echo', 'PWNED', ':::', value], { cwd });
    expect(readFileSync(victim, 'utf8')).toBe('ORIGINAL\n');
    expect(r.stderr).toMatch(/--results .*job 1/);
  });

  it('a link inside the folder that leads out: no folder made through it, nothing written', async () => {
    const cwd = temp();
    const elsewhere = temp();
    mkdirSync(join(cwd, 'out'));
    symlinkSync(elsewhere, join(cwd, 'out', 'link'));
    const r = await poolrun(['-q', '--results', 'out/{}', 'echo', 'x', ':::', 'link/newdir/f'], { cwd });
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(r.stderr).toMatch(/outside .* not written/);
    // Values without links still write where they should.
    const ok = await poolrun(['-q', '--results', 'out/{}', 'echo', 'y', ':::', 'plain/g'], { cwd });
    expect(ok.code).toBe(0);
    expect(readFileSync(join(cwd, 'out/plain/g'), 'utf8')).toBe('y plain/g\n');
    expect(existsSync(join(cwd, 'out/plain/g.seq'))).toBe(true);
  });

  it.each([
    ["a source's folder (DIR/1)", '1', 'a'],
    ["a value's folder (DIR/1/a)", '1/a', ''],
    ["a second source's folder (DIR/1/a/2)", '1/a/2', 'b'],
  ])(
    "a GNU tree's %s replaced by a link that leads out: nothing written through it, nor folders made",
    async (_, at, rest) => {
      const cwd = temp();
      const elsewhere = temp();
      // What the link leads to may already hold the files a job would write.
      mkdirSync(join(elsewhere, rest), { recursive: true });
      writeFileSync(join(elsewhere, rest, 'stdout'), 'IMPORTANT\n');
      mkdirSync(join(cwd, 'res', at, '..'), { recursive: true });
      symlinkSync(elsewhere, join(cwd, 'res', at));
      const before = readdirSync(elsewhere, { recursive: true }).sort();
      const r = await poolrun(['-q', '--results', 'res', 'echo', 'PWNED', ':::', 'a', ':::', 'b'], { cwd });
      expect(r.stderr).toMatch(/--results .*outside .* not written/);
      expect(readFileSync(join(elsewhere, rest, 'stdout'), 'utf8')).toBe('IMPORTANT\n');
      expect(readdirSync(elsewhere, { recursive: true }).sort()).toEqual(before);
    },
  );

  it('a link inside a GNU tree that leads to another place in it is followed, as a folder would be', async () => {
    const cwd = temp();
    mkdirSync(join(cwd, 'res', 'other'), { recursive: true });
    symlinkSync(join(cwd, 'res', 'other'), join(cwd, 'res', '1'));
    const r = await poolrun(['-q', '--results', 'res', 'echo', 'ok', ':::', 'a'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(join(cwd, 'res', 'other', 'a', 'stdout'), 'utf8')).toBe('ok a\n');
  });
});
