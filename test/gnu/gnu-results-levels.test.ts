/**
 * --results DIR's levels with -N/-n, several sources, --colsep and --header: GNU parallel names each value's level
 * by its place in its combination (its source, or column), not by its place in the job (`-N2 ::: a b` is
 * `DIR/1/a/1/b`), and --header's names stand for those places. The trees must be the same, file for file.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, GENERATED_TIMEOUT_MS, rng, track, useTempDirs } from '../helpers.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

/** Every path under `dir` (relative, sorted; its bytes as latin1, names that are not UTF-8 too) and each file's bytes. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: Buffer) => {
    const at = Buffer.concat([Buffer.from(dir), Buffer.from('/'), rel]);
    const names = readdirSync(at, { encoding: 'buffer' }).sort((a, b) => Buffer.compare(a, b));
    for (const name of names) {
      const r = rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
      const full = Buffer.concat([Buffer.from(dir), Buffer.from('/'), r]);
      if (statSync(full).isDirectory()) {
        out[`${r.toString('latin1')}/`] = '';
        walk(r);
      } else out[r.toString('latin1')] = readFileSync(full, 'latin1');
    }
  };
  walk(Buffer.alloc(0));
  return out;
}

describe.skipIf(!existsSync(GNU))(
  '--results DIR levels with -N and several sources, against GNU parallel',
  () => {
    it(
      'the same tree',
      async () => {
        const home = temp();
        mkdirSync(join(home, '.parallel'));
        writeFileSync(join(home, '.parallel', 'will-cite'), '');
        const lines = join(temp(), 'lines');
        writeFileSync(lines, 'a,b\nc\nd,e,f\ng\nh\n');
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
        // --header: GNU sorts each combination's levels by name, numbers first by value (`<=>`), then bytes (`cmp`).
        cases.push(
          ['--header', ':', 'echo', ':::', 'zz', '1', ':::', 'aa', 'x'],
          ['--colsep', ',', '--header', ':', 'echo', ':::', 'zz,aa', 'v1,v2'],
          ['-N2', '--header', ':', 'echo', ':::', 'zz', '1', '2', '3', ':::', 'aa', 'x'],
          // One file source, read as it arrives: -N's levels are numbered by place in the line too.
          ['-N2', 'echo', '::::', lines],
          ['-N2', '--colsep', ',', 'echo', '::::', lines],
          // A name given twice: both levels carry it, and {aa} is the first.
          ['--header', ':', 'echo', '{aa}', ':::', 'aa', '1', ':::', 'aa', '2', ':::', 'B', 'b'],
        );
        // Values whose folder name is not UTF-8: bytes that are not, and a character cut at 255 bytes (fresh-eyes
        // probe: the folder was made and left empty, "ENOENT … caf\ufffd", exit 0).
        const latin = join(temp(), 'latin1');
        writeFileSync(latin, Buffer.from('caf\xe9\nx\n\xff\xfe,\xe9\n', 'latin1'));
        cases.push(
          ['echo', '::::', latin],
          ['--colsep', ',', 'echo', '::::', latin],
          ['echo', ':::', 'é'.repeat(200), 'a'.repeat(254) + 'é'],
        );
        const r = rng(11);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
        const pool = [
          'zz',
          'aa',
          'B',
          'b',
          '10',
          '9',
          '2x',
          'x2',
          '-1',
          '1e1',
          '.5',
          '0x3',
          'inf',
          'a b',
          '_',
          'aa',
        ];
        // A source given as a file (`::::`, -a) is named by the file's name as given, in GNU's odd way: the k-th
        // such file names the k-th place, whatever source that place is in (fresh-eyes probe: poolrun used the
        // header line's name). Absolute paths here, so both sides give the same names from their own folders.
        const files = temp();
        for (let i = 0; i < 24; i++) {
          const c: string[] = ['--header', ':'];
          const colsep = r() < 0.4;
          if (colsep) c.push('--colsep', ',');
          if (r() < 0.3) c.push('-N2');
          const n = 1 + Math.floor(r() * 3);
          const operands: string[] = [];
          for (let k = 0; k < n; k++) {
            const width = colsep ? 1 + Math.floor(r() * 3) : 1;
            const row = (f: () => string) => Array.from({ length: width }, f).join(',');
            const source = [row(() => pick(pool))];
            for (let v = 0; v < 1 + Math.floor(r() * 2); v++)
              source.push(row(() => pick(['p', 'q', 'r', '1']) + k + v));
            const how = i < 12 ? 0 : r();
            if (how < 0.5) operands.push(':::', ...source);
            else {
              const f = join(files, `${pick(['zz', 'aa', 'in'])}${i}-${k}`);
              writeFileSync(f, source.join('\n') + '\n');
              if (how < 0.8) operands.push('::::', f);
              else c.push('-a', f);
            }
          }
          cases.push([...c, 'echo', ...operands]);
        }
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
      },
      GENERATED_TIMEOUT_MS,
    );

    it('{FILE} stands for the place a file given with :::: or -a names, with --header', async () => {
      const home = temp();
      mkdirSync(join(home, '.parallel'));
      writeFileSync(join(home, '.parallel', 'will-cite'), '');
      const dir = temp();
      writeFileSync(join(dir, 'h1'), 'n\nx\ny\n');
      writeFileSync(join(dir, 'f2'), 'n,v\na,b\n');
      const cases = [
        ['--header', ':', 'echo', '{h1}', '{n}', '::::', 'h1', ':::', 'A', '1'],
        ['--header', ':', 'echo', '{h1}', '{A}', ':::', 'A', '1', '::::', 'h1'],
        ['--header', ':', 'echo', '{f2}', '{h1}', '::::', 'h1', '::::', 'f2'],
        ['--header', ':', 'echo', '{./f2}', '{h1}', '::::', 'h1', '::::', './f2'],
        ['--header', ':', '-a', 'h1', 'echo', '{h1}.{n}'],
        ['--header', ':', '--colsep', ',', 'echo', '{f2}:{v}', '::::', 'f2'],
        ['--header', ':', 'echo', '{n}', '{h1}', '::::', 'h1'],
      ];
      for (const c of cases) {
        const opts = {
          cwd: dir,
          reject: false,
          stdin: 'ignore' as const,
          env: { HOME: home, PATH: process.env.PATH, PARALLEL_SHELL: '/bin/sh', LC_ALL: 'C' },
          extendEnv: false,
          timeout: 50_000,
        };
        const [g, p] = await Promise.all([
          track(execa(GNU, ['-k', ...c], opts)),
          track(execa(process.execPath, [BIN, '-q', '-k', ...c], opts)),
        ]);
        expect([p.stdout, p.exitCode], JSON.stringify(c)).toEqual([g.stdout, g.exitCode]);
      }
    });
  },
);
