/**
 * Issue 16 items 4-7 (gnu-out): --pipe, --tag/--tagstring, --results, --line-buffer, -j forms, accepted habit
 * flags, and the exit-2 messages for GNU options poolrun does not take. GNU parallel (Debian's 20221122) is the
 * oracle: the same cases go to both, and stdout bytes (stderr where said, the --results tree file by file) and the
 * exit status must be equal. Until `:::` lands (gnu-in), poolrun gets the arguments through --each.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import { BIN, poolrun, rng, track, useTempDirs } from '../helpers.js';
import { parseJobs, JOBS_ZERO } from '../../src/gnu/jobs.js';
import { blocks } from '../../src/gnu/pipe.js';
import { GNU_ONLY, gnuOnlyOption } from '../../src/gnu/unknown.js';
import { gnuSize } from '../../src/gnu/options.js';
import { LinePrefixer } from '../../src/gnu/tag.js';
import { escapeValue } from '../../src/gnu/results.js';

const temp = useTempDirs();
const GNU = '/usr/bin/parallel';

interface Raw {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

async function raw(file: string, args: string[], input?: Buffer, cwd?: string): Promise<Raw> {
  const r = await track(
    execa(file, args, {
      reject: false,
      encoding: 'buffer',
      stripFinalNewline: false,
      timeout: 60_000,
      env: { NO_COLOR: '1' },
      ...(input ? { input } : { stdin: 'ignore' }),
      ...(cwd ? { cwd } : {}),
    }),
  );
  return { code: r.exitCode ?? -1, stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr) };
}

const pool = (args: string[], input?: Buffer, cwd?: string) =>
  raw(process.execPath, [BIN, '-q', ...args], input, cwd);
const gnu = (args: string[], input?: Buffer, cwd?: string) => raw(GNU, ['--will-cite', ...args], input, cwd);

/** At most `n` promises at a time (the machine is shared). */
async function limited<T>(n: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < tasks.length) {
        const k = next++;
        out[k] = await tasks[k]!();
      }
    }),
  );
  return out;
}

const show = (b: Buffer) => JSON.stringify(b.toString('latin1'));

