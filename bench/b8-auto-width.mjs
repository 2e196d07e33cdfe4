/**
 * B8: `-w auto` against fixed widths. Sleep-bound: 40 × `sleep 0.5`, where -w 2 takes ~10 s and a pool that
 * widens while the CPU idles finishes in a few rounds. CPU-bound: 4 jobs per core of a shell loop, where the
 * best fixed width is the core count and auto must stay near it.
 */
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import {
  alternate,
  benchOptions,
  goal,
  printTable,
  poolrunCmd,
  rowOf,
  saveResult,
  scratchFile,
  withRatios,
} from './lib.mjs';

const opts = benchOptions();
const cores = availableParallelism();
const sleeps = scratchFile('b8-sleep.txt', (p) => writeFileSync(p, 'sleep 0.5\n'.repeat(40)));
const loops = opts.quick ? 20_000 : 100_000;
const cpu = scratchFile(`b8-cpu-${cores}-${loops}.txt`, (p) =>
  writeFileSync(p, `i=0; while [ $i -lt ${loops} ]; do i=$((i+1)); done\n`.repeat(4 * cores)),
);

const sleepRows = withRatios(
  await alternate(
    [
      { name: 'sleep: -w 2', cmd: poolrunCmd('-q', '-w', '2', sleeps) },
      { name: 'sleep: -w auto', cmd: poolrunCmd('-q', '-w', 'auto', sleeps) },
    ],
    opts,
  ),
  'sleep: -w 2',
);
const cpuRows = withRatios(
  await alternate(
    [
      { name: `cpu: -w ${cores}`, cmd: poolrunCmd('-q', '-w', String(cores), cpu) },
      { name: 'cpu: -w auto', cmd: poolrunCmd('-q', '-w', 'auto', cpu) },
    ],
    opts,
  ),
  `cpu: -w ${cores}`,
);
const rows = [...sleepRows, ...cpuRows];
const goals = [
  goal('sleep-bound: -w auto ≤ 0.25× -w 2', rowOf(rows, 'sleep: -w auto').ratio, '<=', 0.25),
  goal(`CPU-bound: -w auto ≤ 1.1× -w ${cores}`, rowOf(rows, 'cpu: -w auto').ratio, '<=', 1.1),
];
const entry = {
  id: 'B8',
  title: `-w auto: 40 × sleep 0.5 (vs -w 2); ${4 * cores} CPU-bound shell loops (vs -w ${cores})`,
  reference: 'each pair: its fixed width',
  rows,
  goals,
  notes: [
    'ratios: sleep rows to -w 2, cpu rows to -w cores; -w auto reads /proc/pressure, so a busy machine keeps it narrow',
  ],
};
printTable(entry);
saveResult(entry, opts);
