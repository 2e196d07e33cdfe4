import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, poolrun, useTempDirs } from '../helpers.js';

const modes = ['thread', 'process'] as const;
const temp = useTempDirs();

/**
 * Values that a shell would run, split, expand or mangle if they were pasted into a command unquoted, and
 * names that are not UTF-8. Each must reach the command as the same bytes; the canary must never appear.
 */
function injectionCorpus(canary: string): Buffer[] {
  const texts = [
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `a;touch ${canary}`,
    `a && touch ${canary}`,
    `a | touch ${canary}`,
    `a & touch ${canary} &`,
    `'; touch ${canary}; '`,
    `"; touch ${canary}; "`,
    `'quote'`,
    `"dq"`,
    `it's`,
    'x y',
    '  leading and trailing  ',
    `line one\ntouch ${canary}`,
    `\ntouch ${canary}\n`,
    'tab\there',
    '-rf',
    '--help',
    '$HOME',
    '${PATH}',
    '*',
    '?',
    '[a-z]*',
    '~',
    '~root',
    'a=b',
    '#not a comment',
    '!!',
    '\\',
    'back\\slash\\',
    '{}',
    '{.}',
    `> ${canary}`,
    `< /etc/passwd`,
    `$(<${canary})`,
    `%s%n`,
    'ünïcødé ✓ 日本',
    '',
  ];
  return [
    ...texts.map((t) => Buffer.from(t)),
    Buffer.from('caf\xe9.txt', 'latin1'), // Latin-1 é
    Buffer.from([0xff, 0xfe, 0x41, 0x80, 0x0a, 0xc3]), // invalid bytes, a newline, a truncated sequence
    Buffer.from([0xed, 0xa0, 0x80]), // an encoded UTF-16 surrogate
    Buffer.concat([Buffer.from(`$(touch ${canary})`), Buffer.from([0xe9]), Buffer.from("'")]),
  ];
}

describe.each(modes)('--each injection corpus (%s mode)', (mode) => {
  it.each(['stdin', 'args'] as const)(
    'values from %s reach the command byte for byte; nothing in them runs',
    async (how) => {
      const dir = temp();
      const canary = join(dir, 'canary');
      const values = injectionCorpus(canary).filter((v) => how === 'args' || v.length > 0);
      const { r, out } = await runCorpus(dir, mode, how, values, 'printf %s {} > out/{#}');
      expect(r.exitCode, r.stderr.toString()).toBe(0);
      expect(existsSync(canary)).toBe(false);
      expect(readdirSync(out)).toHaveLength(values.length);
      values.forEach((v, i) => expect(readFileSync(join(out, String(i + 1))), `value ${i + 1}`).toEqual(v));
    },
  );

  it('through every replacement string at once, nothing in them runs either', async () => {
    const dir = temp();
    const canary = join(dir, 'canary');
    const values = injectionCorpus(canary).filter((v) => v.length > 0);
    const template = 'printf "%s|%s|%s|%s|%s" {} {.} {/} {//} {/.} > out/{#}';
    const { r, out } = await runCorpus(dir, mode, 'stdin', values, template);
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(readdirSync(out)).toHaveLength(values.length);
    expect(existsSync(canary)).toBe(false);
    // `{}` is the first field: it is the value itself.
    values.forEach((v, i) => expect(readFileSync(join(out, String(i + 1))).subarray(0, v.length)).toEqual(v));
  });
});

/**
 * Runs `--each TEMPLATE` over the values, NUL-separated on stdin (`-0`) or as real arguments after `--`. For
 * arguments, bash receives the values on stdin and execs poolrun with them, so bytes that are not UTF-8 stay
 * bytes (execa's arguments are JS strings, which would be sent as UTF-8).
 */