describe('--tag and --tagstring: the bytes GNU parallel prints', () => {
  it('LinePrefixer tags each line at its first byte, across pieces', () => {
    const random = rng(7);
    for (let c = 0; c < 300; c++) {
      const text = Array.from(
        { length: Math.floor(random() * 12) },
        () => 'ab\n'[Math.floor(random() * 3)],
      ).join('');
      const whole = new LinePrefixer(Buffer.from('T\t')).push(Buffer.from(text)).toString();
      const p = new LinePrefixer(Buffer.from('T\t'));
      let pieces = '';
      for (let i = 0; i < text.length;) {
        const k = 1 + Math.floor(random() * 3);
        pieces += p.push(Buffer.from(text.slice(i, i + k))).toString();
        i += k;
      }
      const expected = text.replace(/[^\n]*\n|[^\n]+$/g, (line) => `T\t${line}`);
      expect(whole).toBe(expected);
      expect(pieces).toBe(expected);
    }
  });

  it('stdout and stderr, with and without a final newline, empty lines and no output, as GNU', async () => {
    const random = rng(16);
    const piece = () =>
      ['', 'a', 'a\\n', '\\n', 'x y\\n\\nz', 'one\\ntwo', 'é\\n', '\\t\\n'][Math.floor(random() * 8)]!;
    const words = ['a', 'b c', 'd.txt', 'dir/f.e', 'é', '-rf', "it's", 'x'];
    const cases = Array.from({ length: 24 }, (_, c) => {
      const out = piece();
      const err = piece();
      const args = Array.from(
        { length: 1 + Math.floor(random() * 3) },
        () => words[Math.floor(random() * words.length)]!,
      );
      const tag: string[] =
        c % 3 === 0
          ? ['--tag']
          : c % 3 === 1
            ? ['--tagstring', '<{}|{#}|{.}|{/}|{//}|{/.}>']
            : ['--tagstring', '{1}-x'];
      const cmd = `printf '${out}'; printf '${err}' >&2; : {}`;
      return { args, tag, cmd };
    });
    const results = await limited(
      3,
      cases.map((k) => async () => {
        const [p, g] = await Promise.all([
          pool([...k.tag, '-j', '2', '--each', k.cmd, ...k.args]),
          gnu(['-k', ...k.tag, '-j', '2', k.cmd, ':::', ...k.args]),
        ]);
        return { k, p, g };
      }),
    );
    for (const { k, p, g } of results) {
      const where = JSON.stringify(k);
      expect(show(p.stdout), where).toBe(show(g.stdout));
      expect(show(p.stderr), where).toBe(show(g.stderr));
      expect(p.code, where).toBe(g.code);
    }
  });

  it('output past --capture-limit (spilled to a file) is tagged and filed whole, as GNU', async () => {
    const cmd = "seq 3000; printf 'no newline'; seq 5 >&2; : {}";
    const [p, g] = await Promise.all([
      pool(['--tag', '--capture-limit', '1K', '--each', cmd, 'a', 'b c']),
      gnu(['-k', '--tag', cmd, ':::', 'a', 'b c']),
    ]);
    expect(show(p.stdout)).toBe(show(g.stdout));
    expect(show(p.stderr)).toBe(show(g.stderr));
    const base = temp();
    await Promise.all([
      pool(['--results', 'res', '--capture-limit', '1K', '--each', cmd, 'a'], undefined, mkdirAt(base, 'p')),
      gnu(['--results', 'res', cmd, ':::', 'a'], undefined, mkdirAt(base, 'g')),
    ]);
    expect(tree(join(base, 'p', 'res'))).toEqual(tree(join(base, 'g', 'res')));
  });

  it('--line-buffer --tag: lines bare or tagged, a last line without newline kept so, as GNU', async () => {
    for (const tag of [[], ['--tag']]) {
      const cmd = "printf 'l1\\nl2'; : {}";
      const [p, g] = await Promise.all([
        pool(['--line-buffer', ...tag, '-j', '1', '--each', cmd, 'a', 'b']),
        gnu(['-k', '--line-buffer', ...tag, '-j', '1', cmd, ':::', 'a', 'b']),
      ]);
      expect(show(p.stdout)).toBe(show(g.stdout));
      expect(p.code).toBe(g.code);
    }
  });

  it('-u/--ungroup: the lines as GNU prints them (untagged even with --tag), its --dry-run tagged; not with --line-buffer', async () => {
    const lines = (b: Buffer) => b.toString('latin1').split('\n').sort();
    const cmd = "printf 'x%s\\ny%s\\n' {} {}";
    const forms: string[][] = [
      ['-u', '-j', '1'],
      ['--ungroup', '-k', '-j', '2'],
      ['-u', '--tag', '-j', '1'],
      ['-u', '--tagstring', 'T{}', '-j', '2'],
      ['-u', '--tag', '-k', '--dry-run'],
    ];
    for (const f of forms) {
      const [p, g] = await Promise.all([
        pool([...f, cmd, ':::', 'a', 'b']),
        gnu([...f, cmd, ':::', 'a', 'b']),
      ]);
      expect({ f, out: lines(p.stdout) }).toEqual({ f, out: lines(g.stdout) });
      expect(p.code, f.join(' ')).toBe(g.code);
    }
    const both = await pool(['-u', '--line-buffer', 'echo', ':::', 'a']);
    expect(both.code).toBe(2);
    expect(both.stderr.toString()).toMatch(/-u\/--ungroup cannot be combined with --line-buffer/);
    expect(both.stdout.length).toBe(0);
  });
});

