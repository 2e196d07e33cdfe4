/**
 * `npm run bench`: every benchmark, one after another, each in its own process (so one's memory and JIT state
 * never colour the next). Arguments go to each: `--quick` for CI-sized work, `--runs N`, `--no-install`;
 * `--only B1,B4` picks some. A benchmark that fails is reported and the others still run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, NODE } from './lib.mjs';

const BENCHMARKS = [
  ['B1', 'b1-true.mjs'],
  ['B2', 'b2-call-thread.mjs'],
  ['B2p', 'b2p-call-process.mjs'],
  ['B3', 'b3-jsonl-stdin.mjs'],
  ['B4', 'b4-big-output.mjs'],
  ['B4s', 'b4s-stream-output.mjs'],
  // Written alongside (copy and download); run when it is there.
  ['B5', 'b5-copy-download.mjs'],
  ['B6', 'b6-startup.mjs'],
  ['B7', 'b7-longest-first.mjs'],
  ['B8', 'b8-auto-width.mjs'],
];

const argv = process.argv.slice(2);
const at = argv.indexOf('--only');
const only = at >= 0 ? new Set(argv[at + 1].split(',').map((s) => s.trim().toUpperCase())) : undefined;
const passOn = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;

const failed = [];
for (const [id, file] of BENCHMARKS) {
  if (only && !only.has(id.toUpperCase())) continue;
  const path = join(BENCH, file);
  if (!existsSync(path)) {
    process.stdout.write(`\n${id} — not here yet (${file})\n`);
    continue;
  }
  process.stderr.write(`\n== ${id} (${file} ${passOn.join(' ')})\n`);
  const r = spawnSync(NODE, [path, ...passOn], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(id);
}
process.stdout.write(`\nfigures written to ${join(BENCH, 'results.json')}\n`);
if (failed.length) {
  process.stderr.write(`bench: failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
