/**
 * GNU parallel's input language (issue 16 items 1-3), with GNU parallel itself as the oracle: the same argv to
 * `parallel --will-cite -k` and to `poolrun -q`, the same stdout bytes and the same success. The cases are
 * generated (seeded): every kind of source (`:::`, `::::` file, `:::: -` stdin, `-a`, `:::+`, `::::+`, --link),
 * their combinations, the replacement strings, -N/-n, --colsep, --header, and values that look like options,
 * separators or shell code. GNU_ORACLE_CASES=n runs more.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, rng, track, useTempDirs } from '../../helpers.js';

const GNU = '/usr/bin/parallel';
const haveGnu = existsSync(GNU);
const temp = useTempDirs();
const CASES = Number(process.env.GNU_ORACLE_CASES ?? 160);

interface Case {
  /** Options, command words and sources, as for both programs. */
  argv: string[];
  stdin?: string;
  files: Record<string, Buffer>;
}

/** What GNU parallel prints, and whether it succeeded. */
async function gnu(dir: string, c: Case) {
  const r = await track(
    execa(GNU, ['--will-cite', '-k', ...c.argv], {
      cwd: dir,
      reject: false,
      input: c.stdin ?? '',
      stripFinalNewline: false,
      encoding: 'buffer',
      // GNU parallel runs the command with the shell it guesses from its parent; poolrun's is /bin/sh.
      env: { PARALLEL_SHELL: '/bin/sh', LC_ALL: 'C' },
      timeout: 50_000,
    }),
  );
  return {
    code: r.exitCode ?? -1,
    stdout: Buffer.from(r.stdout).toString('latin1'),
    // 20221122 dies on an empty source with --link or --header (`Can't call method "orig" on an undefined
    // value`): no oracle there; poolrun runs the jobs there are (none with --link).
    crashed: /Can't call method/.test(Buffer.from(r.stderr).toString('latin1')),
  };
}

async function ours(dir: string, c: Case) {
  const r = await track(
    execa(process.execPath, [BIN, '-q', ...c.argv], {
      cwd: dir,
      reject: false,
      input: c.stdin ?? '',
      stripFinalNewline: false,
      encoding: 'buffer',
      env: { NO_COLOR: '1', LC_ALL: 'C' },
      timeout: 50_000,
    }),
  );
  return {
    code: r.exitCode ?? -1,
    stdout: Buffer.from(r.stdout).toString('latin1'),
    stderr: Buffer.from(r.stderr).toString('utf8'),
  };
}

async function compare(c: Case): Promise<void> {
  const dir = temp();
  for (const [name, bytes] of Object.entries(c.files)) writeFileSync(join(dir, name), bytes);
  const [g, p] = await Promise.all([gnu(dir, c), ours(dir, c)]);
  const what = `argv ${JSON.stringify(c.argv)} stdin ${JSON.stringify(c.stdin ?? '')} files ${JSON.stringify(
    Object.fromEntries(Object.entries(c.files).map(([k, v]) => [k, v.toString('latin1')])),
  )}\npoolrun stderr: ${p.stderr}`;
  if (g.crashed) {
    expect(p.code, what).toBe(0);
    return;
  }
  expect(p.stdout, what).toBe(g.stdout);
  // GNU parallel's status is the number of failed jobs; poolrun's is 1 for any.
  expect(p.code, what).toBe(g.code === 0 ? 0 : 1);
}

/** Values for sources: plain, path-like, and hostile to a shell or an option parser. */
const PLAIN = ['a', 'b.c', 'd/e.tar.gz', '/abs/f.x', 'g/', 'h', '1', 'x.y/z'];
const HOSTILE = [
  '-rf',
  '--help',
  '-N2',
  ':::',
  '::::',
  ':::+',
  "it's",
  'a b',
  '$(echo PWNED)',
  '`echo PWNED`',
  '*',
  ';echo PWNED',
  '"q"',
  '',
  '{}',
  '{1}',
  '  sp  ',
];
/** Only where a value is a line of a file, not a word of argv (no newline). */
const BYTES = [Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from([0xff, 0x2e, 0xfe])];

