/**
 * The redactor sees every command line, id, URL and message, so hostile text must not break it. Generated text
 * from the characters its rules look for: it never throws (an id `//a?k=-http://` overflowed the stack: the CLI
 * printed "Maximum call stack size exceeded" for every event of the job), and long runs of
 * those characters stay linear (`'@='` x 40,000 took 1.3 s: every start of a bare query scanned to the end).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cutUrlBefore, maskBareQueries, redactId, redactText, redactUrl } from '../../src/util/redact.js';
import { poolrun, rng, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();
const ATOMS = [
  '://',
  '//',
  '?',
  '#',
  '=',
  '@',
  ':',
  '/',
  'a',
  'b.c',
  'k=',
  'http',
  '-',
  '"',
  "'",
  ' ',
  '%',
  '\\',
  '(',
  '&',
  'u:p@',
  'token=',
  '<',
  'x.y/',
  'X-Auth: ',
];

function generated(n: number, seed: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    const len = 1 + Math.floor(r() * 10);
    for (let k = 0; k < len; k++) s += ATOMS[Math.floor(r() * ATOMS.length)]!;
    out.push(s);
  }
  return out;
}

/** The bare-query rule as a regular expression: what maskBareQueries must do, without its quadratic scan. */
const REFERENCE =
  /(^|[\s'"`(<=])([^\s'"`<>?#]+\?)((?:[^\s'"`<>]|'\\''|(?<=\\)['"]|['"](?![\s.,:;!?)\]}>'"`]|$))+)/g;
function reference(text: string): string {
  return text.replace(REFERENCE, (m, lead: string, word: string, query: string, at: number) => {
    // A scheme-less word is a URL only with a `name=value` query (`Why?.txt` is a file name), or as the tail of
    // a URL a space cut in two.
    const cut = cutUrlBefore(text, at + lead.length);
    if (!/[./]/.test(word) || (!query.split('#')[0]!.includes('=') && !cut)) return m;
    const tail = /[.,:;!)\]]+$/.exec(query)?.[0] ?? '';
    return lead + redactUrl(word + query.slice(0, query.length - tail.length)) + tail;
  });
}

