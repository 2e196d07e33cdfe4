/**
 * GNU parallel's context replace (-N: a word holding {} is written once per argument) in the command, in
 * --tagstring and in a --results NAME, and --results NAME itself (NAME, NAME.err, NAME.seq per job), with GNU
 * parallel 20221122 as the oracle; and the refusals poolrun keeps where GNU's rule would make a value code or
 * write outside the results folder.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, rng, useTempDirs } from '../helpers.js';
import { runTool } from './run-tool.js';

const GNU = '/usr/bin/parallel';
const haveGnu = existsSync(GNU);
const temp = useTempDirs();

const run = runTool;

const gnu = (args: string[], cwd: string, input?: string) =>
  run(GNU, ['--will-cite', '-k', ...args], cwd, input);
const ours = (args: string[], cwd: string, input?: string) =>
  run(process.execPath, [BIN, '-q', ...args], cwd, input);

function dirAt(base: string, name: string): string {
  const d = join(base, name);
  mkdirSync(d);
  return d;
}

/** Every file under `dir`, by relative path, with its contents. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d)) {
      const full = join(d, e);
      const r = rel ? `${rel}/${e}` : e;
      if (statSync(full).isDirectory()) walk(full, r);
      else out[r] = readFileSync(full).toString('latin1');
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out;
}

async function same(args: string[], input?: string): Promise<void> {
  const base = temp();
  const [g, p] = await Promise.all([gnu(args, dirAt(base, 'g'), input), ours(args, dirAt(base, 'p'), input)]);
  const what = `argv ${JSON.stringify(args)}\npoolrun stderr: ${p.stderr}`;
  expect(p.stdout, what).toBe(g.stdout);
  expect(p.code, what).toBe(g.code === 0 ? 0 : 1);
}

/** At most 3 at a time: the machine is shared. */
async function limited(tasks: Array<() => Promise<void>>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

const VALUES = ['a', 'b.c', 'd/e.tar.gz', '', 'a b', "it's", '-rf', '.', '..', '/x/', '$(echo PWNED)', '"q"'];
const FORMS = ['{}', '{.}', '{/}', '{//}', '{/.}'];
const FIXED = ['{1}', '{2}', '{-1}', '{#}', '{1.}', '{2/}'];

/**
 * A word of literal text and replacement strings, written so that it is one plain argument (an `=` in it is
 * text: it comes after the command name).
 */
function word(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const parts: string[] = [];
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const x = r();
    parts.push(
      x < 0.45 ? pick(FORMS) : x < 0.7 ? pick(FIXED) : pick(['x', 'y-', '.z', ':', '@', '=', '--o=']),
    );
  }
  return parts.join('');
}

describe.skipIf(!haveGnu)('-N: context replace, as GNU parallel does it', () => {
  it.each([
    ['x{}x with -N2', ['-N2', 'echo', 'x{}x', ':::', 'a', 'b', 'c', 'd']],
    ['a short last group', ['-N2', 'echo', 'x{}x', ':::', 'a', 'b', 'c']],
    ['{1} stays one value inside the repeated word', ['-N2', 'echo', 'x{1}{}y', ':::', 'a', 'b', 'c']],
    ['two sources, -N1', ['-N1', 'echo', 'x{}x', ':::', 'a', 'b', ':::', 'c', 'd']],
    ['two sources, -N2', ['-N2', 'echo', 'x{}x', ':::', 'a', 'b', ':::', 'c', 'd']],
    ['--colsep: every column', ['-N2', '--colsep', ',', 'echo', 'x{}x', ':::', 'a,b', 'c,d,e']],
    ['-N0: once per source, empty', ['-N0', 'echo', 'x{}x', ':::', 'a', 'b', ':::', 'c']],
    ['{#} is not repeated', ['-N2', 'echo', 'x{#}{}x', ':::', 'a', 'b', 'c', 'd']],
    ['{/} and {.}', ['-N2', 'echo', 'x{/}x{.}y', ':::', 'a/b.c', 'd/e.f']],
    ['two words, one in quotes of the template', ['-N2', 'echo x{} y{}', ':::', 'a', 'b', 'c', 'd']],
    ['-n2 does not repeat', ['-n2', 'echo', 'x{}x', ':::', 'a', 'b', 'c', 'd']],
    ['the stdin form', ['-N2', 'echo', 'x{}x']],
    ['--tagstring is repeated too', ['-N2', '--tagstring', 'x{}y', 'echo', ':::', 'a', 'b', 'c', 'd']],
    ['--tagstring {1} is not', ['-N2', '--tagstring', 'x{1}y', 'echo', ':::', 'a', 'b', 'c', 'd']],
    ['--tag', ['-N2', '--tag', 'echo', ':::', 'a', 'b', 'c']],
  ])('%s', async (_, args) => {
    await same(args, 'p\nq\nr\n');
  });

  it('generated: words of {}-forms, {n} and text over -N, sources, --colsep and hostile values', async () => {
    const tasks: Array<() => Promise<void>> = [];
    for (let seed = 1; seed <= Number(process.env.GNU_CONTEXT_CASES ?? 36); seed++) {
      const r = rng(seed * 7919);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const colsep = r() < 0.25;
      const args = ['-N', String(Math.floor(r() * 4))];
      if (colsep) args.push('--colsep', ',');
      args.push('printf', '[%s]');
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) args.push(word(r));
      args.push(';', 'echo');
      for (let s = 1 + Math.floor(r() * 2); s > 0; s--) {
        args.push(':::');
        for (let k = 1 + Math.floor(r() * 3); k > 0; k--)
          args.push(colsep && r() < 0.5 ? `${pick(VALUES)},${pick(VALUES)}` : pick(VALUES));
      }
      tasks.push(async () => {
        try {
          await same(args);
        } catch (e) {
          throw new Error(`seed ${seed}: ${(e as Error).message}`);
        }
      });
    }
    await limited(tasks);
  }, 300_000);

  it.each([
    ['{}; (the ; would be repeated: a value would run as a command)', ['echo {}; echo x'], 6],
    ['$(basename {}) (the ) would be repeated)', ['echo $(basename {})'], 17],
    ['a quoted blank in the word', ['echo "a b"{}'], 11],
    ['a newline in the word', ['echo {}\necho x'], 'line 1, column 6'],
  ])('refused with -N2: %s', async (_, cmd, col) => {
    const dir = temp();
    const p = await ours(['-N2', ...cmd, ':::', 'a', 'b'], dir);
    expect(p.code).toBe(2);
    expect(p.stdout).toBe('');
    expect(p.stderr).toContain(
      `{} at ${typeof col === 'number' ? `column ${col}` : col} with -N is written once per argument`,
    );
    expect(p.stderr).not.toMatch(/\n\s+at /);
  });

  it('the same commands run where a job has one argument (no repetition then)', async () => {
    const dir = temp();
    const p = await ours(['-N1', 'echo {}; echo x', ':::', 'a', 'b'], dir);
    expect([p.code, p.stdout]).toEqual([0, 'a\nx\nb\nx\n']);
  });
});

