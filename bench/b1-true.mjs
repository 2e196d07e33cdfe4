/**
 * B1: 1000 `true` jobs at 2 at a time — per-job dispatch cost, since `true` does nothing. References: xargs -P2
 * (the goal), GNU parallel -j2, and a bare Node spawn loop (the floor for anything written in Node).
 */
import { writeFileSync } from 'node:fs';
import {
  alternate,
  benchOptions,
  ensureParallel,
  goal,
  printTable,
  poolrunCmd,
  rowOf,
  saveResult,
  scratchFile,
  withRatios,
  NODE,
  BENCH,
} from './lib.mjs';
import { join } from 'node:path';

const opts = benchOptions();
const n = opts.quick ? 200 : 1000;
const lines = scratchFile(`true-${n}.txt`, (p) => writeFileSync(p, 'true\n'.repeat(n)));
const numbers = scratchFile(`seq-${n}.txt`, (p) =>
  writeFileSync(p, Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('')),
);
const binTrue = scratchFile(`bin-true-${n}.txt`, (p) => writeFileSync(p, '/bin/true\n'.repeat(n)));
const hasParallel = ensureParallel(opts);

const sides = [
  { name: 'xargs -P2', cmd: ['sh', '-c', `xargs -P2 -n1 sh -c true < ${numbers}`] },
  ...(hasParallel
    ? [{ name: 'GNU parallel -j2', cmd: ['sh', '-c', `parallel --will-cite -j2 true < ${numbers}`] }]
    : []),
  { name: 'node spawn loop', cmd: [NODE, join(BENCH, 'sides', 'spawn-loop.mjs'), String(n), '2'] },
  // The floor of the native path: the addon and two sockets per child, nothing else of poolrun.
  { name: 'node addon loop', cmd: [NODE, join(BENCH, 'sides', 'native-loop.mjs'), String(n), '2'] },
  // Both spawn paths (issue 15): the posix_spawn addon (the goal rows) and Node's child_process (the fallback).
  { name: 'poolrun thread', cmd: poolrunCmd('-q', '-w', '2', lines), env: { POOLRUN_SPAWN: 'native' } },
  {
    name: 'poolrun process',
    cmd: poolrunCmd('-q', '-w', '2', '-m', 'process', lines),
    env: { POOLRUN_SPAWN: 'native' },
  },
  {
    name: 'poolrun thread, node spawn',
    cmd: poolrunCmd('-q', '-w', '2', lines),
    env: { POOLRUN_SPAWN: 'node' },
  },
  {
    name: 'poolrun process, node spawn',
    cmd: poolrunCmd('-q', '-w', '2', '-m', 'process', lines),
    env: { POOLRUN_SPAWN: 'node' },
  },
  // Not the goal, beside it: a program rather than a shell builtin, which xargs and poolrun both exec directly.
  { name: 'xargs -P2 /bin/true', cmd: ['sh', '-c', `xargs -P2 -n1 /bin/true < ${numbers}`] },
  {
    name: 'poolrun thread, /bin/true',
    cmd: poolrunCmd('-q', '-w', '2', binTrue),
    env: { POOLRUN_SPAWN: 'native' },
  },
];

const rows = withRatios(await alternate(sides, opts), 'xargs -P2');
const goals = [];
for (const mode of ['thread', 'process']) {
  const r = rowOf(rows, `poolrun ${mode}`);
  goals.push(goal(`poolrun ${mode} ≤ 1.35× xargs`, r.ratio, '<=', 1.35));
  if (hasParallel) {
    const gp = rowOf(rows, 'GNU parallel -j2');
    goals.push(goal(`poolrun ${mode} ≤ 0.35× GNU parallel`, r.medianWallMs / gp.medianWallMs, '<=', 0.35));
  }
}
const entry = {
  id: 'B1',
  title: `${n} \`true\` jobs, 2 workers`,
  reference: 'xargs -P2',
  rows,
  goals,
  notes: hasParallel ? [] : ['GNU parallel is not installed and could not be: its side was skipped'],
};
printTable(entry);
saveResult(entry, opts);
