/**
 * Replacement strings against GNU parallel 20221122 (the oracle), same argv through both, stdout bytes and exit
 * status compared: a `{}` in a word holding `=` after the command name (`--opt={}`, `{}=x`: only text, so it is
 * several words as anywhere, and -N repeats the word); `{-k}` past the first argument (GNU wraps around once, as
 * Perl's negative index does), in the command and in --tagstring; --tagstring's escapes (`\t` `\n` `\r` `\ddd`
 * `\d`, GNU's unquote_printf); and the refusals kept: `v={} CMD` and `export v={}` with several arguments, and
 * `{= perl =}` in --tagstring.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { argIndex } from '../../src/input/replacements.js';
import { unquoteTag } from '../../src/gnu/tag.js';
import { BIN, rng, useTempDirs } from '../helpers.js';
import { runTool } from './run-tool.js';

const GNU = '/usr/bin/parallel';
const haveGnu = existsSync(GNU);
const temp = useTempDirs();

const gnu = (args: string[], cwd: string) => runTool(GNU, ['--will-cite', '-k', ...args], cwd);
const ours = (args: string[], cwd: string) => runTool(process.execPath, [BIN, '-q', ...args], cwd);

function dirAt(base: string, name: string): string {
  const d = join(base, name);
  mkdirSync(d);
  return d;
}

async function same(args: string[]): Promise<void> {
  const base = temp();
  const [g, p] = await Promise.all([gnu(args, dirAt(base, 'g')), ours(args, dirAt(base, 'p'))]);
  const what = `argv ${JSON.stringify(args)}\npoolrun stderr: ${p.stderr}\nGNU stderr: ${g.stderr}`;
  expect(p.stdout, what).toBe(g.stdout);
  expect(p.code, what).toBe(g.code);
}

/** At most 3 at a time: the machine is shared. */
async function limited(tasks: Array<() => Promise<void>>): Promise<void> {
  let next = 0;
  const failed: string[] = [];
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      while (next < tasks.length) await tasks[next++]!().catch((e: Error) => failed.push(e.message));
    }),
  );
  expect(failed.length, failed.slice(0, 4).join('\n\n')).toBe(0);
}

const VALUES = ['a', 'b.c', 'd/e.tar.gz', '', 'a b', "it's", '-rf', '/x/', '$(echo PWNED)', 'k=v'];
const FORMS = ['{}', '{.}', '{/}', '{//}', '{/.}'];
/** Several arguments per job, each way GNU gives them. */
const SHAPES: Array<{ opts: string[]; sources: string[][] }> = [
  { opts: [], sources: [['a', 'b'], ['c']] },
  { opts: [], sources: [['a'], ['b.c', 'd'], ['e']] },
  { opts: ['-n2'], sources: [['a', 'b', 'c']] },
  { opts: ['-N2'], sources: [['a', 'b', 'c']] },
  { opts: ['-N3'], sources: [['a', 'x/b.c'], ['d']] },
  { opts: ['--colsep', ','], sources: [['a,b', 'c,d.e,f']] },
  { opts: ['-N2', '--colsep', ','], sources: [['a,b', 'c']] },
];
const withSources = (sources: string[][]) => sources.flatMap((s) => [':::', ...s]);