/** Every file under `dir`: relative path → contents (latin1, to compare bytes). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: Buffer, rel: string) => {
    for (const e of readdirSync(d, { encoding: 'buffer' })) {
      const full = Buffer.concat([d, Buffer.from('/'), e]);
      const r = rel + '/' + e.toString('latin1');
      if (statSync(full).isDirectory()) walk(full, r);
      else out[r] = readFileSync(full).toString('latin1');
    }
  };
  if (existsSync(dir)) walk(Buffer.from(dir), '');
  return out;
}

describe("--results DIR: GNU parallel's tree, file by file", () => {
  it('escapes \\ TAB NUL and / as GNU does', () => {
    expect(escapeValue(Buffer.from('a/b\\c\td\0e')).toString()).toBe('a\\_b\\\\c\\td\\0e');
  });

  it('values with /, \\, TAB, spaces, quotes, dashes, non-ASCII and 300-byte names; exit status of failures', async () => {
    const random = rng(1616);
    const alphabet = ['a', '/', '\\', '\t', ' ', "'", '-', 'é', '*', 'z', '.', 'n'];
    const seen = new Set<string>();
    const values: string[] = [];
    while (values.length < 14) {
      const v = Array.from(
        { length: 1 + Math.floor(random() * 6) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
      const key = escapeValue(Buffer.from(v)).toString();
      if (v === '.' || v === '..' || seen.has(key)) continue;
      seen.add(key);
      values.push(v);
    }
    values.push('x'.repeat(300), '-rf', '--x=y');
    const cmd = "printf '%s\\n' {}; echo err >&2; case {} in *a*) exit 3;; esac";
    const base = temp();
    const [p, g] = await Promise.all([
      pool(['--results', 'res', '--each', cmd, ...values], undefined, mkdirAt(base, 'p')),
      gnu(['--results', 'res', cmd, ':::', ...values], undefined, mkdirAt(base, 'g')),
    ]);
    const pt = tree(join(base, 'p', 'res'));
    const gt = tree(join(base, 'g', 'res'));
    expect(Object.keys(pt).length).toBe(values.length * 3);
    expect(pt).toEqual(gt);
    expect(show(p.stdout)).toBe(show(g.stdout));
    // GNU exits with the number of failed jobs; poolrun with 1 (README: Coming from GNU parallel).
    expect(p.code).toBe(g.code === 0 ? 0 : 1);
  });

  it('., .. and the empty value land where GNU puts them (never outside DIR)', async () => {
    for (const v of ['.', '..', '']) {
      const base = temp();
      await Promise.all([
        pool(['--results', 'res', '--each', 'echo {}', v], undefined, mkdirAt(base, 'p')),
        gnu(['--results', 'res', 'echo {}', ':::', v], undefined, mkdirAt(base, 'g')),
      ]);
      expect(tree(join(base, 'p', 'res')), JSON.stringify(v)).toEqual(tree(join(base, 'g', 'res')));
      expect(readdirSync(join(base, 'p')).sort()).toEqual(['res']);
    }
  });

  it('--results F.json writes the results document', async () => {
    const dir = temp();
    const r = await poolrun(['-q', '--results', join(dir, 'r.json'), '--each', 'echo {}', 'a', 'b']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as {
      results: Array<{ stdout: string }>;
    };
    expect(doc.results.map((j) => j.stdout)).toEqual(['a\n', 'b\n']);
  });
});

describe('--resume with --results and no --joblog: the jobs that left output there are not run again, as GNU', () => {
  it.each([
    ['a tree', ['--results', 'res']],
    ['a NAME', ['--results', 'out/{}.txt']],
    ['a NAME folder', ['--results', 'out/{}/']],
  ])('%s', async (_, results) => {
    const base = temp();
    const cmd = 'echo {} >> ran; echo out {}';
    const dirs = [mkdirAt(base, 'p'), mkdirAt(base, 'g')];
    const both = (args: string[]) =>
      Promise.all([pool(args, undefined, dirs[0]), gnu(args, undefined, dirs[1])]);
    const ran = (d: string) => readFileSync(join(d, 'ran'), 'utf8').split('\n').sort().join(' ').trim();
    await both(['-k', ...results, cmd, ':::', 'a', 'c']);
    for (const d of dirs) writeFileSync(join(d, 'ran'), '');
    // New jobs run; those whose output is there do not.
    const [p, g] = await both(['-k', ...results, '--resume', cmd, ':::', 'a', 'b', 'c', 'd']);
    expect(show(p.stdout)).toBe(show(g.stdout));
    expect(p.code).toBe(g.code);
    expect(ran(dirs[0]!)).toBe('b d');
    expect(ran(dirs[1]!)).toBe('b d');
    const top = results[1]!.split('/')[0]!;
    expect(tree(join(dirs[0]!, top))).toEqual(tree(join(dirs[1]!, top)));
  });

  it('--resume-failed still needs --joblog (it needs the exit statuses); --resume needs one or the other', async () => {
    const r1 = await pool(['--results', 'res', '--resume-failed', 'echo', ':::', 'a'], undefined, temp());
    expect(r1.code).toBe(2);
    expect(r1.stderr.toString()).toMatch(/--resume-failed needs --joblog/);
    const r2 = await pool(['--resume', 'echo', ':::', 'a'], undefined, temp());
    expect(r2.code).toBe(2);
    expect(r2.stderr.toString()).toMatch(/--resume needs --joblog FILE .* or --results DIR/);
  });
});

describe('a `?` in a file name or glob is text, not a URL query to mask', () => {
  const values = ['Q&A/Why?.txt', 'Q&A/Why?.md', 'music/Who?.mp3', 'x/?y', 'img.??', 'a/b?', 'c.d?#e'];
  it('--tag, --tagstring, --dry-run and the --results tree as GNU parallel makes them', async () => {
    for (const args of [
      ['-k', '--tag', 'echo', ':::', ...values],
      ['-k', '--tagstring', 'img.??', 'echo', ':::', ...values],
      ['-k', '--dry-run', 'ls', '*.??', '/tmp/?x', '{}', ':::', ...values],
    ]) {
      const [p, g] = await Promise.all([pool(args), gnu(args)]);
      expect([args, show(p.stdout)]).toEqual([args, show(g.stdout)]);
    }
    const base = temp();
    const dirs = [mkdirAt(base, 'p'), mkdirAt(base, 'g')];
    await Promise.all([
      pool(['--results', 'res', 'echo', ':::', ...values], undefined, dirs[0]),
      gnu(['--results', 'res', 'echo', ':::', ...values], undefined, dirs[1]),
    ]);
    const tp = tree(join(dirs[0]!, 'res'));
    expect(Object.keys(tp).filter((k) => k.endsWith('/stdout'))).toHaveLength(values.length);
    expect(tp).toEqual(tree(join(dirs[1]!, 'res')));
  });

  it("a URL's query value is still masked where it is shown, with or without its scheme", async () => {
    const r = await pool(['-k', '--tag', 'echo', ':::', 'h.example/x?token=s3cr3t', 'https://h/x?abc']);
    // The tag (before the TAB) is shown masked; what the job printed is its own output.
    const tags = r.stdout
      .toString()
      .split('\n')
      .slice(0, -1)
      .map((l) => l.split('\t')[0]);
    expect(tags).toEqual(['h.example/x?token=***', 'https://h/x?***']);
  });
});

describe('--results with -u or --line-buffer', () => {
  it.each([['-u'], ['--line-buffer']])('%s: the output goes to the tree, none is printed', async (flag) => {
    const base = temp();
    const dirs = [mkdirAt(base, 'p'), mkdirAt(base, 'g')];
    const args = ['-k', '--results', 'res', flag, 'echo', ':::', 'a', 'b'];
    const [p, g] = await Promise.all([pool(args, undefined, dirs[0]), gnu(args, undefined, dirs[1])]);
    expect(p.stdout.toString()).toBe('');
    if (flag === '-u') expect(g.stdout.toString()).toBe('');
    expect(tree(join(dirs[0]!, 'res'))).toEqual(tree(join(dirs[1]!, 'res')));
    expect(readFileSync(join(dirs[0]!, 'res', '1', 'b', 'stdout'), 'utf8')).toBe('b\n');
  });
});

describe('--header : on a file of CRLF lines', () => {
  it("the header line's CR is not part of the last name; values keep theirs, as GNU", async () => {
    const dir = temp();
    const tsv = join(dir, 'crlf.tsv');
    writeFileSync(tsv, 'x\ty\r\n1\t2\r\n3\t4\r\n');
    for (const args of [
      ['-k', '--header', ':', 'echo', '{y}-{x}', '::::', tsv],
      ['-k', '--header', ':', '--colsep', '\t', 'echo', '{y}-{x}', '::::', tsv],
    ]) {
      const [p, g] = await Promise.all([pool(args), gnu(args)]);
      expect(show(p.stdout)).toBe(show(g.stdout));
      expect(p.stdout.toString()).toMatch(/^2\r?-1\n/);
    }
    // --results names its levels by the header's names, without the CR; the value keeps it, as GNU's. (The file
    // names the first place, GNU's rule for a source given with ::::: `res/<file>/1/y/2\r`.)
    const [pd, gd] = [mkdirAt(dir, 'p'), mkdirAt(dir, 'g')];
    const args = ['--header', ':', '--results', 'res', 'echo', '{x}', '::::', tsv];
    await Promise.all([pool(args, undefined, pd), gnu(args, undefined, gd)]);
    const names = Object.keys(tree(join(pd, 'res'))).sort();
    expect(names).toEqual(Object.keys(tree(join(gd, 'res'))).sort());
    expect(names).toContain(`${tsv}/1/y/2\r/stdout`);
  });
});

function mkdirAt(base: string, name: string): string {
  const d = join(base, name);
  mkdirSync(d);
  return d;
}

describe('--pipe: blocks as GNU parallel cuts them', () => {
  /** Random input: records of random lengths (some longer than the block), with or without a final separator. */
  function input(random: () => number, sep: string, start: string): Buffer {
    const n = Math.floor(random() * 40);
    let s = '';
    for (let i = 0; i < n; i++) {
      const len = random() < 0.08 ? 50 + Math.floor(random() * 200) : Math.floor(random() * 12);
      s += start + 'abcdefghij'.repeat(30).slice(0, len) + (i < n - 1 || random() < 0.7 ? sep : '');
    }
    return Buffer.from(s);
  }

  it('block sizes × -N × --recstart/--recend × input sizes (a record larger than the block included)', async () => {
    const random = rng(4242);
    const seps: Array<{ args: string[]; sep: string; start: string }> = [
      { args: [], sep: '\n', start: '' },
      { args: ['--recend', ';'], sep: ';', start: '' },
      { args: ['--recstart', '>'], sep: '', start: '>' },
      { args: ['--recstart', 'S', '--recend', 'E\\n'], sep: 'E\n', start: 'S' },
      { args: ['--recend', '\\t'], sep: '\t', start: '' },
    ];
    const cases = Array.from({ length: 25 }, (_, c) => {
      const s = seps[c % seps.length]!;
      const block = ['1', '7', '30', '100', '1k'][Math.floor(random() * 5)]!;
      const n = random() < 0.3 ? ['-N', String(1 + Math.floor(random() * 4))] : [];
      return { args: [...s.args, '--block', block, ...n], data: input(random, s.sep, s.start) };
    });
    const cmd = "printf '<'; cat; printf '>\\n'";
    const results = await limited(
      3,
      cases.map((k) => async () => {
        const [p, g] = await Promise.all([
          pool(['--pipe', '-j', '2', ...k.args, cmd], k.data),
          gnu(['-k', '--pipe', '-j', '2', ...k.args, cmd], k.data),
        ]);
        return { k, p, g };
      }),
    );
    for (const { k, p, g } of results) {
      const where = JSON.stringify({ args: k.args, data: k.data.toString('latin1') });
      expect(show(p.stdout), where).toBe(show(g.stdout));
      expect(p.code, where).toBe(g.code);
    }
  }, 300_000);

  it('GNU sizes: K M G are powers of 1024, k m g of 1000', () => {
    expect(gnuSize('--block', '10')).toBe(10);
    expect(gnuSize('--block', '1k')).toBe(1000);
    expect(gnuSize('--block', '1K')).toBe(1024);
    expect(gnuSize('--block', '1Ki')).toBe(1024);
    expect(gnuSize('--block', '2M')).toBe(2 * 1024 * 1024);
    expect(gnuSize('--block', '2m')).toBe(2_000_000);
    expect(gnuSize('--block', '1.5K')).toBe(1536);
    for (const bad of ['0', '', 'k', '-1', '3G', '1x', '--x=y', '1 k'])
      expect(() => gnuSize('--block', bad), bad).toThrow(/--block/);
  });

  it('wc -l over seq, -N3, the default block, empty input (no job), -r drops blank lines', async () => {
    const seq = Buffer.from(Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join(''));
    for (const [args, data] of [
      [['-N3', 'wc', '-l'], Buffer.from('1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n')],
      [['--block', '1k', 'wc', '-l'], seq],
      [['--block', '1K', 'wc', '-l'], seq],
      [['wc', '-c'], seq],
      [['echo', 'ran'], Buffer.alloc(0)],
      [['-r', '--block', '10', 'cat'], Buffer.from('a\n\n  \nb\n\n\nc\n')],
      [['--each', 'wc -l'], seq],
    ] as Array<[string[], Buffer]>) {
      const gnuArgs = args[0] === '--each' ? args.slice(1) : args;
      const [p, g] = await Promise.all([
        pool(['--pipe', ...args], data),
        gnu(['-k', '--pipe', ...gnuArgs], data),
      ]);
      expect(show(p.stdout), args.join(' ')).toBe(show(g.stdout));
      expect(p.code).toBe(g.code);
    }
  }, 120_000);

  it('reads stdin no faster than blocks are taken: at most 2 × workers blocks wait on disk', async () => {
    const dir = temp();
    const tmp = mkdirAt(dir, 'tmp');
    const log = join(dir, 'count');
    // Each job counts the blocks on disk while it runs; 300 blocks of 1 KiB, 2 workers.
    const data = Buffer.from(Array.from({ length: 300 * 128 }, () => 'abcdefg\n').join(''));
    const r = await execa(
      process.execPath,
      [
        BIN,
        '-q',
        '--pipe',
        '--block',
        '1K',
        '-j',
        '2',
        `cat >/dev/null; ls ${tmp}/poolrun-*/pipe-*/ | wc -l >> ${log}`,
      ],
      { input: data, env: { TMPDIR: tmp }, reject: false },
    );
    expect(r.exitCode).toBe(0);
    const counts = readFileSync(log, 'utf8').trim().split('\n').map(Number);
    expect(counts.length).toBe(300);
    // The job's own block is still there while it runs; never more than 2 × 2 blocks.
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(4);
    expect(readdirSync(tmp)).toEqual([]);
  }, 120_000);

  it('--dry-run --pipe lists every block job (more blocks than may wait at once) and exits 0', async () => {
    const data = Array.from({ length: 100 }, (_, i) => `${i + 1}\n`).join('');
    const r = await poolrun(['--dry-run', '--pipe', '-j', '1', '--block', '10', 'wc', '-l'], { input: data });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l === 'wc -l').length).toBe(33);
  });

  it('blocks() cuts what GNU cuts, however stdin arrives in pieces', async () => {
    const random = rng(99);
    for (let c = 0; c < 200; c++) {
      const data = input(random, '\n', '');
      const cut = async (pieces: Buffer[]) => {
        const out: string[] = [];
        async function* src() {
          for (const p of pieces) yield await Promise.resolve(p);
        }
        for await (const b of blocks(src(), {
          blockSize: 1 + Math.floor(c / 10),
          recstart: Buffer.alloc(0),
          recend: Buffer.from('\n'),
        }))
          out.push(b.toString());
        return out;
      };
      const whole = await cut([data]);
      const bytes = await cut(Array.from(data, (b) => Buffer.from([b])));
      expect(bytes).toEqual(whole);
      expect(whole.join('')).toBe(data.toString());
      expect(whole.every((b) => b.length > 0)).toBe(true);
    }
  });

  it('--env TMPDIR set: TMPDIR is honoured, and the process leaves no block behind', async () => {
    const dir = temp();
    const r = await execa(process.execPath, [BIN, '-q', '--pipe', '--block', '10', 'cat'], {
      input: 'a\nb\nc\n'.repeat(20),
      env: { TMPDIR: dir },
      reject: false,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('a\nb\nc\n'.repeat(20).trimEnd());
    expect(readdirSync(dir)).toEqual([]);
  });

  it("-0 is refused (GNU ignores it with --pipe, still cutting at newlines); --recend '\\0' cuts at NUL as GNU", async () => {
    const input = 'a\nb\0c\0';
    const gnu = await execa('parallel', ['--will-cite', '-k', '--pipe', '-0', '-N1', 'od -c'], { input });
    // GNU's own: two blocks cut at the newline, not three at the NULs.
    expect(gnu.stdout.match(/^0000000/gm)).toHaveLength(2);
    const refused = await poolrun(['--pipe', '-0', '-N1', 'od -c'], { input });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/GNU parallel ignores it there.*--recend '\\0'/);
    const args = ['-k', '--pipe', '--recend', '\\0', '-N1', 'od -c'];
    const [g, p] = await Promise.all([
      execa('parallel', ['--will-cite', ...args], { input }),
      execa(process.execPath, [BIN, '-q', ...args], { input }),
    ]);
    expect(p.stdout).toBe(g.stdout);
    expect(p.stdout.match(/^0000000/gm)).toHaveLength(2);
  });
});

