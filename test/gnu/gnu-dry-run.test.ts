/**
 * `--dry-run` in GNU parallel's form prints the bytes `parallel --dry-run` prints (GNU 20221122 is the oracle):
 * seeded command lines whose values hold quotes, `$`, backquotes, blanks, newlines (through `-0 ::::`), tabs,
 * `--x=y`, `-rf`, UTF-8 and empty strings, in templates with `{}` alone, inside words, in a composed command
 * (`echo {} | wc`), with several sources and -N. Many values ride in one invocation, so each case costs two
 * spawns; some cases are tagged (--tag, --tagstring: GNU tags each line printed). Then the quoted commands are
 * run by /bin/sh, which must see each value as the one argument it was.
 * A failure prints its seed: GNU_DRY_SEED=n runs that one case, GNU_DRY_CASES=n runs more.
 *
 * Left out on purpose, each a difference the README's "Coming from GNU parallel" table names: bytes that are
 * not UTF-8 (poolrun writes them as `"$(printf '\351')"`), a `:::` value with a newline (GNU: two values),
 * `$v{}`, `~{}`, `{}>f` (poolrun quotes a safe value there too), `-q` (poolrun's is --quiet), `{#}` in --tagstring
 * (GNU 20221122 prints another job's number).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, rng, runClean, track, useTempDirs } from '../helpers.js';
import { quoteText } from '../../src/input/quote.js';

const GNU = '/usr/bin/parallel';
const haveGnu = existsSync(GNU);
const temp = useTempDirs();
const CASES = Number(process.env.GNU_DRY_CASES ?? 12);
const ONLY = process.env.GNU_DRY_SEED === undefined ? undefined : Number(process.env.GNU_DRY_SEED);

/** Pieces of hostile values; a value is one to four of them. */
const PIECES = [
  "'",
  "''",
  '"',
  '$',
  '$x',
  '${x}',
  '$(id)',
  '`id`',
  ' ',
  '\t',
  '\\',
  '\\n',
  '*',
  '?',
  '[a]',
  '{',
  '}',
  '{}',
  '(',
  ')',
  ';',
  '&',
  '|',
  '<',
  '>',
  '!',
  '#',
  '~',
  '=',
  ',',
  ':',
  '%',
  '^',
  '@',
  '+',
  '-',
  '.',
  '/',
  '_',
  'a',
  'Z9',
  'if',
  '--x=y',
  '-rf',
  '-',
  'é',
  '日本',
  '🙂',
  '\r',
  '\x01',
  '\x1b[0m',
  '\x7f',
  '\u00a0',
];

/** Templates that poolrun and GNU both take (poolrun refuses values inside quotes and as command names). */
const TEMPLATES: string[][] = [
  ['echo', '{}'],
  ['printf', '[%s]\\n', '{}', '{.}', '{/}', '{//}', '{/.}'],
  ['echo {} | wc -c'],
  ['echo', 'x{}y', '{#}', '--x=y', '-rf'],
  ['echo', '{}=z', 'w={}'],
  ['echo', '"$(basename', '{})"'],
  ['test', '-n', '{}', '&&', 'echo', 'if', '{}', ';', 'echo', 'done'],
  ['echo'],
  ['echo', '{}', '>/dev/null', '2>&1'],
];
const TWO_SOURCES: string[][] = [
  ['echo', '{1}', '{2}', '{1.}', '{2/}'],
  ['printf', '%s,%s\\n', '{2}', '{1}'],
  ['echo', '{}'],
];

interface Case {
  argv: string[];
  files: Record<string, Buffer>;
  /** Every value, for the /bin/sh check. */
  values: string[];
}

function generate(seed: number): Case {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const value = (newlines: boolean): string => {
    if (r() < 0.08) return '';
    let v = '';
    for (let k = 1 + Math.floor(r() * 4); k > 0; k--) v += newlines && r() < 0.1 ? '\n' : pick(PIECES);
    // Separators on the command line are separators, not values (for both programs).
    return /^:::/.test(v) ? `x${v}` : v;
  };
  const values = (n: number, newlines = false) => Array.from({ length: n }, () => value(newlines));
  const shape = r();
  if (shape < 0.45) {
    const vs = values(24);
    return { argv: [...pick(TEMPLATES), ':::', ...vs], files: {}, values: vs };
  }
  if (shape < 0.65) {
    // -0 :::: FILE: a value may hold a newline.
    const vs = values(24, true);
    return {
      argv: ['-0', ...pick(TEMPLATES), '::::', 'in'],
      files: { in: Buffer.from(vs.map((v) => `${v}\0`).join('')) },
      values: vs,
    };
  }
  if (shape < 0.85) {
    const a = values(5);
    const b = values(5);
    return { argv: [...pick(TWO_SOURCES), ':::', ...a, ':::', ...b], files: {}, values: [...a, ...b] };
  }
  const vs = values(12);
  return {
    argv: ['-N', '2', ...pick([['echo', '{}'], ['echo', 'x{}y'], ['echo']]), ':::', ...vs],
    files: {},
    values: vs,
  };
}

/** A run with a clean HOME and GNU's shell as poolrun's (helpers.ts runClean). */
const dry = (file: string, args: string[], cwd: string, home: string) => runClean(file, args, { cwd, home });

describe('GNU parallel quoting, unit', () => {
  it('quoteText writes what shell_quote_scalar_default writes', () => {
    expect(quoteText('')).toBe("''");
    expect(quoteText('a-b_c.d+e/F9')).toBe('a-b_c.d+e/F9');
    expect(quoteText("c'd")).toBe(`'c'"'"'d'`);
    expect(quoteText("'")).toBe(`"'"`);
    expect(quoteText("'a'")).toBe(`"'"'a'"'"`);
    expect(quoteText('a,b')).toBe("'a,b'");
    expect(quoteText('x@y')).toBe("'x@y'");
    expect(quoteText('a:b%')).toBe("'a:b%'");
  });
});

