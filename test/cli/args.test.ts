/**
 * Arguments are arguments: after `--each CMD` or `--call T`, every word reaches the jobs as exactly one argument,
 * whatever it looks like, and no option hidden in one takes effect. The corpus is generated from poolrun's own
 * option definitions (every option in its `--x y`, `--x=y`, `-x`, `-xy`, `-qx y` forms), plus words that look like
 * separators, subcommands, help and version, with newlines and bytes that are not UTF-8. Real processes, a real
 * /bin/sh glob over real files in a temp folder.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, OPTION_LIKE_WORDS, poolrun, tempDir } from '../helpers.js';
import { specOf } from '../../src/util/argv-split.js';
import { buildProgram } from '../../src/cli/program.js';

const spec = specOf(buildProgram('0.0.0-test'));
const b = (s: string) => Buffer.from(s, 'utf8');

/** Hostile words, each of which would have done something as an option: write a file, run a command, end the run. */
function corpus(): Buffer[] {
  const words: string[] = [];
  let n = 0;
  const flag = (o: (typeof spec.options)[number]) => o.long ?? o.short!;
  for (const o of spec.options) {
    // A value that leaves a trace if an option takes it: a file named pwned-N, a command that makes one.
    const v =
      o.long === '--each'
        ? `touch pwned-${n++}`
        : o.long === '--call'
          ? `./pwned-${n++}.mjs#f`
          : `pwned-${n++}`;
    if (o.long) words.push(o.long, `${o.long}=${v}`, `${o.long}=`, `${o.long}\n`);
    if (o.long && o.value !== 'none') words.push(o.long, v);
    if (o.short) words.push(o.short, `${o.short}${v}`, `-q${o.short.slice(1)}`, `${o.short}=${v}`);
    if (o.short && o.value !== 'none') words.push(`-q${o.short.slice(1)}${v}`);
    words.push(`\n${flag(o)}`);
  }
  words.push(
    ...OPTION_LIKE_WORDS,
    ...['--each=touch pwned-each', '--call=./x.mjs#f', '--json=pwned.json', '--joblog=pwned.log', '-1'],
    ...[
      'a b',
      'x\ny',
      '\n',
      '-\n-json',
      '--no-color=1',
      '--queue=redis://:hunter2@127.0.0.1:1/0',
      '*',
      '$(id)',
    ],
  );
  const out = words.map(b);
  // Not UTF-8: Node would decode these to U+FFFD; they must arrive as these bytes.
  out.push(
    Buffer.concat([b('--json='), Buffer.from([0xff])]),
    Buffer.concat([b('-'), Buffer.from([0xfe, 0x80])]),
    Buffer.concat([b('--each=touch pwned-x'), Buffer.from([0xc3])]),
    Buffer.from([0xff]),
  );
  return out;
}

/**
 * Runs `poolrun ...before ...words` where the words are passed as bytes: bash reads them NUL-separated on
 * stdin and execs poolrun with them (execa's arguments are JS strings, sent as UTF-8).
 */
async function run(dir: string, before: string[], words: Buffer[]) {
  const input = Buffer.concat(words.flatMap((w) => [w, Buffer.from([0])]));
  return bytes(
    await execa(
      'bash',
      [
        '-c',
        'set --; while IFS= read -r -d "" v; do set -- "$@" "$v"; done; exec "$NODE" "$BIN" "${BEFORE[@]}" "$@"'.replace(
          '"${BEFORE[@]}"',
          before.map((_, i) => `"$B${i}"`).join(' '),
        ),
      ],
      {
        cwd: dir,
        reject: false,
        input,
        encoding: 'buffer',
        // LC_ALL=C: in a UTF-8 locale bash's read would take a NUL after a cut-off sequence as part of it.
        env: {
          NO_COLOR: '1',
          LC_ALL: 'C',
          NODE: process.execPath,
          BIN,
          ...Object.fromEntries(before.map((w, i) => [`B${i}`, w])),
        },
      },
    ),
  );
}

/** execa's buffer encoding gives Uint8Arrays: as Buffers. */
function bytes(r: { exitCode?: number; stdout: unknown; stderr: unknown }) {
  return {
    exitCode: r.exitCode,
    stdout: Buffer.from(r.stdout as Uint8Array),
    stderr: Buffer.from(r.stderr as Uint8Array),
  };
}

const nulJoined = (words: Buffer[]) => Buffer.concat(words.flatMap((w) => [w, Buffer.from([0])]));
const PRINT = 'printf "%s\\0" {}';