describe.skipIf(!haveGnu)('a {} in a word holding = after the command name: several words, as GNU', () => {
  it.each([
    ['--opt={}, two sources', ['echo', '--opt={}', ':::', 'a', ':::', 'b']],
    ['v={} as an argument', ['echo', 'v={}', ':::', 'a', ':::', 'b']],
    ['{}=x', ['echo', '{}=x', ':::', 'x', ':::', 'y']],
    ['-n2', ['-n2', 'echo', '--opt={}', ':::', 'a', 'b', 'c']],
    ['--colsep', ['--colsep', ',', 'echo', '--opt={}', ':::', 'a,b']],
    ['-N2 repeats the word', ['-N2', 'echo', '--opt={}', ':::', 'a', 'b', 'c']],
    ['-N2, = on both sides', ['-N2', 'echo', 'a=b{}c=d', '{.}={/}', ':::', 'a.b/c', 'd.e/f', 'g']],
    ['after an assignment before the command', ['x=1', 'echo', 'v={}', ':::', 'a', ':::', 'b']],
    ['in a for list', ['for x in v={}; do echo $x; done', ':::', 'a', ':::', 'b']],
    ['hostile values', ['printf', '[%s]', '--o={}=', ':::', 'a b', "it's", ':::', '$(echo PWNED)', '-rf']],
    ['--dry-run', ['--dry-run', 'echo', '--opt={}', ':::', 'a b', ':::', "it's"]],
  ])('%s', async (_, args) => {
    await same(args);
  });

  it('generated: words of =, {}-forms and text, over sources, -N, -n and --colsep', async () => {
    const tasks: Array<() => Promise<void>> = [];
    for (let seed = 1; seed <= 24; seed++) {
      const r = rng(seed * 104_729);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const shape = pick(SHAPES);
      const words: string[] = [];
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
        const parts = Array.from({ length: 2 + Math.floor(r() * 3) }, () =>
          r() < 0.4 ? pick(FORMS) : pick(['=', '--o=', 'k=', '=v', 'x', '{1}', '{-1}']),
        );
        if (!parts.some((p) => p.includes('='))) parts.push('=');
        words.push(parts.join(''));
      }
      const sources = shape.sources.map((s) =>
        s.map((v) => (r() < 0.4 && !shape.opts.includes('--colsep') ? pick(VALUES) : v)),
      );
      const args = [...shape.opts, 'printf', '[%s]', ...words, ';', 'echo', ...withSources(sources)];
      tasks.push(() => same(args));
    }
    await limited(tasks);
  }, 300_000);
});

describe('an = after the command name is text (without GNU at hand too)', () => {
  it.each([
    [['echo', '--opt={}', ':::', 'a', ':::', 'b c'], '--opt=a b c\n'],
    [['-N2', 'echo', '--opt={}', ':::', 'a', 'b', 'c'], '--opt=a --opt=b\n--opt=c\n'],
    [['printf', '[%s]', '{}=x', ';', 'echo', ':::', 'x', ':::', 'y z'], '[x][y z=x]\n'],
  ])('%j', async (args, out) => {
    const p = await ours(args, temp());
    expect([p.code, p.stdout], p.stderr).toEqual([0, out]);
  });
});