describe.skipIf(!haveGnu)('--dry-run quotes as GNU parallel quotes, against GNU parallel', () => {
  it('generated values and templates: the same stdout bytes; /bin/sh gets each value back', async () => {
    const home = temp();
    mkdirSync(join(home, '.parallel'));
    writeFileSync(join(home, '.parallel', 'will-cite'), '');
    const seeds = ONLY === undefined ? Array.from({ length: CASES }, (_, k) => 9100 + k) : [ONLY];
    for (const seed of seeds) {
      const c = generate(seed);
      const dir = temp();
      for (const [name, bytes] of Object.entries(c.files)) writeFileSync(join(dir, name), bytes);
      // Every third case tagged: GNU tags each line of the dry-run output.
      const tag = [[], [], ['--tag'], ['--tagstring', '<{}>{1/}|{1.}']][seed % 4]!;
      const args = ['--dry-run', '-k', ...tag, ...c.argv];
      const [g, p] = await Promise.all([
        dry(GNU, args, dir, home),
        dry(process.execPath, [BIN, ...args], dir, home),
      ]);
      const what = `seed ${seed}: ${JSON.stringify(args)}\npoolrun stderr: ${p.err}\nGNU stderr: ${g.err}`;
      expect(g.code, what).toBe(0);
      expect(p.code, what).toBe(0);
      expect(p.out.toString('utf8'), what).toBe(g.out.toString('utf8'));
      expect(p.out.equals(g.out), what).toBe(true);
    }
  }, 300_000);

  it('the quoted words are the values to /bin/sh: one sh reads them all back, and a real run gets them too', async () => {
    const r = rng(77);
    const vs: string[] = [];
    for (let n = 0; n < 200; n++) {
      let v = '';
      for (let k = Math.floor(r() * 5); k > 0; k--)
        v += r() < 0.1 ? '\n' : PIECES[Math.floor(r() * PIECES.length)];
      vs.push(v);
    }
    const dir = temp();
    writeFileSync(join(dir, 'in'), vs.map((v) => `${v}\0`).join(''));
    // Each job prints its value between NULs; the dry-run lines, run by sh, must print the values back.
    const p = await dry(
      process.execPath,
      [BIN, '--dry-run', '-0', 'printf', '%s\\\\0', '{}', '::::', 'in'],
      dir,
      dir,
    );
    expect(p.code, p.err).toBe(0);
    const sh = await track(
      execa('/bin/sh', [], { input: p.out, encoding: 'buffer', reject: false, stripFinalNewline: false }),
    );
    expect(sh.exitCode).toBe(0);
    expect(Buffer.from(sh.stdout).toString('utf8')).toBe(vs.map((v) => `${v}\0`).join(''));
    // And the run itself: the same values, in order.
    const ran = await dry(
      process.execPath,
      [BIN, '-q', '-k', '-0', 'printf', '%s\\\\0', '{}', '::::', 'in'],
      dir,
      dir,
    );
    expect(ran.code, ran.err).toBe(0);
    expect(ran.out.toString('utf8')).toBe(vs.map((v) => `${v}\0`).join(''));
  });
});

describe.skipIf(!haveGnu)('--header : names take the suffixes {1} takes, against GNU parallel', () => {
  it('{name.} {name/} {name//} {name/.} in the command, --tagstring and --results NAME', async () => {
    const home = temp();
    mkdirSync(join(home, '.parallel'));
    writeFileSync(join(home, '.parallel', 'will-cite'), '');
    const dir = temp();
    const tree = (to: string) => [
      '-k',
      '--header',
      ':',
      '--tagstring',
      '{a.}|{b/}|{a//}',
      '--results',
      `${to}/{a/.}`,
      'printf',
      '[%s]\\n',
      '{a.}',
      '{a/}',
      '{a//}',
      '{a/.}',
      '{b}',
      '{b.}',
      ':::',
      'a',
      'd/x.tar.gz',
      'e.f/g',
      ':::',
      'b',
      "y'.z",
    ];
    const [g, p] = await Promise.all([
      dry(GNU, tree('g'), dir, home),
      dry(process.execPath, [BIN, '-q', ...tree('p')], dir, home),
    ]);
    expect(p.code, p.err).toBe(0);
    expect(p.out.toString('utf8')).toBe(g.out.toString('utf8'));
    for (const name of ['x.tar', 'g'])
      for (const ext of ['', '.err', '.seq'])
        expect(readFileSync(join(dir, 'p', name + ext), 'latin1'), name + ext).toBe(
          readFileSync(join(dir, 'g', name + ext), 'latin1'),
        );
  });
});

describe('--dry-run changes no file', () => {
  it('with --results DIR (flat, a template) or F.json, --joblog and --json: prints the commands, writes nothing', async () => {
    for (const extra of [
      ['--results', 'out'],
      ['--results', 'out/{1}/x'],
      ['--results', 'out.json'],
      ['--joblog', 'log.tsv'],
      ['--json', 'r.json'],
    ]) {
      const dir = temp();
      const r = await track(
        execa(process.execPath, [BIN, '--dry-run', ...extra, 'echo', ':::', 'a', 'b c'], {
          cwd: dir,
          reject: false,
          env: { NO_COLOR: '1' },
        }),
      );
      expect(r.exitCode, `${extra.join(' ')}: ${String(r.stderr)}`).toBe(0);
      expect(r.stdout, extra.join(' ')).toBe("echo a\necho 'b c'");
      expect(readdirSync(dir), extra.join(' ')).toEqual([]);
    }
  });
});
