/**
 * Compiles poolrun's spawn addon (native/spawn.c, issue 15) with the system compiler against node-api-headers,
 * at `npm install`. It must never fail an install: on any error it prints one line and leaves the addon absent,
 * and poolrun then spawns through Node's child_process (the same behaviour, slower for many small jobs).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'native', 'build', 'poolrun_spawn.node');
let tmp;
try {
  if (process.platform !== 'linux')
    throw new Error(`posix_spawn path is for Linux only (this is ${process.platform})`);
  const include = createRequire(import.meta.url)('node-api-headers').include_dir;
  mkdirSync(dirname(out), { recursive: true });
  tmp = `${out}.${process.pid}.tmp`;
  execFileSync(
    process.env.CC || 'cc',
    [
      '-O2',
      '-Wall',
      '-shared',
      '-fPIC',
      '-DNAPI_VERSION=8',
      '-I',
      include,
      join(root, 'native', 'spawn.c'),
      '-o',
      tmp,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  renameSync(tmp, out);
} catch (e) {
  rmSync(out, { force: true });
  if (tmp) rmSync(tmp, { force: true });
  const why =
    (e &&
      (e.stderr
        ?.toString()
        .split('\n')
        .find((l) => l.trim()) ||
        e.message)) ||
    String(e);
  console.log(`poolrun: spawn addon not built (${why.trim()}); using Node's child_process`);
}