async function runCorpus(
  dir: string,
  mode: string,
  how: 'args' | 'stdin',
  values: Buffer[],
  template: string,
) {
  const out = join(dir, 'out');
  mkdirSync(out, { recursive: true });
  const input = Buffer.concat(values.flatMap((v) => [v, Buffer.from([0])]));
  const opts = { cwd: dir, reject: false, input, env: { NO_COLOR: '1' } } as const;
  const r =
    how === 'stdin'
      ? await execa(process.execPath, [BIN, '-q', '-w', '3', '-m', mode, '-0', '--each', template], opts)
      : await execa(
          'bash',
          [
            '-c',
            // `read -d ''` splits NUL-separated input without touching the bytes.
            'set --; while IFS= read -r -d "" v; do set -- "$@" "$v"; done; ' +
              'exec "$NODE" "$BIN" -q -w 3 -m "$MODE" --each "$TEMPLATE" -- "$@"',
          ],
          // LC_ALL=C: in a UTF-8 locale bash's read would take a NUL after a cut-off sequence as part of it.
          {
            ...opts,
            env: { ...opts.env, LC_ALL: 'C', NODE: process.execPath, BIN, MODE: mode, TEMPLATE: template },
          },
        );
  return { r, out };
}

describe('--each replacement strings', () => {
  it("{} {.} {/} {//} {/.} give GNU parallel's values", async () => {
    const args = ['a.b.c', 'dir.d/file', '/x', '.bashrc', 'a/.b', 'foo.', 'a/b/', '/', 'a//b', 'x y.tar.gz'];
    const r = await poolrun([
      '-q',
      '-w',
      '1',
      '--each',
      'printf "<%s> " {} {.} {/} {//} {/.}; echo',
      ...args,
    ]);
    expect(r.code, r.stderr).toBe(0);
    // Measured with GNU parallel 20221122: parallel -k echo '\<{}\>' '\<{.}\>' '\<{/}\>' '\<{//}\>' '\<{/.}\>' ::: …
    expect(r.stdout.split('\n').slice(0, -1)).toEqual([
      '<a.b.c> <a.b> <a.b.c> <.> <a.b> ',
      '<dir.d/file> <dir.d/file> <file> <dir.d> <file> ',
      '</x> </x> <x> </> <x> ',
      '<.bashrc> <> <.bashrc> <.> <> ',
      '<a/.b> <a/> <.b> <a> <> ',
      '<foo.> <foo> <foo.> <.> <foo> ',
      '<a/b/> <a/b/> <> <a> <> ',
      '</> </> <> </> <> ',
      '<a//b> <a//b> <b> <a> <b> ',
      '<x y.tar.gz> <x y.tar> <x y.tar.gz> <.> <x y.tar> ',
    ]);
  });

  it.each(modes)('{#} is the 1-based job number, {%} the worker slot (%s mode)', async (mode) => {
    const args = Array.from({ length: 9 }, (_, i) => `arg${i + 1}`);
    const r = await poolrun(['-q', '-w', '3', '-m', mode, '--each', 'sleep 0.2; echo {#} {%} {}', ...args]);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(rows.map((x) => x[0])).toEqual(args.map((_, i) => String(i + 1)));
    expect(rows.map((x) => x[2])).toEqual(args);
    const slots = rows.map((x) => Number(x[1]));
    for (const s of slots) expect(s).toBeGreaterThanOrEqual(1);
    for (const s of slots) expect(s).toBeLessThanOrEqual(3);
    expect(new Set(slots).size).toBeGreaterThan(1);
  });

  it('{#} and {%} stand in plain words, like every replacement string', async () => {
    const r = await poolrun(['-q', '-w', '1', '--each', `echo n={#} w={%} {}`, 'a']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('n=1 w=1 a\n');
    for (const t of [`echo "n={#}" {}`, `echo 'w={%}' {}`]) {
      const q = await poolrun(['-q', '--each', t, 'a']);
      expect(q.code, t).toBe(2);
      expect(q.stderr).toMatch(/\{[#%]\} at column \d+ is inside/);
    }
  });

  it('a command with no replacement string gets the argument appended', async () => {
    const r = await poolrun(['-q', '-w', '1', '--each', 'echo got', 'a b', '$(id)']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('got a b\ngot $(id)\n');
  });

  it('--dry-run prints each command with its values quoted, and runs nothing', async () => {
    const dir = temp();
    const r = await poolrun([
      '--dry-run',
      '--each',
      'mv {} {.}.bak',
      'a b.txt',
      `$(touch ${dir}/x).log`,
      'plain.txt',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `mv 'a b.txt' 'a b'.bak\nmv '$(touch ${dir}/x).log' '$(touch ${dir}/x)'.bak\nmv plain.txt plain.bak\n`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('--each input', () => {
  it('one job per stdin line; blank lines are skipped; output in input order', async () => {
    const r = await poolrun(['-q', '-w', '4', '--each', 'echo [{}]'], { input: 'one\ntwo words\n\nthree\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('[one]\n[two words]\n[three]\n');
  });

  it('-0 reads NUL-separated items, which may hold newlines', async () => {
    const r = await poolrun(['-q', '-w', '2', '-0', '--each', 'printf "<%s>\\n" {}'], {
      input: 'a\nb\0c d\0',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('<a\nb>\n<c d>\n');
  });

  it('empty input runs nothing and exits 0, as xargs -r and GNU parallel do', async () => {
    const dir = temp();
    for (const input of ['', '\n\n']) {
      const r = await poolrun(['--each', `touch ${dir}/ran`], { input });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/0 jobs/);
    }
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('a NUL byte in a line is refused with its line, before anything runs', async () => {
    const dir = temp();
    const r = await poolrun(['--each', `touch ${dir}/{}`], { input: 'ok\nbad\0name\n' });
    expect(r.code).toBe(2);
    // Line 1 came with it: it is not run, and the message does not say it was.
    expect(r.stderr).toMatch(/^poolrun: <stdin>:2:4: a NUL byte in a line[^\n]*use -0\)\n$/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('no arguments and stdin a terminal: a usage error, not a hang', async () => {
    const r = await execa(
      'script',
      ['-qfec', `"${process.execPath}" "${BIN}" --each 'echo {}'; echo "exit=$?"`, '/dev/null'],
      { reject: false, timeout: 30_000, env: { NO_COLOR: '1' } },
    );
    expect(r.stdout).toMatch(/--each without arguments reads them from stdin, which is a terminal/);
    expect(r.stdout).toMatch(/exit=2/);
  });

  it('-a - CMD ::: names stdin: read from the terminal, not refused', async () => {
    // script passes its stdin on to the terminal it gives poolrun: a line, then ^D.
    const r = await execa(
      'script',
      ['-qfec', `"${process.execPath}" "${BIN}" -q -a - echo got {} :::; echo "exit=$?"`, '/dev/null'],
      { reject: false, timeout: 30_000, env: { NO_COLOR: '1' }, input: 'v\n\u0004' },
    );
    expect(r.stdout).not.toMatch(/which is a terminal/);
    expect(r.stdout).toMatch(/got v/);
    expect(r.stdout).toMatch(/exit=0/);
  });

  it.each([['echo {}'], ['echo {} :::'], ['echo {} ::::']])(
    '%s with stdin a terminal: a usage error, as `CMD :::` is `CMD` (a probe: it waited)',
    async (words) => {
      const r = await execa(
        'script',
        ['-qfec', `"${process.execPath}" "${BIN}" ${words}; echo "exit=$?"`, '/dev/null'],
        { reject: false, timeout: 30_000, env: { NO_COLOR: '1' } },
      );
      expect(r.stdout).toMatch(/reads them from stdin, which is a terminal/);
      expect(r.stdout).toMatch(/exit=2/);
    },
  );
});

describe('--each templates that would not be safe', () => {
  it.each([
    ['gzip "{}"', /\{\} at column \d+ is inside "…" quotes; .*write \{\} bare/],
    ["sh -c 'gzip {}'", /\{\} at column \d+ is inside '…' quotes; .*sh -c 'gzip "\$1"' sh \{\}/],
    ['echo `basename {}`', /is inside `…`; .*write \$\(…\) instead/],
    ['cat <<EOF\n{}\nEOF', /is in a here-document/],
    ['echo ${x:-{}}', /is inside \$\{…\}/],
  ])('%j is refused with a usage error that says how to write it', async (template, message) => {
    const dir = temp();
    const r = await poolrun(['--each', `touch ${dir}/ran; ${template}`, '$(id)']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/--help/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('values inside $(…) and after a comment are fine', async () => {
    const r = await poolrun(['-q', '--each', '# say it\necho "$(printf %s {})"', 'a  b']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('a  b\n');
  });
});
