/**
 * `:::+`/`::::+` after `-a FILE`, as GNU parallel 20221122 combines them (compared on the same argv): the `+` of the
 * k-th source after the command applies to the k-th source of the whole list, -a sources first.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, rng, useTempDirs } from '../../helpers.js';
import { runTool } from '../../gnu/run-tool.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

describe.skipIf(!existsSync(GNU))(':::+ and ::::+ after -a, against GNU parallel', () => {
  it('generated command lines: one or two -a files, then :::/:::+/::::/::::+ sources', async () => {
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
  });
});
