/**
 * `:::+`/`::::+` after `-a FILE`, as GNU parallel 20221122 combines them (compared on the same argv): the `+` of the
 * k-th source after the command applies to the k-th source of the whole list, -a sources first.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, GENERATED_TIMEOUT_MS, rng, useTempDirs } from '../../helpers.js';
import { runTool } from '../../gnu/run-tool.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

describe.skipIf(!existsSync(GNU))(':::+ and ::::+ after -a, against GNU parallel', () => {
  it(
    'generated command lines: one or two -a files, then :::/:::+/::::/::::+ sources',
    async () => {
      const r = rng(42);
      const dir = temp();
      const files = { A: 'a1\na2\n', B: 'b1\nb2\nb3\n', C: 'c1\n', D: 'd1\nd2\n' };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      for (let i = 0; i < 14; i++) {
        const args = ['-a', 'A'];
        if (r() < 0.4) args.push('-a', r() < 0.5 ? 'B' : 'D');
        args.push('echo');
        const n = 1 + Math.floor(r() * 3);
        for (let k = 0; k < n; k++) {
          const plus = r() < 0.6 ? '+' : '';
          if (r() < 0.5)
            args.push(`:::${plus}`, ...['x', 'y', 'z'].slice(0, 1 + Math.floor(r() * 3)).map((v) => v + k));
          else args.push(`::::${plus}`, r() < 0.5 ? 'C' : 'D');
        }
        const [g, p] = await Promise.all([
          runTool(GNU, ['--will-cite', '-k', ...args], dir),
          runTool(process.execPath, [BIN, '-q', ...args], dir),
        ]);
        expect(p.stdout, `${JSON.stringify(args)}\n${p.stderr}`).toBe(g.stdout);
        expect(p.code).toBe(g.code);
      }
    },
    GENERATED_TIMEOUT_MS,
  );
  it(
    'generated command lines with empty sources: a `:::` with no values is one empty value, but for a lone `:::` right after the command',
    async () => {
      const r = rng(7);
      const dir = temp();
      const files = { A: '.bashrc\n', B: 'b1\nb2\n', C: 'c1\n', E: '' };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const cases: string[][] = [
        ['-a', 'A', 'printf', '[%s]', ':::'],
        ['-a', 'A', 'printf', '[%s]', ':::+'],
        ['-a', 'A', 'printf', '[%s]', '::::'],
        ['-a', 'A', 'printf', '[%s]', ':::', 'x', ':::'],
        ['-a', 'A', 'printf', '[%s]', ':::', ':::', 'x'],
        ['-a', 'A', '-N2', 'printf', '[%s]', '{/}', ':::', 'x', 'y', ':::'],
      ];
      for (let i = 0; i < 16; i++) {
        const args = ['-a', r() < 0.7 ? 'A' : 'B'];
        if (r() < 0.4) args.push('-a', r() < 0.5 ? 'B' : 'E');
        if (r() < 0.2) args.push('-N2');
        args.push('printf', '[%s]');
        const n = 1 + Math.floor(r() * 4);
        for (let k = 0; k < n; k++) {
          const plus = r() < 0.3 ? '+' : '';
          if (r() < 0.75)
            args.push(`:::${plus}`, ...['x', 'y'].slice(0, Math.floor(r() * 3)).map((v) => v + k));
          else args.push(`::::${plus}`, r() < 0.5 ? 'C' : 'E');
        }
        cases.push(args);
      }
      for (const args of cases) {
        const [g, p] = await Promise.all([
          runTool(GNU, ['--will-cite', '-k', ...args], dir),
          runTool(process.execPath, [BIN, '-q', '-k', ...args], dir),
        ]);
        expect(p.stdout, `${JSON.stringify(args)}\n${p.stderr}`).toBe(g.stdout);
        expect(p.code).toBe(g.code);
      }
    },
    GENERATED_TIMEOUT_MS,
  );
});
