/**
 * B6: start-up — one trivial job (`true`), start to exit (goals, issue 15: thread mode ≤ 1.0× GNU parallel's wall,
 * process mode ≤ 1.2×, measured side by side; without GNU parallel, ≤ 150 ms). Beside it: GNU parallel (the
 * peer), xargs, and `node -e 0` (the floor for anything written in Node).
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
} from './lib.mjs';

const opts = benchOptions();
const runs = Math.max(opts.runs, opts.quick ? 5 : 15);
const one = scratchFile('true-1.txt', (p) => writeFileSync(p, 'true\n'));
const hasParallel = ensureParallel(opts);
const sides = [
  ...(hasParallel ? [{ name: 'GNU parallel', cmd: ['parallel', '--will-cite', 'true', ':::', '1'] }] : []),
  { name: 'xargs', cmd: ['sh', '-c', 'echo 1 | xargs -n1 sh -c true'] },
  { name: 'node -e 0', cmd: [NODE, '-e', '0'] },
  { name: 'poolrun thread', cmd: poolrunCmd('-q', one) },
  { name: 'poolrun process', cmd: poolrunCmd('-q', '-m', 'process', one) },
  { name: 'poolrun (status lines)', cmd: poolrunCmd(one) },
];
const rows = withRatios(await alternate(sides, { ...opts, runs }), hasParallel ? 'GNU parallel' : 'xargs');
const entry = {
  id: 'B6',
  title: 'start-up: one trivial job',
  reference: hasParallel ? 'GNU parallel' : 'xargs',
  rows,
  goals: hasParallel
    ? [
        goal('poolrun thread ≤ 1.0× GNU parallel', rowOf(rows, 'poolrun thread').ratio, '<=', 1.0),
        goal('poolrun process ≤ 1.2× GNU parallel', rowOf(rows, 'poolrun process').ratio, '<=', 1.2),
      ]
    : ['poolrun thread', 'poolrun process'].map((t) =>
        goal(`${t} ≤ 150 ms wall`, rowOf(rows, t).medianWallMs, '<=', 150, 'ms'),
      ),
  notes: [],
};
printTable(entry);
saveResult(entry, opts);
