/**
 * Issue 16 item 6: `-r/--no-run-if-empty` outside --pipe skips the arguments and input lines of only whitespace,
 * as GNU parallel's -r does (`/^\s*$/`); without -r the rules stay as they were. GNU parallel is the oracle.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { BIN, rng, track, useTempDirs } from '../helpers.js';
import { isBlank } from '../../src/input/blank.js';

const temp = useTempDirs();
const GNU = '/usr/bin/parallel';
const INPUT = 'a\n \n\t\n\r\n \t \n\nb\n';

async function run(file: string, args: string[], input: string) {
  const r = await track(
    execa(file, args, {
      reject: false,
      input,
      timeout: 60_000,
      stripFinalNewline: false,
      env: { NO_COLOR: '1' },
    }),
  );
  return { code: r.exitCode, stdout: r.stdout };
}
const pool = (args: string[], input = '') => run(process.execPath, [BIN, '-q', ...args], input);
const gnu = (args: string[], input = '') => run(GNU, ['--will-cite', ...args], input);

describe('-r skips blank arguments, as GNU parallel', () => {
  it('isBlank is Perl ASCII \\s', () => {
    for (const s of ['', ' ', '\t', '\r', '\f', '\v', ' \t\r '])
      expect(isBlank(Buffer.from(s)), JSON.stringify(s)).toBe(true);
    for (const s of ['a', ' a', '\u00a0', '-'])
      expect(isBlank(Buffer.from(s)), JSON.stringify(s)).toBe(false);
  });

  it('the input form: :::, :::: -, -a, --colsep, two sources', async () => {
    const dir = temp();
    const file = join(dir, 'in');
    writeFileSync(file, INPUT);
    const cases: string[][] = [
      ['-r', '-k', 'echo', 'x{}x', '::::', '-'],
      ['-r', '-k', 'echo', 'x{}x', ':::', 'a', ' ', '', '\t', 'b'],
      ['-r', '-k', 'echo', 'x{}x', ':::', ' '],
      ['-r', '-k', 'echo', 'x{1}{2}x', ':::', 'a', ' ', '::::', '-'],
      ['-r', '-k', '-a', file, 'echo', 'x{}x'],
      ['-r', '-k', '--colsep', ',', 'echo', 'x{1}x', '::::', file],
      ['--no-run-if-empty', '-k', 'echo', 'x{}x', '::::', file, '::::', '-'],
    ];
    for (const args of cases) {
      const [g, p] = await Promise.all([gnu(args, INPUT), pool(args, INPUT)]);
      expect(p, args.join(' ')).toEqual(g);
    }
  });

  it('--each: its arguments and stdin lines', async () => {
    expect((await pool(['-r', '--each', 'echo x{}x', 'a', ' ', '\t', 'b'])).stdout).toBe('xax\nxbx\n');
    expect((await pool(['-r', '--each', 'echo x{}x'], INPUT)).stdout).toBe('xax\nxbx\n');
    const g = await gnu(['-r', '-k', 'echo', 'x{}x'], INPUT);
    expect(g.stdout).toBe('xax\nxbx\n');
  });

  it('without -r the rules stay: a blank line is a job (and --each skips only empty lines)', async () => {
    const p = await pool(['-k', 'echo', 'x{}x', '::::', '-'], 'a\n \n\nb\n');
    const g = await gnu(['-k', 'echo', 'x{}x', '::::', '-'], 'a\n \n\nb\n');
    expect(p).toEqual(g);
    expect((await pool(['--each', 'echo x{}x'], 'a\n \n\nb\n')).stdout).toBe('xax\nx x\nxbx\n');
  });
});

describe('--pipe -r drops blank lines as GNU parallel does (s/^\\s*\\n//gm in Perl)', () => {
  it('generated inputs of CRLF, CR, blanks and text: the same blocks as parallel -k --pipe -r', async () => {
    // Probe: JavaScript's /m `^` matches after a \r too, so every CRLF lost its \n (a\r\nb\r\n gave a\rb\r, and -N
    // then counted one record where GNU counts three).
    const r = rng(20261205);
    const pieces = ['a', 'bc', ' ', '\t', '\r', '\n', '\r\n', '\n\n', '\v', '\f', ' \r\n'];
    for (let k = 0; k < 24; k++) {
      let input = '';
      const n = 1 + Math.floor(r() * 14);
      for (let i = 0; i < n; i++) input += pieces[Math.floor(r() * pieces.length)]!;
      const mode = k % 3;
      const args = ['-k', '--pipe', '-r'];
      if (mode === 1) args.push('-N1');
      if (mode === 2) args.push('--block', '3');
      args.push('cat; echo "|"');
      const [g, p] = await Promise.all([gnu(args, input), pool(args, input)]);
      expect(p, `${args.join(' ')} on ${JSON.stringify(input)}`).toEqual(g);
    }
  }, 120_000);
});