function generate(seed: number): Case {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const colsep = r() < 0.15;
  const header = r() < 0.15;
  // --header without --colsep splits at TAB, as GNU parallel does: such values and names have TABs.
  const sep = colsep ? ',' : header ? '\t' : undefined;
  const value = (k: number): string => {
    const v = r() < 0.35 ? pick(HOSTILE) : pick(PLAIN);
    return sep && r() < 0.6 ? `${v}${sep}${pick(PLAIN)}${r() < 0.3 ? sep : ''}` : `${v}${k}`;
  };
  const nSources = 1 + Math.floor(r() * 3);
  const files: Record<string, Buffer> = {};
  const argv: string[] = [];
  const sources: string[] = [];
  let stdin: string | undefined;
  const names: string[] = [];
  let fileNo = 0;
  /** The `+` of the `::::` separator the last source was named after, when it was a file named last. */
  let lastFiles: string | undefined;
  for (let s = 0; s < nSources; s++) {
    // An empty source beside an -a one: GNU parallel's handling is irregular (ignored, or one empty value, by
    // where it stands); poolrun's rule (one empty value) is tested on its own below.
    const n = Math.floor(r() * 4) || (argv.includes('-a') ? 1 : 0);
    const vals = Array.from({ length: n }, (_, k) => value(k));
    if (header) {
      // Names are taken as written, blanks and all, where values are trimmed (--colsep's --trim): probe.
      const pad = colsep && r() < 0.3 ? ' ' : '';
      const name = sep && r() < 0.7 ? `${pad}h${s}a${pad}${sep}h${s}b${pad}` : `h${s}${pad}`;
      names.push(...name.split(sep ?? ',').map((n) => (r() < 0.5 ? n.trim() : n)));
      vals.unshift(name);
    }
    const kind = r();
    // With -a, GNU parallel 20221122 pairs `:::+`/`::::+` sources irregularly (not always with the source
    // before); poolrun always links to the source before. Not compared.
    // A `+` on the first source too: `CMD ::::+ a b` links b to a (GNU), and a lone first `:::+` is a plain one.
    const linked = (s > 0 || r() < 0.3) && r() < 0.3 && !argv.includes('-a') ? '+' : '';
    if (kind < 0.5) sources.push(`:::${linked}`, ...vals);
    else {
      const name = `in${fileNo++}`;
      const lines = vals.map((v) => Buffer.from(v.includes('\n') ? 'nl' : v));
      if (r() < 0.3) lines.push(pick(BYTES));
      files[name] = Buffer.concat(lines.map((l) => Buffer.concat([l, Buffer.from('\n')])));
      if (kind < 0.65 && s === 0 && !linked) argv.push('-a', name);
      else if (kind < 0.75 && stdin === undefined) {
        stdin = files[name].toString('latin1');
        sources.push(`::::${linked}`, '-');
      } else if (lastFiles !== undefined && lastFiles === linked && r() < 0.4) {
        // `:::: a b` is `:::: a :::: b`; `::::+ a b` links b to a.
        sources.push(name);
      } else sources.push(`::::${linked}`, name);
      lastFiles = sources.at(-1) === name && sources.at(-2) !== '-' ? linked : undefined;
    }
    if (kind < 0.5) lastFiles = undefined;
  }
  if (r() < 0.2) argv.push('--link');
  if (colsep) argv.push('--colsep', ',');
  if (header) argv.push('--header', ':');
  const per = r();
  if (per < 0.2) argv.push('-N', String(Math.floor(r() * 4)));
  else if (per < 0.3) argv.push('-n', String(1 + Math.floor(r() * 3)));
  const refs = [
    '{}',
    '{.}',
    '{/}',
    '{//}',
    '{/.}',
    '{#}',
    '{1}',
    '{2}',
    '{3}',
    '{1.}',
    '{2/}',
    '{1//}',
    '{2/.}',
    'x{1}y',
    '{1}{2}',
  ];
  if (names.length) refs.push(...names.map((n) => `{${n}}`));
  const command = ['printf', '[%s]'];
  const nRefs = Math.floor(r() * 4);
  for (let k = 0; k < nRefs; k++) command.push(pick(refs));
  command.push(';', 'echo');
  // With no replacement string the arguments are appended: after `;` they would be echo's.
  return { argv: [...argv, ...command, ...sources], files, ...(stdin !== undefined ? { stdin } : {}) };
}

