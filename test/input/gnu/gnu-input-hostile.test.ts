/**
 * GNU parallel's input form where poolrun keeps its own guarantees (issue 16 items 1-3 on top of issue 13):
 * values from every kind of source are data, never code or options; a replacement string where a quoted word
 * would not stay one argument is refused; bad input is exit 2 naming where.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, poolrun, rng, track, useTempDirs } from '../../helpers.js';

const temp = useTempDirs();

const payloads = (canary: string): string[] => [
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `;touch ${canary}`,
  `a' ; touch ${canary} ; '`,
  `"; touch ${canary}; "`,
  `x\ntouch ${canary}`,
  `-rf`,
  `--json=${canary}`,
  `--each=touch ${canary}`,
  ':::',
  '::::',
  '{}',
  '{1}',
  '*',
  '',
];

describe('values are data, from every kind of source', () => {
  it('generated: payloads through :::, ::::, -a, stdin, --colsep, -N, {} and {n} arrive as literal words', async () => {
    const r = rng(16);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    for (let n = 0; n < 24; n++) {
      const dir = temp();
      const canary = `PWNED${n}`;
      const values = payloads(canary);
      // `:::` and `::::` on the command line are separators (as in GNU parallel); in a file they are values.
      const a = values.filter((v) => !v.startsWith(':::') && r() < 0.5);
      const b = values.filter((v) => !v.includes('\n') && r() < 0.4);
      writeFileSync(join(dir, 'f'), b.map((v) => `${v}\n`).join(''));
      const colsep = r() < 0.3;
      const per = pick([[], ['-N', '2'], ['-n', '3']]);
      const template = pick([
        ['printf', '[%s]\\n', '{}'],
        ['printf', '[%s]\\n', '{1}', '{2}', '{3}'],
        ['printf', '[%s]\\n', 'x{1}y', '{2/}', '{1//}', '{.}'],
        ['printf', '[%s]\\n'],
      ]);
      const viaStdin = r() < 0.5;
      const argv = [
        '-q',
        ...per,
        ...(colsep ? ['--colsep', ';'] : []),
        ...(r() < 0.5 ? ['-a', 'f'] : []),
        ...template,
        ':::',
        ...a,
        '::::',
        viaStdin ? '-' : 'f',
      ];
      const res = await poolrun(argv, { cwd: dir, input: b.map((v) => `${v}\n`).join('') });
      expect(res.stderr, JSON.stringify(argv)).toBe('');
      expect(res.code, JSON.stringify(argv)).toBe(0);
      expect(existsSync(join(dir, canary)), JSON.stringify(argv)).toBe(false);
      expect(readdirSync(dir).sort()).toEqual(['f']);
      // Every value printed is one of the values, or a column of one (nothing was split by a shell).
      const printed = [...res.stdout.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!);
      for (const p of printed) {
        // {//} of a name without a slash is `.`; x{1}y adds an x and a y.
        const ok =
          p === '.' || [...a, ...b].some((v) => v.includes(p) || v.includes(p.replace(/^x|y$/g, '')));
        expect(ok, `${p} from ${JSON.stringify(argv)}`).toBe(true);
      }
    }
  }, 300_000);

  it('a value that is not UTF-8 reaches the command as its bytes (argv and a file)', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'f'), Buffer.from([0x66, 0xff, 0x0a]));
    // bash passes the bytes; execa's arguments would be UTF-8 strings.
    const r = await track(
      execa(
        'bash',
        ['-c', `exec "$0" "$1" -q printf %s {} '|' od -An -c ::: $'a\\xe9' :::: f`, process.execPath, BIN],
        {
          cwd: dir,
          reject: false,
          encoding: 'buffer',
        },
      ),
    );
    expect(r.exitCode).toBe(0);
    const out = Buffer.from(r.stdout).toString();
    expect(out).toMatch(/a\s+351\s+f\s+377/);
  });

  it('words after the command are never options, and options after the command words are words', async () => {
    const dir = temp();
    const r = await poolrun(['-q', 'echo', '--json=out.json', '-n', ':::', '--help', '-rf'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('--json=out.json -n --help\n--json=out.json -n -rf\n');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--each CMD followed by words other than a separator: every word an argument, as before', async () => {
    const r = await poolrun(['-q', '--each', 'echo [{}]', 'a', ':::', '-N2', '::::']);
    expect(r.stdout).toBe('[a]\n[:::]\n[-N2]\n[::::]\n');
    const s = await poolrun(['-q', '--each', 'echo [{}]', ':::', 'a', ':::', 'b']);
    expect(s.stdout).toBe('[a b]\n');
  });
});

describe('refused: exit 2, naming where, nothing run', () => {
  const cases: Array<[string, string[], RegExp, string?]> = [
    [
      '{} as an assignment with several arguments',
      ['v={}', ':::', 'a', ':::', 'b'],
      /column 3.*all of a job's arguments/,
    ],
    ['{} as a redirection with -N2', ['-N2', 'echo', '>{}', ':::', 'a', 'b'], /all of a job's arguments/],
    ['{1} in quotes', ['echo', "'{1}'", ':::', 'a'], /\{1\} at column 7 is inside '…' quotes/],
    ['{2} inside "…"', ['echo', '"x{2}"', ':::', 'a', ':::', 'b'], /\{2\} at column 8 is inside "…" quotes/],
    ['{1} as the command name', ['{1}', ':::', 'a'], /name of the command to run/],
    [
      'a header name inside quotes',
      ['--header', ':', 'echo', "'{h}'", ':::', 'h', 'a'],
      /\{h\} at column 7 is inside '…' quotes/,
    ],
    ['no command before :::', [':::', 'echo a'], /expected a command before ":::"/],
    ['-a without a command', ['-a', 'f'], /expected a command before the input/],
    [
      ':::: without a file, before another source',
      ['echo', '::::', ':::', 'a'],
      /::::: expected a file name/,
    ],
    ['a missing file', ['echo', '::::', 'nope'], /:::: nope: cannot read it: no such file/],
    ['a missing -a file', ['-a', 'nope', 'echo'], /-a nope: cannot read it: no such file/],
    ['stdin twice', ['echo', '::::', '-', '::::', '-'], /stdin \(-\) can be the input of one source only/],
    ['-N not a number', ['-N', 'x', 'echo', ':::', 'a'], /-N: expected a number of arguments per job/],
    ['-n negative', ['-n', '-1', 'echo', ':::', 'a'], /-n: expected a number/],
    [
      '-N bad beside a good -n',
      ['-N', 'x', '-n1', 'echo', ':::', 'a'],
      /-N: expected a number of arguments per job/,
    ],
    ['a bad --colsep', ['--colsep', '(', 'echo', ':::', 'a'], /--colsep: not a regular expression/],
    [
      '--header other than :',
      ['--header', 'x', 'echo', ':::', 'a'],
      /--header: only --header : is supported/,
    ],
    ['-N with a job file', ['-N2', 'jobs.json'], /-N\/--max-replace-args is for a command and its input/],
    ['--colsep with --call', ['--colsep', ',', '--call', 'm.mjs#f', '1'], /--colsep does not go with --call/],
    ['a Perl expression', ['echo', '{= s/a/b/ =}', ':::', 'a'], /\{= … =\} at column 6 is a Perl expression/],
    ['a Perl expression after --each', ['--each', 'echo {=uc=}', ':::', 'a'], /is a Perl expression/],
    ['a NUL in a line of a :::: file', ['echo', '::::', 'nul'], /:::: nul:2:3: a NUL byte/],
  ];
  it.each(cases)('%s', async (_, argv, message) => {
    const dir = temp();
    writeFileSync(join(dir, 'nul'), Buffer.from('ok\nab\0c\n'));
    const r = await poolrun(['-q', ...argv], { cwd: dir });
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});

describe('which form a command line is', () => {
  it('a lone word is still a job file; a word followed by ::: is a command', async () => {
    const dir = temp();
    const lone = await poolrun(['-q', 'echo'], { cwd: dir });
    expect(lone.code).toBe(2);
    expect(lone.stderr).toMatch(/echo/);
    writeFileSync(join(dir, 'jobs.json'), '[]');
    const cmd = await poolrun(['-q', 'jobs.json', ':::', 'a'], { cwd: dir });
    // jobs.json is the command now (not executable): sh says so, the job fails.
    expect(cmd.code).toBe(1);
  });

  it('an option after a job file is still exit 2', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'jobs.json'), '[]');
    const r = await poolrun(['-q', 'jobs.json', '--json', 'x'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/options go before the job file/);
  });

  it('-N/-n with --each: its arguments (or stdin lines) are grouped', async () => {
    const r = await poolrun(['-q', '-N2', '--each', 'echo {2}-{1}', 'a', 'b', 'c']);
    expect(r.stdout).toBe('b-a\n-c\n');
    const s = await poolrun(['-q', '-n2', '--each', 'echo'], { input: 'x\ny\nz\n' });
    expect(s.stdout).toBe('x y\nz\n');
  });

  it('a single :::: - source is read as it arrives: the first job runs before stdin ends', async () => {
    const dir = temp();
    const child = track(
      execa(process.execPath, [BIN, '-q', 'touch', '::::', '-'], { cwd: dir, reject: false }),
    );
    child.stdin.write('first\n');
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(dir, 'first')) && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    expect(existsSync(join(dir, 'first'))).toBe(true);
    child.stdin.end();
    expect((await child).exitCode).toBe(0);
  });
});

describe('a command written in bytes that are not UTF-8', () => {
  // Node decodes argv as UTF-8: such a word would reach the shell as U+FFFD, another name. /bin/sh passes the
  // bytes (printf), as a user's shell would.
  const run = (dir: string, script: string) =>
    track(
      execa('/bin/sh', ['-c', script], {
        cwd: dir,
        reject: false,
        env: { BIN, NODE: process.execPath, F: join(dir, 'caf\u00e9') },
        input: 'line\n',
      }),
    );

  it('is exit 2 naming its bytes, nothing run, in every form that takes a command; as a value it keeps them', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'caf\xe9'.replace('\xe9', '\u00e9')), 'utf8 name\n');
    writeFileSync(Buffer.from(`${dir}/caf\xe9`, 'latin1'), 'latin1 name\n');
    const bad = `"$(printf 'caf\\351')"`;
    const forms = [
      `"$NODE" "$BIN" -q cat ${bad} {} ::: /dev/null`,
      `"$NODE" "$BIN" -q --each "cat ${bad} {}" /dev/null`,
      `"$NODE" "$BIN" -q cat ${bad} {}`,
      `"$NODE" "$BIN" -q --pipe cat ${bad}`,
      `"$NODE" "$BIN" -q -a /dev/null cat ${bad} {}`,
    ];
    for (const f of forms) {
      const r = await run(dir, `${f}; echo "rc=$?"`);
      expect(r.stdout, f).toBe('rc=2');
      expect(r.stderr, f).toMatch(/holds bytes that are not UTF-8 \([^)]*caf\\xe9[^)]*\)/);
    }
    // The command in one word (--each=CMD), or beside a value that reads the same with other bytes: refused too.
    for (const f of [
      `"$NODE" "$BIN" -q --each="cat ${bad} {}" ::: /dev/null`,
      `"$NODE" "$BIN" -q cat "$(printf '\\351')" ::: "$(printf '\\350')"`,
    ]) {
      const r = await run(dir, `${f}; echo "rc=$?"`);
      expect(r.stdout, f).toBe('rc=2');
      expect(r.stderr, f).toMatch(/holds bytes that are not UTF-8 \(/);
    }
    // The same bytes as a value: the latin1-named file is the one read.
    const v = await run(dir, `"$NODE" "$BIN" -q cat {} ::: ${bad}; echo "rc=$?"`);
    expect(v.stdout).toBe('latin1 name\nrc=0');
    // A U+FFFD the user wrote (valid UTF-8) is text like any other.
    const ok = await run(dir, `"$NODE" "$BIN" -q echo '\u{fffd}' {} ::: a; echo "rc=$?"`);
    expect(ok.stdout).toBe('\u{fffd} a\nrc=0');
  });
});
