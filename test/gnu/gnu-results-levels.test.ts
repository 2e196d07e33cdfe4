/**
 * --results DIR's levels with -N/-n, several sources, --colsep and --header: GNU parallel names each value's level
 * by its place in its combination (its source, or column), not by its place in the job (`-N2 ::: a b` is
 * `DIR/1/a/1/b`), and --header's names stand for those places. The trees must be the same, file for file.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, track, useTempDirs } from '../helpers.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

/** Every path under `dir` (relative, sorted) and each file's bytes. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(join(dir, r)).isDirectory()) {
        out[`${r}/`] = '';
        walk(r);
      } else out[r] = readFileSync(join(dir, r), 'latin1');
    }
  };
  walk('');
  return out;
}

describe.skipIf(!existsSync(GNU))(
  '--results DIR levels with -N and several sources, against GNU parallel',
  () => {
    it('the same tree', async () => {
      const home = temp();
      mkdirSync(join(home, '.parallel'));
      writeFileSync(join(home, '.parallel', 'will-cite'), '');
      const cases = [
        ['-N2', 'echo', ':::', 'a', 'b', 'c', 'd', 'e'],
        ['-N2', 'echo', ':::', 'a', 'b', 'c', ':::', 'x', 'y'],
        ['-n2', 'echo', ':::', 'a', 'b', 'c'],
        ['-N2', '--colsep', ',', 'echo', ':::', 'a,b', 'c', 'd,e,f', 'g'],
        ['-N2', '--header', ':', 'echo', ':::', 'h', 'a', 'b', 'c', ':::', 'k', 'x'],
        ['echo', ':::', 'a', 'b', ':::', 'c', 'd'],
      ];
      const run = (file: string, args: string[], cwd: string) =>
        track(
          execa(file, args, {
            cwd,
            reject: false,
            stdin: 'ignore',
            env: { HOME: home, PATH: process.env.PATH, PARALLEL_SHELL: '/bin/sh', LC_ALL: 'C' },
            extendEnv: false,
            timeout: 50_000,
          }),
        );
      for (const c of cases) {
        const dir = temp();
        const [g, p] = await Promise.all([
          run(GNU, ['-k', '--results', 'r', ...c], join(dir)),
          (mkdirSync(join(dir, 'p')),
          run(process.execPath, [BIN, '-q', '-k', '--results', 'r', ...c], join(dir, 'p'))),
        ]);
        expect(g.exitCode).toBe(0);
        expect(p.exitCode, p.stderr).toBe(0);
        expect(tree(join(dir, 'p', 'r')), JSON.stringify(c)).toEqual(tree(join(dir, 'r')));
      }
    });
  },
);
