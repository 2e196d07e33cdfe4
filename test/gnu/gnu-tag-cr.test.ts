/**
 * --tag/--tagstring bytes: GNU parallel starts a tagged line after a CR as after a LF (`a\rb` is `T\ta\rT\tb`),
 * on stdout and stderr, and tags each line of --dry-run's output.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, track, useTempDirs } from '../helpers.js';
import { LinePrefixer } from '../../src/gnu/tag.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

describe('--tag: a CR ends a line too', () => {
  it('LinePrefixer, in one piece and byte by byte', () => {
    const text = 'a\rb\r\nc\n\r\rd';
    const want = 'T\ta\rT\tb\rT\t\nT\tc\nT\t\rT\t\rT\td';
    expect(new LinePrefixer(Buffer.from('T\t')).push(Buffer.from(text)).toString()).toBe(want);
    const p = new LinePrefixer(Buffer.from('T\t'));
    expect([...text].map((c) => p.push(Buffer.from(c)).toString()).join('')).toBe(want);
  });
});

describe.skipIf(!existsSync(GNU))('--tag bytes with CR, and --dry-run --tag, against GNU parallel', () => {
  it('the same stdout and stderr', async () => {
    const home = temp();
    mkdirSync(join(home, '.parallel'));
    writeFileSync(join(home, '.parallel', 'will-cite'), '');
    const run = (file: string, args: string[]) =>
      track(
        execa(file, args, {
          cwd: home,
          reject: false,
          stdin: 'ignore',
          stripFinalNewline: false,
          env: { HOME: home, PATH: process.env.PATH, PARALLEL_SHELL: '/bin/sh', LC_ALL: 'C' },
          extendEnv: false,
          timeout: 50_000,
        }),
      );
    const cmd = "printf 'a\\rb\\r\\nc\\r'; printf 'e\\rf\\n\\r' >&2";
    for (const args of [
      ['-k', '-j1', '--tag', cmd, ':::', 'x', 'y z'],
      ['-k', '-j1', '--tagstring', '<{}>', cmd, ':::', 'x'],
      ['-k', '--dry-run', '--tag', 'echo', '{}', ':::', 'a b', "c'd\re"],
      ['-k', '--dry-run', '--tagstring', '{}{1.}', 'echo', ':::', 'a.b', ':::', 'c'],
    ]) {
      const [g, p] = await Promise.all([run(GNU, args), run(process.execPath, [BIN, '-q', ...args])]);
      expect(p.exitCode, p.stderr).toBe(g.exitCode);
      expect(JSON.stringify(p.stdout), JSON.stringify(args)).toBe(JSON.stringify(g.stdout));
      expect(JSON.stringify(p.stderr), JSON.stringify(args)).toBe(JSON.stringify(g.stderr));
    }
  });
});
