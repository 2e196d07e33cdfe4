/**
 * The CLI's start path is bundled at build (scripts/build-bundle.mjs, issue 15 item 4): bin/poolrun.js loads a
 * few chunks of dist/bundle/ instead of ~70 files. It must be the same program as the files, which it falls back
 * to where the bundle is missing or older than the build.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { FIXTURES, ROOT, packageCopy, poolrun, poolrunAt, useTempDirs, type CliResult } from '../helpers.js';

const temp = useTempDirs('all');

/**
 * The poolrun files a run loaded (main thread and workers), from Node's debug lines for ES modules and CommonJS
 * (the bundle's chunks are CommonJS; the files a run without the bundle loads are ES modules), relative to `root`.
 */
function loaded(stderr: string, root: string): string[] {
  const files = new Set<string>();
  const paths = [
    ...[...stderr.matchAll(/Storing file:\/\/(\S+) \(/g)].map((m) => decodeURIComponent(m[1]!)),
    ...[...stderr.matchAll(/^MODULE \d+: load "([^"]+)"/gm)].map((m) => m[1]!),
  ];
  for (const path of paths)
    if (path.startsWith(root) && !path.includes('/node_modules/') && !path.endsWith('.node'))
      files.add(relative(root, path));
  return [...files].sort();
}

const DEBUG = { env: { NODE_DEBUG: 'esm,module' } };

describe('the bundled start path', () => {
  it.each(['thread', 'process'])('one shell job in %s mode loads dist/bundle/ chunks only', async (mode) => {
    const dir = temp();
    const file = join(dir, 'jobs.txt');
    writeFileSync(file, 'echo one\n');
    const r = await poolrun(['-q', '-m', mode, file], DEBUG);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('one\n');
    const files = loaded(r.stderr, ROOT);
    // bin, the two entries, the start and main chunks (and the bundler's runtime), the worker's chunk.
    expect(files.filter((f) => !f.startsWith('dist/bundle/'))).toEqual(['bin/poolrun.js']);
    expect(files).toContain('dist/bundle/cli.cjs');
    expect(files.some((f) => /^dist\/bundle\/cli-main-.*\.cjs$/.test(f))).toBe(true);
    // In thread mode the job may start from the main thread before the first thread has loaded anything
    // (src/pool/hybrid.ts); a worker process always runs it.
    if (mode === 'process') expect(files).toContain('dist/bundle/worker-main.cjs');
    expect(files.length).toBeLessThanOrEqual(12);
    // No poolrun file is an ES module: the entries are CommonJS, and Node's ES module loader costs ~6 ms to start
    // in each thread or process that uses it (the worker's entry was one).
    const esm = [...r.stderr.matchAll(/Storing file:\/\/(\S+) \(/g)].map((m) => decodeURIComponent(m[1]!));
    expect(esm.filter((p) => p.startsWith(ROOT))).toEqual([]);
  });

  it('a copy without the bundle, or with one older than its files, runs the files', async () => {
    const dir = temp();
    const bin = packageCopy(dir);
    const root = dirname(dirname(bin));
    const file = join(dir, 'jobs.txt');
    writeFileSync(file, 'echo one\n');
    // Older than the files by more than a copy's reordering: a bare tsc after a build.
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(join(root, 'dist/bundle/cli.cjs'), old, old);
    const stale = await poolrunAt(bin, ['-q', file], DEBUG);
    expect(stale.code).toBe(0);
    expect(loaded(stale.stderr, root)).toContain('dist/cli/main.js');
    expect(loaded(stale.stderr, root).filter((f) => f.startsWith('dist/bundle/'))).toEqual([]);
    rmSync(join(root, 'dist/bundle'), { recursive: true });
    // A slot given a second job starts its thread, which is ready while that job sleeps, and runs the third (a
    // slot's first jobs start from the main thread: pool/hybrid.ts).
    writeFileSync(file, 'echo one\nsleep 1; echo two\necho three\n');
    const none = await poolrunAt(bin, ['-q', '-w', '1', file], DEBUG);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('one\ntwo\nthree\n');
    expect(loaded(none.stderr, root)).toContain('dist/pool/worker-main.js');
  });
});

/**
 * Command lines over the forms, the modes and a few options, good and bad, each run by the bundle and by the
 * files: the same exit status, stdout and stderr. Timings stay out (-q, no --json).
 */
function cases(dir: string): string[][] {
  // Relative names (the runs' cwd is `dir`): each side has its own folder, the same names in its messages.
  writeFileSync(
    join(dir, 'jobs.jsonl'),
    [
      { id: 'a', run: 'echo a; echo err-a >&2' },
      { id: 'b', run: 'printf "%s\\n" "$POOLRUN_JOB_ID" b' },
      { id: 'c', run: 'exit 3' },
      { id: 'd', copy: { from: 'jobs.jsonl', to: 'copied.jsonl' } },
    ]
      .map((j) => JSON.stringify(j))
      .join('\n') + '\n',
  );
  writeFileSync(join(dir, 'bad.json'), '{"jobs": [{"id": "x", "run": 1}]}');
  const inputs: string[][] = [
    ['jobs.jsonl'],
    ['echo', '{}', ':::', 'x', 'y', ':::', '1', '2'],
    ['--each', 'echo <{}>', 'p', 'q'],
    ['--call', `${join(FIXTURES, 'tasks.mjs')}#square`, '3', '4'],
    ['bad.json'],
    ['missing.txt'],
    ['--dry-run', 'jobs.jsonl'],
  ];
  const options: string[][] = [
    [],
    ['-m', 'process'],
    ['-w', '1', '--order', 'completion'],
    ['--output', 'stream', '--halt', 'now', '-w', '1'],
    ['--retries', '1', '--mode', 'process', '--chunksize', '2'],
    ['--tag'],
    ['--bogus'],
    ['-w', 'none'],
  ];
  const out: string[][] = [
    ['--version'],
    ['-V'],
    ['--help'],
    ['worker', '--help'],
    ['-m', 'fork', 'jobs.jsonl'],
  ];
  for (const o of options) for (const i of inputs) out.push(['-q', ...o, ...i]);
  return out;
}

describe('the bundle and the files are the same program', () => {
  it('gives the same status, stdout and stderr for generated command lines', async () => {
    const files = packageCopy(temp());
    rmSync(join(dirname(dirname(files)), 'dist/bundle'), { recursive: true });
    expect(existsSync(join(ROOT, 'dist/bundle/cli.cjs'))).toBe(true);
    const [one, other] = [temp(), temp()];
    const all = cases(one);
    cases(other);
    for (const args of all) {
      rmSync(join(one, 'copied.jsonl'), { force: true });
      rmSync(join(other, 'copied.jsonl'), { force: true });
      const [a, b] = await Promise.all([poolrun(args, { cwd: one }), poolrunAt(files, args, { cwd: other })]);
      // --dry-run prints a copy's paths, resolved: each side's own folder.
      const same = (r: CliResult, dir: string) => ({
        args,
        code: r.code,
        stdout: r.stdout.replaceAll(dir, 'DIR'),
        stderr: r.stderr.replaceAll(dir, 'DIR'),
      });
      expect(same(a, one)).toEqual(same(b, other));
    }
    // 5 lone command lines and 8 option sets over 7 inputs.
    expect(all.length).toBeGreaterThan(50);
  }, 240_000);
});

/**
 * V8's code cache for the CLI's chunks (bin/poolrun.js, scripts/build-code-cache.mjs): written by the build, used
 * by every run, and never more than a speed-up: a cache V8 does not take (damaged, another chunk's, another Node's)
 * or none at all gives the same program.
 */
describe('the code cache of the bundle', () => {
  it('the build writes one for the main chunk; a damaged, foreign or missing cache only costs time', async () => {
    const dir = temp();
    const bin = packageCopy(dir);
    const bundle = join(dirname(dirname(bin)), 'dist/bundle');
    const caches = readdirSync(bundle).filter((f) => f.endsWith('.cjs.cache'));
    expect(caches.some((f) => /^cli-main-.*\.cjs\.cache$/.test(f))).toBe(true);
    // Chunks with an import() are never given one (code compiled from a cache has no loader for it).
    const listed = JSON.parse(readFileSync(join(bundle, 'cacheable.json'), 'utf8')) as string[];
    for (const f of caches) expect(listed).toContain(f.slice(0, -'.cache'.length));
    writeFileSync(join(dir, 'jobs.jsonl'), '{"id":"a","run":"echo a"}\n{"id":"b","run":"exit 3"}\n');
    const args = ['--verbose', '-q', '-w', '1', 'jobs.jsonl'];
    const run = () => poolrunAt(bin, args, { cwd: dir });
    const good = await run();
    expect(good.code).toBe(1);
    expect(good.stdout).toBe('a\n');
    expect(good.stderr).toMatch(
      new RegExp(`^poolrun: code cache: ${caches.length} chunks compiled from it$`, 'm'),
    );
    const rest = (r: CliResult) => ({
      code: r.code,
      stdout: r.stdout,
      stderr: r.stderr.replace(/^poolrun: code cache: .*\n/m, ''),
    });
    const saved = new Map(caches.map((f) => [f, readFileSync(join(bundle, f))]));
    const damage: Array<[string, (data: Buffer, f: string) => Buffer]> = [
      ['random bytes', (d) => Buffer.from(d.map(() => Math.floor(Math.random() * 256)))],
      ['truncated', (d) => d.subarray(0, d.length >> 1)],
      [
        'flipped bytes in the middle',
        (d) => Buffer.from(d.map((b, i) => (i > d.length / 2 && i < d.length / 2 + 64 ? b ^ 0xff : b))),
      ],
      ['empty', () => Buffer.alloc(0)],
      ["another chunk's", (d, f) => saved.get(caches.find((g) => g !== f)!) ?? d],
    ];
    for (const [what, change] of damage) {
      for (const f of caches) writeFileSync(join(bundle, f), change(saved.get(f)!, f));
      const r = await run();
      expect({ what, ...rest(r) }).toEqual({ what, ...rest(good) });
      expect(r.stderr, what).toMatch(/^poolrun: code cache: .*rejected by V8/m);
    }
    for (const [f, data] of saved) writeFileSync(join(bundle, f), data);
    // V8 flags of the user's own: V8 refuses a cache made under other flags.
    const flags = await poolrunAt(bin, args, { cwd: dir, env: { NODE_OPTIONS: '--max-semi-space-size=2' } });
    expect(rest(flags)).toEqual(rest(good));
    expect(flags.stderr).toMatch(
      new RegExp(`^poolrun: code cache: 0 chunks compiled from it, ${caches.length} rejected by V8`, 'm'),
    );
    for (const f of caches) rmSync(join(bundle, f));
    const none = await run();
    expect(rest(none)).toEqual(rest(good));
    expect(none.stderr).toMatch(/^poolrun: code cache: 0 chunks compiled from it, \d+ without one$/m);
  });
});