describe("-j/--jobs: GNU's forms", () => {
  it('N, N%, +N, -N, 0 (unit)', () => {
    expect(parseJobs('3', 4)).toBe(3);
    expect(parseJobs('50%', 4)).toBe(2);
    expect(parseJobs('150%', 2)).toBe(3);
    expect(parseJobs('10%', 2)).toBe(1);
    expect(parseJobs('+2', 4)).toBe(6);
    expect(parseJobs('-1', 4)).toBe(3);
    expect(parseJobs('-10', 4)).toBe(1);
    expect(parseJobs('0', 4)).toBe(JOBS_ZERO);
    for (const bad of ['', 'x', '1.5', '%', '+', '-', '1e3', '99999999', ' -rf', '3 4', '--x=y'])
      expect(() => parseJobs(bad, 4), bad).toThrow(/-j\/--jobs/);
  });

  it('N% as many workers as GNU parallel runs at once (it rounds up: 75% of 2 cores is 2), and the CLI too', async () => {
    // Fresh-eyes probe: 75% of 2 cores ran 1 job at a time (rounded down); GNU runs 2.
    const cpus = Number((await execa('parallel', ['--will-cite', '--number-of-threads'])).stdout);
    const slots = async (bin: string[], j: string, n: number) => {
      const jobs = Array.from({ length: 2 * n + 1 }, (_, i) => String(i));
      const r = await execa(bin[0]!, [...bin.slice(1), '-j', j, 'sleep 0.2; echo {%}', ':::', ...jobs]);
      return Math.max(...r.stdout.split('\n').map(Number));
    };
    const cases = [
      '0.1%',
      '10%',
      '33%',
      '50%',
      '50.5%',
      '51%',
      '75%',
      '99.9%',
      '100%',
      '101%',
      '125%',
      '149%',
    ];
    for (const j of cases) {
      const want = parseJobs(j, cpus);
      expect(await slots(['parallel', '--will-cite'], j, want), `parallel -j ${j} on ${cpus} cpus`).toBe(
        want,
      );
    }
    // The CLI: on a machine where poolrun counts the cores as GNU does.
    if (availableParallelism() !== cpus) return;
    for (const j of ['75%', '125%'])
      expect(await slots([process.execPath, BIN], j, parseJobs(j, cpus)), `poolrun -j ${j}`).toBe(
        parseJobs(j, cpus),
      );
  }, 120_000);

  it('as many slots as GNU parallel uses for the same -j ({%} of jobs that overlap)', async () => {
    for (const j of ['1', '3', '+1', '-1', '150%', '50%', '0']) {
      const n = 8;
      const args = Array.from({ length: n }, (_, i) => String(i));
      // Jobs overlap by a barrier, not by a sleep (on a loaded machine starting 8 jobs can take longer than any
      // sleep): each job marks its start and waits until `k` have started, k the width -j asks for. A tool that
      // runs fewer at a time never reaches k: its jobs give up after 10 s and its {%} stays lower.
      const width = parseJobs(j);
      const k = Math.min(n, width === JOBS_ZERO ? n : width);
      const barrier = (dir: string) =>
        `touch ${dir}/{#}; i=0; while [ "$(ls ${dir} | wc -l)" -lt ${k} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo {%}`;
      const [pd, gd] = [temp(), temp()];
      const [p, g] = await Promise.all([
        pool(['-j', j, '--each', barrier(pd), ...args]),
        gnu(['-j', j, barrier(gd), ':::', ...args]),
      ]);
      const max = (b: Buffer) => Math.max(...b.toString().trim().split('\n').map(Number));
      expect(max(p.stdout), `-j ${j}`).toBe(max(g.stdout));
    }
  }, 120_000);
});