describe('the assignments poolrun still refuses with several arguments (README: v={})', () => {
  it.each([
    ['v={} before the command', ['v={}', 'echo', ':::', 'a', ':::', 'b'], 'column 3'],
    ['export v={}', ['export', 'v={}', ':::', 'a', ':::', 'b'], 'column 10'],
    ['-N2 v={} before the command', ['-N2', 'v={}', 'echo', ':::', 'a', 'b'], 'column 3'],
  ])('%s: exit 2, nothing run', async (_, args, where) => {
    const dir = temp();
    const p = await ours(args, dir);
    expect(p.code).toBe(2);
    expect(p.stdout).toBe('');
    expect(p.stderr).toContain(`{} at ${where}`);
    expect(p.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('{-k}: GNU indexes n + (-k), and Perl counts a negative index from the end again', () => {
  it('argIndex over n and k', () => {
    expect([1, 2, 3].map((k) => argIndex(-k, 1))).toEqual([0, 0, undefined]);
    expect([1, 2, 3, 4, 5].map((k) => argIndex(-k, 2))).toEqual([1, 0, 1, 0, undefined]);
    expect([1, 2, 3].map((k) => argIndex(k, 2))).toEqual([0, 1, undefined]);
    expect(argIndex(-1, 0)).toBeUndefined();
  });
});

describe.skipIf(!haveGnu)('{-k} past the first argument, as GNU', () => {
  it.each([
    ['{-2} of one argument', ['printf', '[%s]', '{-2}', ':::', 'a']],
    ['{-2} {-1} of one argument', ['printf', '[%s]', '{-2}', '{-1}', ':::', 'a', 'b']],
    ['--colsep: {-3} of two columns', ['--colsep', ',', 'printf', '[%s]', '{-3}', ':::', 'a,b']],
    [
      '-N2, a short group',
      ['-N2', 'printf', '[%s]', '{-2}', '{-3}', '{-4}', ';', 'echo', ':::', 'a', 'b', 'c'],
    ],
    ['-N0', ['-N0', 'printf', '[%s]', '{-1}', '{-2}', '{-1.}', ';', 'echo', ':::', 'a', 'b']],
    ['--tagstring', ['--tagstring', '<{-1}|{-2}|{-3}|{-4.}>', 'echo', ':::', 'a', ':::', 'b/c.d']],
  ])('%s', async (_, args) => {
    await same(args);
  });

  it('generated: {-1}…{-7} with their suffixes over sources, -N, -n and --colsep, in the command and the tag', async () => {
    const suffixes = ['', '', '.', '/', '//', '/.'];
    const tasks: Array<() => Promise<void>> = [];
    for (let seed = 1; seed <= 28; seed++) {
      const r = rng(seed * 7_919 + 3);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const shape = pick([
        ...SHAPES,
        { opts: [], sources: [['a/b.c', 'd.e/f']] },
        { opts: ['-N1'], sources: [['a', 'b/c.d'], ['e']] },
        { opts: ['--colsep', ','], sources: [['x,y/z.w,q', 'p']] },
      ]);
      const ref = () => `{-${1 + Math.floor(r() * 7)}${pick(suffixes)}}`;
      const refs = Array.from({ length: 2 + Math.floor(r() * 4) }, ref);
      const tag = r() < 0.4 ? ['--tagstring', `<${refs.slice(0, 2).join('|')}>`] : [];
      const args = [
        ...shape.opts,
        ...tag,
        'printf',
        '[%s]',
        ...refs,
        ';',
        'echo',
        ...withSources(shape.sources),
      ];
      tasks.push(() => same(args));
    }
    await limited(tasks);
  }, 300_000);
});

describe('--tagstring escapes (GNU unquote_printf), on bytes', () => {
  it.each([
    ['{}\\t|', '{}\t|'],
    ['a\\nb\\rc', 'a\nb\rc'],
    ['\\101\\0x', 'A\0x'],
    ['\\\\t', '\\\t'],
    ['\\8\\9', '89'],
    ['\\189', '\x0189'],
    ['\\0101', '\x081'],
    ['\\1345', '\x05'],
    ['\\x41\\e', '\\x41\\e'],
  ])('%j', (given, bytes) => {
    expect(unquoteTag(given).toString('latin1')).toBe(bytes);
  });

  it('\\351 is one byte; \\400 makes the whole text UTF-8, as Perl prints it', () => {
    expect([...unquoteTag('é\\351')]).toEqual([0xc3, 0xa9, 0xe9]);
    expect([...unquoteTag('é\\400')]).toEqual([0xc3, 0x83, 0xc2, 0xa9, 0xc4, 0x80]);
  });
});

describe.skipIf(!haveGnu)('--tagstring with escapes, as GNU', () => {
  const TAGS = [
    '{}\\t|',
    'a\\nb',
    'a\\rb',
    '\\101\\0x',
    '\\\\t',
    '\\189',
    '\\351{}',
    '\\173}-{1}',
    'x{}\\ty{1}',
    '\\t{}',
  ];
  it('each escape, alone, with -N2, --dry-run and --colsep', async () => {
    const tasks: Array<() => Promise<void>> = [];
    for (const t of TAGS)
      for (const opts of [[], ['-N2'], ['--dry-run'], ['--colsep', ',']])
        tasks.push(() => same([...opts, '--tagstring', t, 'echo', ':::', 'a', 'b', 'c,d']));
    await limited(tasks);
  }, 300_000);
});

describe('--tagstring {= perl =}: exit 2 before anything runs, as in the command', () => {
  it.each([
    ['{=uc=}', 'column 1'],
    ['x{= $_ =}y', 'column 2'],
    ['\\173=uc=}', 'made by its \\ escapes'],
  ])('%s', async (tag, where) => {
    const base = temp();
    const dir = dirAt(base, 'w');
    const p = await ours(['--tagstring', tag, 'touch', 'ran-{#}', ':::', 'a', 'b'], dir);
    expect(p.code).toBe(2);
    expect(p.stdout).toBe('');
    expect(p.stderr).toContain(`--tagstring: {= … =} ${where.startsWith('column') ? 'at ' : '('}${where}`);
    expect(p.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir)).toEqual([]);
  });
});