describe.skipIf(!haveGnu)('--results NAME with replacement strings: NAME, NAME.err, NAME.seq', () => {
  it.each([
    ['out/{}', ['a', 'x y', 'p/q', '', '-rf', "it's"]],
    ['{1}.txt', ['c', 'd e']],
    ['out/{}/', ['e', 'f/g', '']],
    ['o/{1}-{2}', ['g', 'h'], ['i']],
    ['o/{#}-{/}', ['a/b', 'c']],
    ['o/v{}', ['a', 'b', 'c'], undefined, ['-N2']],
    ['o/{.}.out', ['a.jpg', 'b.tar.gz']],
    // --header names, known only once the header is read.
    ['out/{c}', ['c', 'v1', 'v2'], undefined, ['--header', ':']],
    ['out/{c}/{#}', ['c', 'v1', 'v2'], undefined, ['--header', ':']],
    ['o/{d}-{c}', ['c', 'v1'], ['d', 'w1', 'w2'], ['--header', ':']],
  ] as Array<[string, string[], string[]?, string[]?]>)('%s', async (name, values, more, opts) => {
    const base = temp();
    const cmd = ['sh', '-c', 'echo out "$@"; echo err >&2; exit $#', 'sh'];
    const sources = [':::', ...values, ...(more ? [':::', ...more] : [])];
    const args = [...(opts ?? []), '--results', name, ...cmd, ...sources];
    const [g, p] = await Promise.all([gnu(args, dirAt(base, 'g')), ours(args, dirAt(base, 'p'))]);
    const pt = tree(join(base, 'p'));
    expect(Object.keys(pt).length, p.stderr).toBeGreaterThan(0);
    expect(pt, p.stderr).toEqual(tree(join(base, 'g')));
    expect(p.stdout).toBe(g.stdout);
    expect(p.code).toBe(g.code === 0 ? 0 : 1);
  });

  it.each([
    ['out/{}', '../escaped', /a \.\. climbs out of the folder/],
    ['out/x/{}', '../../escaped', /a \.\. climbs out/],
    ['{}', '/tmp/poolrun-results-abs', /an absolute path/],
    ['{}.txt', '../escaped', /climbs out/],
    ['out/{}', '..', /names no file|climbs out/],
    ['out/{}', 'a/.', /names no file/],
    ['out/{n}', '../escaped', /climbs out/],
    ['o/{n}/x{1}', '../../x', /climbs out/],
  ])('refused before any job runs: %s with %j', async (name, bad, why) => {
    const base = temp();
    const dir = dirAt(base, 'work');
    const header = name.includes('{n}') ? ['--header', ':'] : [];
    const values = header.length ? ['n', bad, 'ok'] : [bad, 'ok'];
    const p = await ours([...header, '--results', name, 'touch', `${base}/ran-{#}`, ':::', ...values], dir);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(why);
    expect(p.stderr).toContain(`--results ${name}: job 1`);
    expect(readdirSync(base).sort()).toEqual(['work']);
    expect(existsSync('/tmp/poolrun-results-abs')).toBe(false);
  });

  it('a symbolic link inside the folder that leads out is not followed: warned, not written', async () => {
    const base = temp();
    const dir = dirAt(base, 'work');
    mkdirSync(join(dir, 'out'));
    mkdirSync(join(base, 'elsewhere'));
    symlinkSync(join(base, 'elsewhere'), join(dir, 'out', 'link'));
    const p = await ours(['--results', 'out/{}', 'echo', ':::', 'link/x', 'fine'], dir);
    expect(p.stderr).toMatch(/--results out\/\{\}: job 1: .*outside/);
    expect(readdirSync(join(base, 'elsewhere'))).toEqual([]);
    expect(readFileSync(join(dir, 'out', 'fine'), 'utf8')).toBe('fine\n');
  });
});
