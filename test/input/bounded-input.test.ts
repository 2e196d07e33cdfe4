/**
 * Bounded bad input (issue 13, item 4; and item 5's "two jobs writing one destination"). Every case runs the
 * real CLI on real files, pipes and FIFOs: a hostile job document, a line too long, a results or log file that
 * cannot be one, must end in exit 2 with a message that names where, never in a stack trace, exit 70 or a hang.
 */
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, poolrun, rng, useTempDirs, type CliResult } from '../helpers.js';

const tmp = useTempDirs();

/** `depth` levels of arrays and objects (mixed by `r`) around `leaf`, as JSON text. */
function nested(depth: number, r: () => number, leaf = '1'): string {
  const kinds: boolean[] = [];
  for (let i = 0; i < depth; i++) kinds.push(r() < 0.5);
  return (
    kinds.map((obj) => (obj ? '{"k":' : '[')).join('') +
    leaf +
    [...kinds]
      .reverse()
      .map((obj) => (obj ? '}' : ']'))
      .join('')
  );
}

/** Exit 2, a located message, no stack trace. */
function refusedWithLocation(r: CliResult, where: RegExp): void {
  expect(r.stderr).not.toMatch(/internal error|\n\s+at .*\(|RangeError|Maximum call stack/);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(where);
}

describe('nesting limit', () => {
  const places: Array<[string, (deep: string) => string]> = [
    ['call.args', (d) => `{"id":"a","call":{"module":"./m.mjs","args":[${d}]}}`],
    ['env', (d) => `{"id":"a","run":"true","env":{"X":${d}}}`],
    [
      'download.headers',
      (d) => `{"id":"a","download":{"url":"http://127.0.0.1:9/x","to":"x","headers":${d}}}`,
    ],
    ['run', (d) => `{"id":"a","run":${d}}`],
    ['unknown key', (d) => `{"id":"a","run":"true","zzz":${d}}`],
    ['job itself', (d) => d],
  ];

  it('a deep value anywhere in a JSON file, a JSONL file, or stdin (JSON or JSONL) is exit 2 with file:line:col', async () => {
    const dir = tmp();
    const r = rng(13);
    for (const [name, make] of places) {
      for (const depth of [200, 100_000]) {
        const deep = nested(depth, r);
        const line = make(deep);
        const json = join(dir, 'jobs.json');
        writeFileSync(json, `{\n  "jobs": [\n    ${line}\n  ]\n}\n`);
        refusedWithLocation(await poolrun(['-q', json]), /jobs\.json:3:\d+: .*nest/);
        refusedWithLocation(await poolrun(['-q', '--dry-run', json]), /jobs\.json:3:\d+: .*nest/);
        const jsonl = join(dir, 'jobs.jsonl');
        writeFileSync(jsonl, `"true"\n${line}\n`);
        refusedWithLocation(await poolrun(['-q', jsonl]), /jobs\.jsonl:2:\d+: .*nest/);
        // stdin through a pipe: JSONL streamed, a JSON document read whole
        refusedWithLocation(
          await poolrun(['-q', '--format', 'jsonl'], { input: `${line}\n` }),
          /<stdin>:1:\d+: .*nest/,
        );
        refusedWithLocation(await poolrun(['-q'], { input: `[\n${line}]` }), /<stdin>:2:\d+: .*nest/);
        void name;
      }
    }
  }, 240_000);

  it('defaults and the document root are bounded too', async () => {
    const dir = tmp();
    const file = join(dir, 'jobs.json');
    writeFileSync(file, `{"defaults":{"env":${nested(5000, rng(1))}},"jobs":["true"]}`);
    refusedWithLocation(await poolrun(['-q', file]), /jobs\.json:1:\d+: .*nest/);
    writeFileSync(file, nested(100_000, rng(2)));
    refusedWithLocation(await poolrun(['-q', file]), /jobs\.json:1:\d+: .*nest/);
  });

  it('a value as deep as a real job needs (60 levels in call.args) runs', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'm.mjs'), 'export default (v) => JSON.stringify(v).length;\n');
    const file = join(dir, 'jobs.json');
    const deep = nested(56, rng(3));
    writeFileSync(file, `{"jobs":[{"call":{"module":"./m.mjs","args":[${deep}]}}]}`);
    const r = await poolrun(['-q', '--json', join(dir, 'r.json'), file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('--call arguments given on the command line have the same limit: exit 2 naming the argument', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'm.mjs'), 'export default (v) => 1;\n');
    // 20,000 levels: a single argument of Linux's is at most 128 KiB
    for (const depth of [100, 20_000]) {
      const r = await poolrun(['-q', '--call', join(dir, 'm.mjs'), '1', nested(depth, rng(depth))]);
      refusedWithLocation(r, /--call.*argument 2.*nest/);
      const dry = await poolrun(['--dry-run', '--call', join(dir, 'm.mjs'), nested(depth, rng(depth))]);
      refusedWithLocation(dry, /--call.*argument 1.*nest/);
    }
  });
});

