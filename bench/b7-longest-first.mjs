/**
 * B7: 40 jobs of skewed durations on 2 workers, the long one last in input order: 39 × `sleep 0.1` then
 * `sleep 3`. In input order the long job starts when the short ones are done and runs alone (~1.95 s + 3 s);
 * `--schedule longest-first`, with the durations a first run wrote to --joblog, starts it first and the short
 * ones fill the other worker (~3.45 s). GNU parallel -j2 runs the same lines in input order.
 * (One long job: with 2 workers, an even number of long jobs gains nothing from any order, and an odd number k
 * gains at most half a long job out of (k+1)/2 of them; one shows the effect, as in the goal.)
 */
import { spawnSync } from 'node:child_process';
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
  BIN,
  SCRATCH,
} from './lib.mjs';
import { join } from 'node:path';

const opts = benchOptions();
const jobs = [...Array(39).fill('sleep 0.1'), 'sleep 3'];
const file = scratchFile('b7-skewed.txt', (p) => writeFileSync(p, jobs.map((j) => `${j}\n`).join('')));
const log = join(SCRATCH, 'b7-joblog.tsv');
// The earlier run whose durations longest-first uses.
const first = spawnSync(NODE, [BIN, '-q', '-w', '2', '--joblog', log, file], { stdio: 'inherit' });
if (first.status !== 0) throw new Error('B7: the first run (writing the joblog) failed');
const hasParallel = ensureParallel(opts);

const sides = [
  { name: 'poolrun input order', cmd: poolrunCmd('-q', '-w', '2', file) },
  {
    name: 'poolrun longest-first',
    cmd: poolrunCmd('-q', '-w', '2', '--schedule', 'longest-first', '--joblog', log, file),
  },
  ...(hasParallel
    ? [{ name: 'GNU parallel -j2', cmd: ['sh', '-c', `parallel --will-cite -j2 < ${file}`] }]
    : []),
];

const rows = withRatios(await alternate(sides, opts), 'poolrun input order');
const lf = rowOf(rows, 'poolrun longest-first');
const goals = [goal('longest-first ≤ 0.8× input order', lf.ratio, '<=', 0.8)];
if (hasParallel) {
  const gp = rowOf(rows, 'GNU parallel -j2');
  goals.push(goal('longest-first ahead of GNU parallel -j2', lf.medianWallMs / gp.medianWallMs, '<=', 1));
}
const entry = {
  id: 'B7',
  title: '40 skewed jobs (39 × sleep 0.1, then sleep 3), 2 workers',
  reference: 'poolrun input order',
  rows,
  goals,
  notes: hasParallel ? [] : ['GNU parallel is not installed and could not be: its side was skipped'],
};
printTable(entry);
saveResult(entry, opts);