describe.skipIf(!haveGnu)('GNU parallel is the oracle', () => {
  it(`${CASES} generated command lines: the same output and success as parallel -k`, async () => {
    const cases = Array.from({ length: CASES }, (_, k) => generate(1000 + k));
    let next = 0;
    const worker = async () => {
      while (next < cases.length) await compare(cases[next++]!);
    };
    await Promise.all([worker(), worker(), worker()]);
  }, 600_000);

  it.each([
    ['every combination, the first source slowest', ['echo', ':::', 'a', 'b', ':::', 'c', 'd']],
    ['{} is every argument', ['echo', '{}', ':::', 'a', ':::', 'b']],
    [':::+ pairs, as many as the shorter', ['echo', '{1}-{2}', ':::', 'a', 'b', 'c', ':::+', '1', '2']],
    ['--link wraps the shorter', ['--link', 'echo', '{1}-{2}', ':::', 'a', 'b', 'c', ':::', '1', '2']],
    ['-N2: a missing {2} is empty', ['-N2', 'echo', 'x{2}y', 'z', ':::', 'a', 'b', 'c']],
    ['-n2 appends', ['-n2', 'echo', ':::', 'a', 'b', 'c']],
    ['-N0 runs once per argument', ['-N0', 'echo', 'hi', ':::', 'a', 'b']],
    // -N and -n together: -N counts, in either order (GNU parallel 20221122).
    ['-n1 -N2: -N counts', ['-n1', '-N2', 'echo', '{1}-{2}', ':::', 'a', 'b', 'c']],
    ['-N1 -n2: -N counts', ['-N1', '-n2', 'echo', ':::', 'a', 'b', 'c']],
    ['-n2 -N0: -N counts', ['-n2', '-N0', 'echo', 'x', ':::', 'a', 'b']],
    ['--colsep', ['--colsep', '[,;]+', 'echo', '{2}-{1}', '{}', ':::', 'a,;b', 'c', ',d,,']],
    ['--header :', ['--header', ':', 'echo', '{x}-{y}', '{1}', ':::', 'x', 'a', 'b', ':::', 'y', 'c']],
    // Without --colsep, --header splits at TAB (GNU's default separator with a header): a TSV file's columns.
    [
      '--header : splits at TAB',
      ['--header', ':', 'echo', '{x}-{y}', '{2}', ':::', 'x\ty', 'a\tb', 'c', ':::', 'z', '1\t2'],
    ],
    // Names as written, blanks and all; values trimmed (probe: poolrun trimmed the names, so {x} matched ` x `).
    [
      '--header : --colsep: names keep their blanks',
      [
        '--header',
        ':',
        '--colsep',
        ',',
        'echo',
        '{x}={y}',
        '{ x }',
        '{2}',
        ':::',
        ' x , y ',
        ' 1 , 2 ',
        'a,b',
      ],
    ],
    ['values that look like options and separators', ['echo', ':::', '-rf', '--help', '-a', '-N2']],
    ['an empty source runs nothing', ['echo', ':::']],
    [
      '{-1} is the last argument, {-2} the one before',
      ['-N2', 'echo', '{-1}', '{-2.}', ':::', 'a.x', 'b.c', 'd.e', 'f'],
    ],
    ['words before ::: are joined', ['printf', '%s-%s\\n', 'x', ':::', 'a', 'b']],
  ])('%s', async (_, argv) => {
    await compare({ argv, files: {} });
  });

  // GNU parallel's plainest habit: no separator, no -a, the input lines come from stdin.
  it.each([
    ['seq | CMD {}', ['echo', '{}'], '1\n2\n3\n'],
    ['seq | CMD WORD (appended)', ['echo', 'x'], '1\n\n3\n'],
    ['one word with {} in it', ['echo x{}x'], 'a b\n-rf\n'],
    ['-N2 from stdin', ['-N2', 'echo', '{2}', '{1}'], 'a\nb\nc\n'],
    ['hostile lines stay values', ['echo', '{}'], '$(echo PWNED)\n;echo PWNED\n--help\n:::\n'],
    ['an executable script is the command', ['./show.sh'], 'a\nb\n'],
    // A separator as the last word, with nothing after it, is no source: stdin is the input, as with none.
    ['CMD ::: (a trailing lone separator)', ['echo', ':::'], '1\n2\n3\n'],
    ['CMD ::::', ['echo', '{#}', '{}', '::::'], 'a\nb\n'],
    ['CMD :::+', ['echo', 'x', ':::+'], '1\n2\n'],
    ['CMD ::::+', ['echo', '{}', '::::+'], '1\n'],
  ])('stdin form: %s', async (_, argv, stdin) => {
    const files = { 'show.sh': Buffer.from('#!/bin/sh\necho "[$1]"\n') };
    const dir = temp();
    writeFileSync(join(dir, 'show.sh'), files['show.sh'], { mode: 0o755 });
    const c = { argv, stdin, files: {} };
    const [g, p] = await Promise.all([gnu(dir, c), ours(dir, c)]);
    expect(p.stdout, p.stderr).toBe(g.stdout);
    expect(p.code).toBe(0);
  });

  it('a job file stays a job file: by name (.json), when it exists, and `-`; an option after it is still exit 2', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'jobs'), JSON.stringify(['echo from-file']));
    const run = (argv: string[], stdin = '') => ours(dir, { argv, stdin, files: {} });
    expect((await run(['jobs'], 'x\n')).stdout).toBe('from-file\n');
    const missing = await run(['nosuch.json'], 'x\n');
    expect([missing.code, missing.stdout]).toEqual([2, '']);
    expect(missing.stderr).toMatch(/job file not found: nosuch\.json/);
    const after = await run(['jobs', '-w', '2'], 'x\n');
    expect(after.code).toBe(2);
    expect(after.stderr).toMatch(/options go before the job file/);
    expect((await run(['-'], JSON.stringify(['echo from-stdin']))).stdout).toBe('from-stdin\n');
    // A lone plain word that is no file: "not found", and how to run it on stdin's lines; nothing ran.
    const lone = await run(['gzipx'], 'x\n');
    expect([lone.code, lone.stdout]).toEqual([2, '']);
    expect(lone.stderr).toMatch(/job file not found: gzipx \(.*poolrun gzipx \{\} :::: -\)/);
  });

  it('differs on purpose: a ::: value with a newline is one argument (GNU parallel makes it two)', async () => {
    const dir = temp();
    const c: Case = { argv: ['printf', '[%s]', ':::', 'a\nb', 'c'], files: {} };
    expect((await gnu(dir, c)).stdout).toBe('[a][b][c]');
    const p = await ours(dir, c);
    expect(p.stdout).toBe('[a\nb][c]');
    expect(p.code).toBe(0);
  });

  it('::: inside a file, --help and -rf in a file are values', async () => {
    await compare({
      argv: ['echo', '[{}]', '::::', 'f', ':::', 'x'],
      files: { f: Buffer.from(':::\n--help\n-rf\n::::\n\n') },
    });
  });

  it('-a twice, ::::+ and -0', async () => {
    const files = { f: Buffer.from('1\n2\n3\n'), g: Buffer.from('a\0b c\0'), h: Buffer.from('x\ny\n') };
    await compare({ argv: ['-a', 'f', '-a', 'h', 'echo'], files });
    await compare({ argv: ['echo', ':::', 'p', 'q', '::::+', 'f', 'h'], files });
    await compare({ argv: ['-0', 'echo', '[{}]', '::::', 'g'], files });
  });

  it('::::+ or :::+ as the first source: the files named after it are linked to one another (parallel_examples)', async () => {
    const files = { f: Buffer.from('A\nB\nC\n'), g: Buffer.from('D\nE\nF\n'), h: Buffer.from('1\n2\n') };
    for (const argv of [
      ['echo', '::::+', 'f', 'g'],
      ['echo', '::::+', 'f', 'g', 'h'],
      ['echo', '::::+', 'f', 'g', ':::', 'x', 'y'],
      ['echo', '::::+', 'f', '::::+', 'g'],
      ['echo', '::::+', 'f', ':::+', 'a', 'b', 'c'],
      ['echo', ':::+', 'a', 'b', '::::+', 'f', 'g'],
      ['echo', '::::', 'f', 'g', '::::+', 'h'],
    ])
      await compare({ argv, files });
  });
});