describe('longest line', () => {
  const BIG = 20 * 1024 * 1024; // past the 16 MiB limit

  it('stdin lines, JSONL, --each items and -0 items: exit 2 naming the line', async () => {
    const long = 'x'.repeat(BIG);
    const cases: Array<[string[], string, RegExp]> = [
      [['-q', '--format', 'lines'], `true\ntrue\n${long}`, /<stdin>:3\b.*longer than/],
      [['-q'], `"true"\n${'"'}${long}`, /<stdin>:2\b.*longer than/],
      [['-q', '--each', 'true {}'], `a\nb\n${long}\n`, /<stdin>:3\b.*longer than/],
      [['-q', '-0', '--each', 'true {}'], `a\0${long}`, /<stdin>:2\b.*longer than/],
    ];
    for (const [args, input, where] of cases) refusedWithLocation(await poolrun(args, { input }), where);
  }, 60_000);

  it('a long line in a JSONL or lines file is exit 2 with the file and line, before anything runs', async () => {
    const dir = tmp();
    const marker = join(dir, 'ran');
    for (const name of ['jobs.txt', 'jobs.jsonl']) {
      const file = join(dir, name);
      const first = name.endsWith('.txt') ? `touch ${marker}` : JSON.stringify(`touch ${marker}`);
      writeFileSync(file, `${first}\n${'y'.repeat(BIG)}\n`);
      refusedWithLocation(
        await poolrun(['-q', file]),
        new RegExp(`${name.replace('.', '\\.')}:2\\b.*longer than`),
      );
      expect(existsSync(marker)).toBe(false);
    }
  }, 60_000);

  it('a 300 MB line with no newline on stdin never pushes RSS past 200 MB', async () => {
    for (const args of [['--each', 'true {}'], ['--format', 'lines'], ['--format', 'jsonl'], []]) {
      const cmd = `head -c 300000000 /dev/zero | tr '\\0' '{' | /usr/bin/time -v ${process.execPath} ${BIN} -q ${args.map((a) => `'${a}'`).join(' ')}`;
      const r = await execa('/bin/sh', ['-c', cmd], { reject: false, timeout: 120_000 });
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(String(r.stderr))?.[1]);
      expect(String(r.stderr)).not.toMatch(/internal error|\n\s+at .*\(/);
      expect(String(r.stderr)).toMatch(/<stdin>(:1)?: .*(longer than|larger than)/);
      expect(rss, `${args.join(' ')}: ${rss} KiB`).toBeGreaterThan(0);
      expect(rss, `${args.join(' ')}: ${rss} KiB`).toBeLessThan(200 * 1024);
    }
  }, 240_000);
});

