/**
 * The CLI's start path is bundled at build (scripts/build-bundle.mjs, issue 15 item 4): bin/poolrun.js loads a
 * few chunks of dist/bundle/ instead of ~70 files. It must be the same program as the files, which it falls back
 * to where the bundle is missing or older than the build.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { FIXTURES, ROOT, packageCopy, poolrun, poolrunAt, useTempDirs, type CliResult } from '../helpers.js';

const temp = useTempDirs('all');

/** The poolrun files a run loaded (main thread and workers), from Node's ESM debug lines, relative to `root`. */
function loaded(stderr: string, root: string): string[] {
  const files = new Set<string>();
  for (const m of stderr.matchAll(/Storing file:\/\/(\S+) \(/g)) {
    const path = decodeURIComponent(m[1]!);
    if (path.startsWith(root) && !path.includes('/node_modules/')) files.add(relative(root, path));
  }
  return [...files].sort();
}

const DEBUG = { env: { NODE_DEBUG: 'esm' } };

describe('the bundled start path', () => {
  it.each(['thread', 'process'])('one shell job in %s mode loads dist/bundle/ chunks only', async (mode) => {
    const dir = temp();
    const file = join(dir, 'jobs.txt');
    writeFileSync(file, 'echo one\n');
    const r = await poolrun(['-q', '-m', mode, file], DEBUG);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('one\n');
    const files = loaded(r.stderr, ROOT);
    // bin, the two entries, the start and main chunks, the worker's chunk and its run and call halves.
    expect(files.filter((f) => !f.startsWith('dist/bundle/'))).toEqual(['bin/poolrun.js']);
    expect(files.length).toBeLessThanOrEqual(9);
  });

  it('a copy without the bundle, or with one older than its files, runs the files', async () => {
    const dir = temp();
    const bin = packageCopy(dir);
    const root = dirname(dirname(bin));
    const file = join(dir, 'jobs.txt');
    writeFileSync(file, 'echo one\n');
    // Older than the files by more than a copy's reordering: a bare tsc after a build.
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(join(root, 'dist/bundle/cli.js'), old, old);
    const stale = await poolrunAt(bin, ['-q', file], DEBUG);
    expect(stale.code).toBe(0);
    expect(loaded(stale.stderr, root)).toContain('dist/cli/main.js');
    expect(loaded(stale.stderr, root).filter((f) => f.startsWith('dist/bundle/'))).toEqual([]);
    rmSync(join(root, 'dist/bundle'), { recursive: true });
    const none = await poolrunAt(bin, ['-q', file], DEBUG);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('one\n');
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
    expect(existsSync(join(ROOT, 'dist/bundle/cli.js'))).toBe(true);
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
