/**
 * --colsep is a Perl regular expression in GNU parallel: the forms a user types (`\,` `\;` `\:`, POSIX classes in
 * brackets, `\h`, a lone `{` or `]`, a leading `(?i)`) split as GNU parallel 20221122 splits them. Generated
 * separators and lines (ASCII), the same argv through both, stdout and exit status compared.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { BIN, GENERATED_TIMEOUT_MS, poolrun, rng, useTempDirs } from '../../helpers.js';
import { runTool } from '../../gnu/run-tool.js';
import { perlToJs } from '../../../src/input/gnu/perl-regex.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

const PUNCT = ',;:.|/-+*?()[]{}^$#@!%&=~\'"<>_`';
const POSIX = [
  'space',
  'punct',
  'digit',
  'upper',
  'lower',
  'alpha',
  'alnum',
  'blank',
  'xdigit',
  'cntrl',
  'word',
];

/** A generated Perl separator: one or two atoms (some with +), maybe an alternation. */
function separator(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const atom = (): string => {
    const k = r();
    if (k < 0.35) return `\\${pick([...PUNCT])}`;
    if (k < 0.5) return pick([',', ';', ':', '=', '-', '#', '@', '%']);
    if (k < 0.7) {
      const neg = r() < 0.3 ? '^' : '';
      const inner = Array.from({ length: 1 + Math.floor(r() * 2) }, () =>
        r() < 0.2 ? `[:^${pick(POSIX)}:]` : `[:${pick(POSIX)}:]`,
      ).join('');
      return `[${neg}${inner}${r() < 0.3 ? '\\,' : ''}]`;
    }
    if (k < 0.85) return pick(['\\h', '\\s', '\\H', '\\d', '\\W']);
    return pick(['[\\;\\:]', '[,\\-.]', '\\x2c', '\\073', '[]x]']);
  };
  const piece = () => atom() + (r() < 0.4 ? '+' : r() < 0.15 ? '*' : '');
  let s = piece();
  if (r() < 0.3) s += piece();
  if (r() < 0.2) s += `|${piece()}`;
  return s;
}

function line(r: () => number): string {
  const chars = 'abcXYZ019 ,;:.|-\t{}[]#=@%"\'';
  return Array.from({ length: 1 + Math.floor(r() * 14) }, () => chars[Math.floor(r() * chars.length)]).join(
    '',
  );
}

describe.skipIf(!existsSync(GNU))('--colsep: Perl forms split as in GNU parallel', () => {
  it(
    'the forms of the report and generated separators',
    async () => {
      const dir = temp();
      const r = rng(2024);
      const seps = [
        '\\,',
        '\\;',
        '\\:',
        '[[:space:]]+',
        '\\h',
        '\\h+',
        ']',
        '{',
        'x{1}',
        '(?i)A',
        '\\y',
        '(?x) ; | , ',
        // Separators that match empty text: Perl's split, not JavaScript's (a last empty field kept, none first).
        '|',
        '\\b',
        ',*',
        'x*',
        '(,)',
        '(?=b)',
        '(,)|(;)',
        '\\s*',
      ];
      for (let i = 0; i < 30; i++) seps.push(separator(r));
      for (const sep of seps) {
        const values = Array.from({ length: 5 }, () => line(r));
        values.push('a,b;c:d  e\tf  g, h', '{x}y]z', ',x,');
        const args = ['--colsep', sep, 'printf', '[%s]', ':::', ...values];
        const [g, p] = await Promise.all([
          runTool(GNU, ['--will-cite', '-k', ...args], dir),
          runTool(process.execPath, [BIN, '-q', '-k', ...args], dir),
        ]);
        expect(p.stdout, `${JSON.stringify(args)}\n${p.stderr}`).toBe(g.stdout);
        expect(p.code, JSON.stringify(args)).toBe(g.code);
      }
    },
    GENERATED_TIMEOUT_MS,
  );

  it('what JavaScript cannot do is exit 2 naming --colsep', async () => {
    for (const sep of ['(?i:a)', 'a(?i)b', '\\K', '(?>a)', '[[:nope:]]', '\\g{-1}']) {
      const r = await poolrun(['--colsep', sep, 'echo', ':::', 'a']);
      expect(r.code, sep).toBe(2);
      expect(r.stderr, sep).toMatch(/--colsep/);
      expect(r.stderr, sep).not.toMatch(/\n\s+at /);
    }
  });
});

describe('perlToJs', () => {
  it('translates what JavaScript reads otherwise', () => {
    expect(perlToJs('\\,')).toEqual({ source: ',', flags: 'u' });
    expect(perlToJs('\\.').source).toBe('\\.');
    expect(perlToJs('[[:digit:]]').source).toBe('[\\u{30}-\\u{39}]');
    expect(perlToJs('(?i)a').flags).toBe('iu');
    expect(perlToJs('a{,2}').source).toBe('a{0,2}');
    expect(perlToJs('{2}').source).toBe('\\{2\\}');
  });
});