describe('habit flags accepted; GNU-only options refused with the poolrun way', () => {
  it('--will-cite -k --group --bar --eta --progress -r --keep-order: same output as GNU', async () => {
    const args = ['a', 'b c', '-rf'];
    const flags = ['--will-cite', '-k', '--group', '--bar', '--eta', '--progress', '-r', '--keep-order'];
    const [p, g] = await Promise.all([
      pool([...flags, '--each', 'echo {}', ...args]),
      gnu([...flags, 'echo {}', ':::', ...args]),
    ]);
    expect(p.stdout.toString()).toBe(g.stdout.toString());
    expect(p.code).toBe(0);
  });

  it('--pipe: a block reaches the job through a pipe, as GNU gives it (wc pads for a pipe; head leaves what a pipe leaves)', async () => {
    const seq = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `${i + 1}\n`).join(''));
    for (const [args, input] of [
      [['--pipe', '-k', 'wc'], seq(200_000)],
      [['--pipe', '-k', '-N5', 'head -n1; wc -l'], seq(10)],
      [['--pipe', '-k', '-N5', 'cat /dev/stdin /dev/stdin | wc -l'], seq(10)],
      [['--pipe', '-k', '-N3', 'test -p /dev/stdin && echo pipe; wc -c'], seq(7)],
      // A command ending in a backslash (a line continuation for sh).
      [['--pipe', '-k', '-N4', 'cat - {} \\'], seq(9)],
    ] as const) {
      const [p, g] = await Promise.all([pool([...args], input), gnu([...args], input)]);
      expect(p.stdout.toString(), args.join(' ')).toBe(g.stdout.toString());
      expect(p.code, args.join(' ')).toBe(g.code);
    }
  });

  it('$PARALLEL_SEQ and $PARALLEL_JOBSLOT are set as GNU sets them ({#} and {%})', async () => {
    for (const args of [
      ['-j1', '-k', 'echo', '$PARALLEL_SEQ/$PARALLEL_JOBSLOT', '{}', ':::', 'a', 'b', 'c'],
      ['-j1', '-k', '-N2', 'echo', 'seq:$PARALLEL_SEQ', '{2}', '{1}', ':::', '1', '2', '3', '4', '5'],
      ['-j3', '-k', 'echo', '$PARALLEL_SEQ', '{#}', ':::', 'a', 'b', 'c', 'd', 'e', 'f'],
    ]) {
      const [p, g] = await Promise.all([pool(args), gnu(args)]);
      expect(p.stdout.toString(), args.join(' ')).toBe(g.stdout.toString());
      expect(p.code).toBe(0);
    }
  });

  it('--shuf runs every job once, in some order', async () => {
    const args = Array.from({ length: 30 }, (_, i) => String(i));
    const [p, g] = await Promise.all([
      pool(['--shuf', '--each', 'echo {}', ...args]),
      gnu(['--shuf', 'echo {}', ':::', ...args]),
    ]);
    const sorted = (b: Buffer) => b.toString().trim().split('\n').sort().join('\n');
    expect(sorted(p.stdout)).toBe(sorted(g.stdout));
    expect(p.code).toBe(0);
  });

  it('every GNU-only option has a message naming it and a poolrun way (unit)', () => {
    expect(GNU_ONLY.length).toBeGreaterThan(100);
    for (const n of GNU_ONLY) {
      expect(gnuOnlyOption(n)).toMatch(
        new RegExp(
          `^${n.replace(/[-]/g, '\\-')} is a GNU parallel option that poolrun does not take: .{10,}`,
        ),
      );
      if (n.startsWith('--')) expect(gnuOnlyOption(`${n}=-rf`)).toBe(gnuOnlyOption(n));
      else expect(gnuOnlyOption(`${n}4`)).toBe(gnuOnlyOption(n));
    }
    expect(gnuOnlyOption('--no-such-thing')).toBeUndefined();
  });

  it('GNU-only options on the command line: exit 2, a message naming it and the nearest poolrun way, no stack trace', async () => {
    const known = new Set(['-m', '-q', '-V', '-h', '-j', '-k', '-r', '-N', '-w', '-0']);
    // A sample each run would be flaky to debug: a fixed spread over the table.
    const names = GNU_ONLY.filter((n) => !known.has(n)).filter((_, i) => i % 10 === 0);
    const runs = await limited(
      4,
      names.map((n) => () => poolrun([n, 'x', '--each', 'echo {}', 'a']).then((r) => ({ n, r }))),
    );
    for (const { n, r } of runs) {
      expect(r.code, n).toBe(2);
      expect(r.stderr, n).toContain(`poolrun: ${n} is a GNU parallel option`);
      expect(r.stderr, n).toContain('Coming from GNU parallel');
      expect(r.stderr, n).not.toMatch(/\n\s+at /);
      expect(r.stdout, n).toBe('');
    }
  }, 180_000);

  it('bad values: exit 2 naming the option', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['-j', 'abc', '--each', 'echo', 'a'], /-j\/--jobs/],
      [['-j', '2', '-w', '2', '--each', 'echo', 'a'], /-j\/--jobs and -w/],
      [['--pipe', '--block', '0', 'cat'], /--block/],
      [['--pipe', '--block', '-rf', 'cat'], /--block/],
      [['--pipe', '--recend', '\\q', 'cat'], /--recend/],
      [['--pipe', '-N', '0', 'cat'], /-N/],
      [['--pipe'], /--pipe: expected a command/],
      [['--block', '1k', '--each', 'echo', 'a'], /--block goes with --pipe/],
      [['--results', 'r.csv', '--each', 'echo', 'a'], /--results r\.csv/],
      [['--timeout', '0%', '--each', 'echo', 'a'], /--timeout/],
      [
        ['--timeout', '50%', '--queue', 'redis://127.0.0.1:1', '--each', 'echo', 'a'],
        /--timeout 50%.*--queue/,
      ],
      [['--results', '-', '--each', 'echo', 'a'], /--results/],
      [['--pipe', '--call', 'x.mjs#f'], /--pipe/],
    ];
    for (const [args, re] of cases) {
      const r = await poolrun(args, { input: 'a\n' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('live view: done/total and an ETA once a streamed input has ended', () => {
  it('--each reading stdin, and a JSONL job file on stdin, under a terminal', async () => {
    const dir = temp();
    const jobs = join(dir, 'jobs.jsonl');
    writeFileSync(
      jobs,
      [1, 2, 3, 4].map((i) => JSON.stringify({ id: `j${i}`, run: 'sleep 1' })).join('\n') + '\n',
    );
    for (const feed of [
      `seq 4 | node ${BIN} -j 2 --each 'sleep 1; echo {}'`,
      `node ${BIN} -j 2 --format jsonl - < ${jobs}`,
    ]) {
      const log = join(dir, 'typescript');
      rmSync(log, { force: true });
      await track(
        execa('script', ['-qfec', `stty cols 100 rows 40; ${feed}`, log], {
          env: { TERM: 'xterm-256color', PATH: process.env.PATH ?? '/usr/bin:/bin' },
          extendEnv: false,
          reject: false,
          timeout: 60_000,
        }),
      );
      const screen = readFileSync(log, 'utf8');
      expect(screen, feed).toMatch(/[0-3]\/4/);
      expect(screen, feed).toMatch(/ETA/);
    }
  }, 120_000);
});
