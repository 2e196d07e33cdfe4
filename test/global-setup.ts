/**
 * End-to-end tests run bin/poolrun.js, which runs dist/, and the library tests import dist/ (worker threads and
 * processes load compiled files). So dist/ must be what src/ says: built here, once per `vitest run`, when any
 * source is newer than the build. `npm test` and CI come here after `npm ci` built it: then nothing is rebuilt.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const e of readdirSync(path)) t = Math.max(t, newest(join(path, e)));
  return t;
}

export default function setup(): void {
  const inputs = [
    'src',
    'schema',
    'tsconfig.json',
    'scripts/build-validator.mjs',
    'scripts/build-bundle.mjs',
    'package.json',
    'native/spawn.c',
  ];
  const source = Math.max(...inputs.map((p) => newest(join(ROOT, p))));
  let built = 0;
  try {
    built = statSync(join(ROOT, 'dist', 'index.js')).mtimeMs;
  } catch {
    /* never built */
  }
  if (built >= source) return;
  process.stderr.write('poolrun tests: dist/ is older than src/: building\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}
