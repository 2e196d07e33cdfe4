/**
 * Writes V8's code cache for the start-up bundle's chunks (dist/bundle/<chunk>.cjs.cache, BENCHMARKS.md B6), at
 * `npm run build` and again at `npm install` (a cache is only good for the Node version that wrote it). It runs
 * one trivial job through bin/poolrun.js with POOLRUN_CODE_CACHE_WRITE=1: the run then compiles each chunk listed
 * in dist/bundle/cacheable.json and, at its end, writes the cache of what it compiled, the functions it ran
 * included. It never fails a build or an install: on any error it prints one line and leaves no cache (poolrun
 * then compiles its chunks as before: the same program, slower to start).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'bundle');
const clear = () => {
  for (const f of readdirSync(bundle))
    if (f.endsWith('.cache') || f.endsWith('.cache.tmp')) rmSync(join(bundle, f));
};

if (existsSync(join(bundle, 'cli.cjs')) && existsSync(join(bundle, 'cacheable.json'))) {
  const dir = mkdtempSync(join(tmpdir(), 'poolrun-cache-'));
  try {
    clear();
    const file = join(dir, 'jobs.json');
    writeFileSync(file, '{"jobs":[{"run":["true"]}]}\n');
    const env = { ...process.env, POOLRUN_CODE_CACHE_WRITE: '1' };
    for (const name of Object.keys(env))
      if (name.startsWith('POOLRUN_') && name !== 'POOLRUN_CODE_CACHE_WRITE') delete env[name];
    execFileSync(process.execPath, [join(root, 'bin', 'poolrun.js'), '-q', file], {
      env,
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
  } catch (e) {
    clear();
    process.stderr.write(
      `poolrun build: no code cache (${String(e?.stderr || e?.message || e).trim()}); start-up compiles the bundle\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