describe('the redactor on generated hostile text', () => {
  it('never throws (100,000 generated strings, each through the three entry points)', () => {
    // One assertion at the end: 300,000 expect() calls cost most of this test's time, under load past a minute.
    const thrown: string[] = [];
    let calls = 0;
    for (const s of generated(100_000, 1)) {
      for (const f of [redactText, redactId, redactUrl]) {
        calls++;
        try {
          f(s);
        } catch (e) {
          thrown.push(`${f.name}(${JSON.stringify(s)}): ${String(e)}`);
        }
      }
    }
    expect(calls).toBe(300_000);
    expect(thrown.slice(0, 5)).toEqual([]);
  });

  it('the bare-query scan does what its regular expression said (50,000 generated strings)', () => {
    for (const s of generated(50_000, 2)) expect(maskBareQueries(s), JSON.stringify(s)).toBe(reference(s));
  });

  it('long runs of what the rules look for stay linear', () => {
    for (const unit of [
      '@=',
      '@(',
      'u:p@x=',
      '=a.b',
      '(x/',
      '?',
      'a?',
      'k=-http://',
      'X-Auth:',
      // An unclosed quote after each secret name: every value scan must not run to the end again.
      "TOKEN=' ",
      'TOKEN=" ',
      'TOKEN=` ',
      'TOKEN=$( ',
      '--password "x ',
      'A_SECRET=a\\ ',
    ]) {
      const text = unit.repeat(Math.ceil(80_000 / unit.length));
      const t0 = performance.now();
      redactText(text);
      redactId(text);
      // ~1-30 ms each here; the quadratic scan took 4.3 s for '@=' at this size.
      expect(performance.now() - t0, unit).toBeLessThan(2000);
    }
  });

  it('a long word before a mangled URL’s user part stays linear (a regular expression took 0.9 s at 40,000)', () => {
    const text = `${'a'.repeat(160_000)}/https:/u:pw@h/x`;
    const t0 = performance.now();
    expect(redactText(text)).toBe(`${'a'.repeat(160_000)}/https:/***:***@h/x`);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a job whose id loops the URL rule runs and is shown masked', async () => {
    const dir = temp();
    const file = writeJobs(dir, [{ id: '//a?k=-http://', run: 'true' }]);
    const r = await poolrun(['--json', '-', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/stack|internal/i);
    const doc = JSON.parse(r.stdout) as { results: Array<{ id: string; status: string }> };
    expect(doc.results).toEqual([expect.objectContaining({ id: '//a?k=***', status: 'succeeded' })]);
  });
});

/**
 * A secret value is one shell word however it is written: escaped blanks, quoted parts joined to it, `$(…)`,
 * `${…}`, backquotes. /bin/sh is the oracle that the secret is in the value it assigns; the redactor must mask the
 * whole word, and nothing after it.
 */
describe('a secret value is masked whole, as /bin/sh reads the word', () => {
  const PARTS: Array<(s: string) => string> = [
    (s) => s,
    (s) => `a\\ ${s}`,
    (s) => `'a b'${s}`,
    (s) => `"a b"${s}`,
    (s) => `"a \\" b${s}"`,
    (s) => `$(printf %s ${s})`,
    (s) => `$(printf '%s)' ${s})`,
    (s) => `\${X:-a ${s}}`,
    (s) => `\`printf %s ${s}\``,
    (s) => `"$(printf '%s' "a b")"${s}`,
    (s) => `x'y'"z"\\ ${s}`,
  ];
  const LEADS = [
    'MY_SECRET=',
    'export DB_PASSWORD=',
    'env API_TOKEN=',
    '--password=',
    '--password ',
    '--token ',
  ];

  function cases(n: number, seed: number): Array<{ lead: string; word: string; secret: string }> {
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    return Array.from({ length: n }, (_, k) => {
      const secret = `Zq${k}S${Math.floor(r() * 1e6)}`;
      // The secret in one part, other parts around it.
      const parts = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(PARTS)('p'));
      parts.splice(Math.floor(r() * (parts.length + 1)), 0, pick(PARTS)(secret));
      return { lead: pick(LEADS), word: parts.join(''), secret };
    });
  }

  it('2,000 generated words: the secret never shows, the command after the word does', () => {
    const leaks: string[] = [];
    for (const { lead, word, secret } of cases(2000, 31)) {
      const text = `${lead}${word} printf done; echo next`;
      const shown = redactText(text);
      if (shown.includes(secret) || !shown.endsWith(' printf done; echo next'))
        leaks.push(`${text} -> ${shown}`);
    }
    expect(leaks.slice(0, 5)).toEqual([]);
    // The scan's work budget is per call: the same text shown for every event of a job is masked alike each time.
    const text = `MY_SECRET="a $(printf '%s' "b c")"Zq p; echo next`;
    const first = redactText(text);
    for (let k = 0; k < 20_000; k++) expect(redactText(text) === first).toBe(true);
    expect(first).toBe('MY_SECRET=*** p; echo next');
  });

  it('text escaped for JSON, an exhausted scan, an unclosed $( and a CR: never a part of the secret', () => {
    // `\"` in a JSON string is a quote: the quoted value is masked whole (as sh would read it unescaped).
    expect(redactText('call m.mjs#f("API_TOKEN=\\"s3 cr3t\\"")')).toBe('call m.mjs#f("API_TOKEN=***")');
    // Past the scan's budget a value is masked to the end of the text, never cut at a quote.
    const long = `${'X_TOKEN=a"$( '.repeat(9)}${'x'.repeat(4526)} TOKEN="hunter2 s3cr3t"`;
    expect(redactText(long)).not.toMatch(/hunter2|s3cr3t/);
    // An unclosed $( or ${ takes its line, not the lines after it.
    expect(redactText('API_KEY=${API_KEY is unset\nline two stays')).toBe('API_KEY=***\nline two stays');
    // sh's blanks end a word; a CR or a no-break space does not.
    expect(redactText('TOKEN=abc\rdef next')).toBe('TOKEN=*** next');
    expect(redactText('TOKEN=abc\u00a0def next')).toBe('TOKEN=*** next');
    // sh's own escaped quote inside "…" is not the end of the value.
    expect(redactText('TOKEN="a \\" b" rest')).toBe('TOKEN=*** rest');
  });

  it('the generated words are one word holding the secret, to /bin/sh (the premise of the test above)', () => {
    for (const { word, secret } of cases(60, 32)) {
      const value = execFileSync('/bin/sh', ['-c', `MY_SECRET=${word} printenv MY_SECRET`], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
      expect(value, word).toContain(secret);
    }
  });
});