describe('results and log files that cannot be written', () => {
  function hostilePaths(dir: string): Array<[string, string]> {
    const file = join(dir, 'regular');
    writeFileSync(file, 'x');
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    return [
      ['a folder', folder],
      ['a missing folder', join(dir, 'missing', 'out')],
      // Not normalized away: the kernel cannot pass through `missing` (fresh-eyes probe: the jobs ran, and the
      // results were lost at the end).
      ['a missing folder, then ..', `${dir}/missing/../out`],
      ['a path under a regular file', join(file, 'out')],
      ['a FIFO', fifo],
      ['a device', '/dev/null'],
      ['under /proc', '/proc/self/poolrun-out'],
    ];
  }

  it('--json, --junit, --report, --joblog (and --joblog with --resume): exit 2 naming the option and the file', async () => {
    const dir = tmp();
    const nullBefore = statSync('/dev/null');
    for (const [what, path] of hostilePaths(dir)) {
      for (const opt of [['--json'], ['--junit'], ['--report'], ['--joblog'], ['--resume', '--joblog']]) {
        const r = await poolrun(['-q', ...opt, path, '--each', 'true', 'a'], { timeout: 20_000 });
        expect(r.code, `${opt.join(' ')} ${what}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toContain(opt[opt.length - 1]!);
        expect(r.stderr).toContain(path);
        expect(r.stderr).not.toMatch(/internal error|\n\s+at .*\(/);
      }
    }
    // nothing replaced a device or a FIFO
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(statSync('/dev/null').rdev).toBe(nullBefore.rdev);
    expect(statSync(join(dir, 'fifo')).isFIFO()).toBe(true);
  }, 240_000);

  it('a joblog to resume from that is /dev/zero, invalid UTF-8, or holds a 1 GB line: exit 2, bounded', async () => {
    const dir = tmp();
    const bad = join(dir, 'bad.log');
    writeFileSync(bad, Buffer.from('Seq\tHost\n1\t:\t\xff\xfe\n', 'latin1'));
    const huge = join(dir, 'huge.log');
    execFileSync('truncate', ['-s', '1G', huge]);
    for (const log of ['/dev/zero', '/dev/urandom', bad, huge]) {
      const r = await poolrun(['-q', '--resume', '--joblog', log, '--each', 'true', 'a'], {
        timeout: 30_000,
      });
      expect(r.code, `${log}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('--joblog');
      expect(r.stderr).toContain(log);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at .*\(/);
    }
    expect(statSync(huge).size).toBe(1024 ** 3);
  }, 120_000);
});

describe('two jobs writing one destination', () => {
  /** Ways to write the same place, relative to the job file's folder `dir`. */
  function spellings(dir: string): string[] {
    return [
      'out/a.bin',
      './out/a.bin',
      'out//a.bin',
      'out/x/../a.bin',
      `${dir}/out/a.bin`,
      `${dir}/out/./a.bin`,
      '../d/out/a.bin',
    ];
  }
  const kinds = [
    (to: string) => ({ copy: { from: 'src.bin', to } }),
    (to: string) => ({ download: { url: 'http://127.0.0.1:9/a.bin', to } }),
  ];

  it('is exit 2 before anything runs, naming both jobs (JSON and JSONL, every spelling, every pair of kinds)', async () => {
    const base = tmp();
    const dir = join(base, 'd');
    mkdirSync(dir);
    writeFileSync(join(dir, 'src.bin'), 'data');
    const marker = join(dir, 'ran');
    const r = rng(5);
    const names = spellings(dir);
    for (let n = 0; n < 12; n++) {
      const a = names[Math.floor(r() * names.length)]!;
      const b = names[Math.floor(r() * names.length)]!;
      const ka = kinds[Math.floor(r() * 2)]!;
      const kb = kinds[Math.floor(r() * 2)]!;
      const jobs = [
        { id: 'first', run: `touch ${marker}` },
        { id: 'one', ...ka(a) },
        { id: 'two', ...kb(b) },
      ];
      const json = join(dir, 'jobs.json');
      writeFileSync(json, JSON.stringify({ jobs }, null, 1));
      const jsonl = join(dir, 'jobs.jsonl');
      writeFileSync(jsonl, jobs.map((j) => JSON.stringify(j)).join('\n'));
      for (const file of [json, jsonl]) {
        const res = await poolrun(['-q', file]);
        expect(res.code, `${a} ${b}: ${res.stderr}`).toBe(2);
        expect(res.stderr).toMatch(/jobs\[2\].*destination/);
        expect(res.stderr).toContain('jobs[1]');
        expect(res.stderr).toMatch(/\.jsonl?:\d+:\d+/);
        expect(existsSync(marker)).toBe(false);
      }
    }
  }, 240_000);

  it('a copy into a folder that another job writes into is exit 2 too', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'tree'));
    const file = join(dir, 'jobs.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'a', download: { url: 'http://127.0.0.1:9/x', to: 'out/tree/x' } },
        { id: 'b', copy: { from: 'tree', to: 'out/tree' } },
      ]),
    );
    const res = await poolrun(['-q', file]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain('jobs[0]');
    expect(res.stderr).toContain('jobs[1]');
  });

  it('different destinations still run', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'src.bin'), 'data');
    const file = join(dir, 'jobs.json');
    writeFileSync(
      file,
      JSON.stringify([
        { copy: { from: 'src.bin', to: 'out/a.bin' } },
        { copy: { from: 'src.bin', to: 'out/a.bin2' } },
        { copy: { from: 'src.bin', to: 'out/b/a.bin' } },
      ]),
    );
    const res = await poolrun(['-q', file]);
    expect(res.code, res.stderr).toBe(0);
  });
});

describe('defaults.env shared, merged when a job runs', () => {
  it('every job sees the defaults under its own env (thread and process mode, shell and call jobs)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'm.mjs'), 'export default () => `${process.env.D}-${process.env.O ?? ""}`;\n');
    const file = join(dir, 'jobs.json');
    writeFileSync(
      file,
      JSON.stringify({
        defaults: { env: { D: 'def' } },
        jobs: [
          { id: 'a', run: 'echo "$D-$O"' },
          { id: 'b', run: 'echo "$D-$O"', env: { O: 'own' } },
          { id: 'c', run: 'echo "$D-$O"', env: { D: 'over' } },
          { id: 'd', call: { module: './m.mjs' }, env: { O: 'own' } },
        ],
      }),
    );
    for (const mode of ['thread', 'process']) {
      const out = join(dir, `${mode}.json`);
      const r = await poolrun(['-q', '-m', mode, '--json', out, file]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('def-\ndef-own\nover-\n"def-own"\n');
      const doc = JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ value: unknown }> };
      expect(doc.results[3]!.value).toBe('def-own');
    }
  });
});