describe('after --each CMD every word is an argument', () => {
  const words = corpus();
  it.each([
    ['--each CMD', ['-q', '-w', '2', '--each', PRINT]],
    ['--each=CMD', ['-qw2', `--each=${PRINT}`]],
    ['--each CMD --', ['-q', '--each', PRINT, '--']],
    ['-m process --each CMD', ['-q', '-m', 'process', '-w', '2', '--each', PRINT]],
  ])('%s: each hostile word arrives as itself, byte for byte; no option takes effect', async (_, before) => {
    const { dir, cleanup } = tempDir();
    try {
      // The first argument is plain: a `--` right after the template is the end of options (tested below).
      const args = [b('first'), ...words];
      const r = await run(dir, before, args);
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout.equals(nulJoined(args))).toBe(true);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('a hostile word right after the template (where a parser looks for options) is an argument', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const firsts = ['--each=touch pwned-each', '--help', 'worker', '-mprocess']
        .map(b)
        .concat([Buffer.concat([b('--joblog='), Buffer.from([0xff])])]);
      for (const w of firsts) {
        const r = await run(dir, ['-q', '--each', PRINT], [w, b('last')]);
        expect(r.exitCode).toBe(0);
        expect(r.stdout.equals(nulJoined([w, b('last')]))).toBe(true);
      }
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('an argument keeps its own bytes when an option value before it decodes to the same text', async () => {
    // Node turns both \xff and \xfe into U+FFFD: the argument's bytes must come from its own place in argv.
    const { dir, cleanup } = tempDir();
    try {
      const ff = Buffer.from([0xff]);
      const fe = Buffer.from([0xfe]);
      const r = await run(dir, ['-q'], [b('--joblog'), ff, b('--each'), b(PRINT), fe, ff]);
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout.toString('hex')).toBe(nulJoined([fe, ff]).toString('hex'));
    } finally {
      cleanup();
    }
  });

  it('`--each CMD -- -rf` gives one argument -rf (one -- right after the template ends the options)', async () => {
    const r = await poolrun(['-q', '--each', 'printf "<%s>" {}', '--', '-rf', '--', '-']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('<-rf><--><->');
  });

  it('a real glob in a folder of hostile file names: each name is one argument, nothing else happens', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const files = join(dir, 'files');
      mkdirSync(files);
      // File names: every corpus word that can be one (no '/', no NUL, not empty, not `.`-hidden, not `--`).
      const names = corpus().filter(
        (w) => w.length > 0 && !w.includes(0x2f) && w[0] !== 0x2e && !w.equals(b('--')),
      );
      const unique = [...new Map(names.map((n) => [n.toString('hex'), n])).values()];
      for (const n of unique) writeFileSync(Buffer.concat([b(files + '/'), n]), '');
      const before = readdirSync(files, { encoding: 'buffer' })
        .map((n) => n.toString('hex'))
        .sort();
      for (const form of [`--each '${PRINT}' *`, `--call=../id.mjs#id *`]) {
        writeFileSync(join(dir, 'id.mjs'), 'export const id = (x) => [x];\n');
        const r = bytes(
          await execa('sh', ['-c', `exec "$NODE" "$BIN" -q -w 2 ${form}`], {
            cwd: files,
            reject: false,
            encoding: 'buffer',
            env: { NO_COLOR: '1', LC_ALL: 'C', NODE: process.execPath, BIN },
          }),
        );
        expect(r.stderr.toString()).toBe('');
        expect(r.exitCode).toBe(0);
        if (form.startsWith('--each')) {
          const got = r.stdout.toString('latin1').split('\0').slice(0, -1);
          expect(got.map((g) => Buffer.from(g, 'latin1').toString('hex')).sort()).toEqual(before);
        } else {
          // --call gets JS strings: bytes that are not UTF-8 are U+FFFD there, as in any Node program.
          const got = r.stdout
            .toString()
            .trim()
            .split('\n')
            .map((l) => JSON.stringify(JSON.parse(l)));
          const want = unique.map((n) => {
            const s = n.toString();
            let v: unknown;
            try {
              v = JSON.parse(s);
            } catch {
              v = s;
            }
            return JSON.stringify([v]);
          });
          expect(got.sort()).toEqual(want.sort());
        }
        expect(
          readdirSync(files, { encoding: 'buffer' })
            .map((n) => n.toString('hex'))
            .sort(),
        ).toEqual(before);
        expect(readdirSync(dir).sort()).toEqual(['files', 'id.mjs']);
      }
    } finally {
      cleanup();
    }
  });
});

describe('after --call T every word is an argument', () => {
  it.each([['--call'], ['--call=']])(
    '%s: each word is one call argument; no option takes effect',
    async (how) => {
      const { dir, cleanup } = tempDir();
      try {
        writeFileSync(join(dir, 'id.mjs'), 'export const id = (x) => [x];\n');
        const words = corpus().filter((w) => Buffer.from(w.toString()).equals(w));
        const before = how === '--call' ? ['-q', '--call', './id.mjs#id'] : ['-q', '--call=./id.mjs#id'];
        const r = await run(dir, before, words);
        expect(r.stderr.toString()).toBe('');
        expect(r.exitCode).toBe(0);
        const got = r.stdout.toString().trim().split('\n');
        const want = words.map((w) => {
          try {
            return JSON.stringify([JSON.parse(w.toString())]);
          } catch {
            return JSON.stringify([w.toString()]);
          }
        });
        expect(got).toEqual(want);
        expect(readdirSync(dir)).toEqual(['id.mjs']);
      } finally {
        cleanup();
      }
    },
  );
});

describe('options come first', () => {
  it('an option after the job file is refused, naming it; nothing runs, no file written', async () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'jobs.json'), JSON.stringify([`touch ${join(dir, 'ran')}`]));
      const r = await poolrun(['jobs.json', '--json', 'out.json'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/options go before the job file: "--json" comes after "jobs.json"/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(dir)).toEqual(['jobs.json']);
    } finally {
      cleanup();
    }
  });

  it('a job file whose name starts with - runs after --; `worker` after -- is a file name', async () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, '-jobs.json'), JSON.stringify(['echo one']));
      writeFileSync(join(dir, 'worker'), 'echo two\n');
      const r = await poolrun(['-q', '--', '-jobs.json'], { cwd: dir });
      expect([r.code, r.stdout]).toEqual([0, 'one\n']);
      const w = await poolrun(['-q', '--', 'worker'], { cwd: dir });
      expect([w.code, w.stdout]).toEqual([0, 'two\n']);
    } finally {
      cleanup();
    }
  });

  it('the worker subcommand still parses its own options', async () => {
    const r = await poolrun(['worker', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/worker: --queue URL (\(or POOLRUN_QUEUE\) )?is required/);
    const h = await poolrun(['-q', 'worker', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Usage: poolrun worker/);
  });

  it("options before `worker` are the worker's (they were ignored: a probe); one it does not take is exit 2", async () => {
    const t = await poolrun(['--queue-timeout', '1s', 'worker', '--queue', 'redis://u:S3CRET@127.0.0.1:1/0']);
    expect(t.code, t.stderr).toBe(2);
    expect(t.stderr).toContain('tried for 1.00s');
    expect(t.stderr).not.toContain('S3CRET');
    const q = await poolrun(['--queue', 'redis://127.0.0.1:1/0', 'worker', '--queue-timeout', '1s']);
    expect(q.stderr).toContain('cannot reach Redis');
    const j = await poolrun(['--json', 'x.json', 'worker', '--queue', 'redis://127.0.0.1:1/0']);
    expect(j.code).toBe(2);
    expect(j.stderr).toContain("unknown option '--json'");
  });

  it('a message quoting a word shows no secret and no character a terminal would act on', async () => {
    const r = await poolrun(['--jsn=redis://:hunter2@h:1/0', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--jsn=redis:\/\/:\*\*\*@h:1\/0'/);
    expect(r.stderr).not.toContain('hunter2');
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'jobs.json'), '["true"]');
      // ESC, BEL, CR, C1's one-byte CSI, a bidi override, a line separator; in an unknown option, a job file
      // name, a word after the job file, and a word after `worker`.
      const c = '\x1b]0;owned\x07\x1b[2J\r\u009b31m\u202e\u2028\x7f';
      for (const argv of [
        [`-${c}`],
        [`--x${c}`],
        [`nope${c}.json`],
        ['jobs.json', `--${c}`],
        ['worker', c],
      ]) {
        const e = await poolrun(argv, { cwd: dir });
        expect(e.code).toBe(2);
        expect(e.stderr).toMatch(/^poolrun: /);
        // eslint-disable-next-line no-control-regex
        expect(e.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      }
    } finally {
      cleanup();
    }
  });
});