describe('hostile documents', () => {
  /** A random value: deep nests, long strings, many keys, odd key names, at any field. */
  function hostile(r: () => number, depth = 0): unknown {
    const x = r();
    if (depth > 3 || x < 0.25) {
      const y = r();
      if (y < 0.3) return 'z'.repeat(Math.floor(r() * 100_000));
      if (y < 0.5) return Math.floor(r() * 1e9) - 5e8;
      if (y < 0.6) return null;
      if (y < 0.7) return '__proto__';
      return 'true';
    }
    if (x < 0.4) return JSON.parse(nested(Math.floor(r() * 3000), r)) as unknown;
    if (x < 0.6) {
      const o: Record<string, unknown> = {};
      const n = r() < 0.2 ? 20_000 : 3;
      for (let i = 0; i < n; i++) o[r() < 0.1 ? '__proto__' : `k${i}`] = i;
      return o;
    }
    if (x < 0.8) return [hostile(r, depth + 1), hostile(r, depth + 1)];
    const fields = [
      'id',
      'run',
      'copy',
      'download',
      'call',
      'env',
      'cwd',
      'timeout',
      'retries',
      'args',
      'to',
      'url',
      'headers',
    ];
    const o: Record<string, unknown> = {};
    for (let i = 0; i < 3; i++) o[fields[Math.floor(r() * fields.length)]!] = hostile(r, depth + 1);
    return o;
  }

  it('200,000 bad jobs (or one job of 200,000 unknown keys) are refused with locations, RSS bounded, no hang', async () => {
    const dir = tmp();
    const many = join(dir, 'many.json');
    writeFileSync(many, `[${'1,'.repeat(200_000)}1]`);
    const keys = join(dir, 'keys.json');
    const o: Record<string, number> = { run: 1 };
    for (let i = 0; i < 200_000; i++) o[`k${i}`] = i;
    writeFileSync(keys, JSON.stringify({ jobs: ['true', o] }));
    for (const file of [many, keys]) {
      const cmd = `/usr/bin/time -v ${process.execPath} ${BIN} -q --dry-run '${file}'`;
      // Before: ajv's whole-file validator was quadratic in bad jobs (over 10 minutes here): the timeout is a hang check.
      const res = await execa('/bin/sh', ['-c', cmd], { reject: false, timeout: 100_000 });
      const stderr = String(res.stderr);
      expect(res.timedOut, file).toBe(false);
      expect(Number(/Exit status: (\d+)/.exec(stderr)?.[1] ?? 0), stderr.slice(0, 300)).toBe(2);
      expect(stderr).toMatch(/\.json:1(:\d+)?: jobs\[/); // a job over 1 MiB: its line
      expect(Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1])).toBeLessThan(
        400 * 1024,
      );
    }
  }, 240_000);

  it('are refused with a location or run (files and stdin); never exit 70, never a stack trace, RSS bounded', async () => {
    const dir = tmp();
    const r = rng(99);
    for (let n = 0; n < 24; n++) {
      const jobs = [hostile(r), hostile(r)];
      const json = n % 4 === 1;
      // JSON.stringify may itself refuse a document this deep; write it by hand then.
      const text = (() => {
        try {
          return json ? JSON.stringify({ jobs }, null, n % 3) : jobs.map((j) => JSON.stringify(j)).join('\n');
        } catch {
          return `{"jobs":[${nested(100_000, r)}]}`;
        }
      })();
      const file = join(dir, json ? 'jobs.json' : 'jobs.jsonl');
      writeFileSync(file, text);
      // Every other case through a pipe: read as a stream, named <stdin>.
      const viaPipe = n % 2 === 0;
      const cmd = `${viaPipe ? `cat '${file}' | ` : ''}/usr/bin/time -v ${process.execPath} ${BIN} -q --dry-run ${viaPipe ? '-' : `'${file}'`} >/dev/null`;
      const res = await execa('/bin/sh', ['-c', cmd], { reject: false, timeout: 60_000 });
      const stderr = String(res.stderr);
      const status = Number(/Exit status: (\d+)/.exec(stderr)?.[1] ?? 0);
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1]);
      expect(stderr, `case ${n}`).not.toMatch(/internal error|\n\s+at .*\(|RangeError/);
      expect([0, 2], `case ${n}: ${stderr.slice(0, 500)}`).toContain(status);
      if (status === 2) expect(stderr).toMatch(/(jobs\.jsonl?|<stdin>):\d+:\d+/);
      expect(rss, `case ${n}`).toBeLessThan(400 * 1024);
    }
  }, 240_000);
});
