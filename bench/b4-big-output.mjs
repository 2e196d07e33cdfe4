/**
 * B4: one job printing 1 GiB, grouped output to /dev/null — output capture must be bounded in memory
 * (goal: RSS ≤ 100 MB) and fast (goal: ≥ 0.5× cat's throughput). The job is `cat` of a 1 GiB file; the
 * references are the same `cat` alone and `cat | cat` (the bytes through one pipe, the least a runner that
 * captures output must do), and GNU parallel, which also groups output through temporary files.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  alternate,
  benchOptions,
  ensureParallel,
  goal,
  printTable,
  poolrunCmd,
  rowOf,
  round2,
  saveResult,
  scratchFile,
  withRatios,
} from './lib.mjs';

const opts = benchOptions();
const size = opts.quick ? 128 * 2 ** 20 : 2 ** 30;
const blob = scratchFile(`blob-${size}.bin`, (p) => {
  const fd = openSync(p, 'w');
  const block = Buffer.alloc(2 ** 20, 'poolrun bench line of text\n');
  for (let i = 0; i < size / block.length; i++) writeSync(fd, block);
  closeSync(fd);
});
const hasParallel = ensureParallel(opts);
const job = `cat ${blob}`;
const sides = [
  { name: 'cat', cmd: ['sh', '-c', `cat ${blob} > /dev/null`] },
  { name: 'cat | cat', cmd: ['sh', '-c', `cat ${blob} | cat > /dev/null`] },
  ...(hasParallel
    ? [
        {
          name: 'GNU parallel --group',
          cmd: ['sh', '-c', `parallel --will-cite --group ::: '${job}' > /dev/null`],
        },
      ]
    : []),
  {
    name: 'poolrun thread',
    cmd: ['sh', '-c', `echo '${job}' | ${poolrunCmd('-q', '-').join(' ')} > /dev/null`],
  },
  {
    name: 'poolrun process',
    cmd: ['sh', '-c', `echo '${job}' | ${poolrunCmd('-q', '-m', 'process', '-').join(' ')} > /dev/null`],
  },
];
const rows = withRatios(await alternate(sides, opts), 'cat');
const pipeWall = rowOf(rows, 'cat | cat').medianWallMs;
const goals = [];
for (const mode of ['thread', 'process']) {
  const r = rowOf(rows, `poolrun ${mode}`);
  goals.push(goal(`poolrun ${mode} peak RSS ≤ 100 MB`, r.peakRssMB, '<=', 100, 'MB'));
  goals.push(goal(`poolrun ${mode} ≥ 0.5× cat's throughput`, round2(1 / r.ratio), '>=', 0.5));
  goals.push(
    goal(`poolrun ${mode} ≥ 0.5× the throughput of cat | cat`, round2(pipeWall / r.medianWallMs), '>=', 0.5),
  );
}
const entry = {
  id: 'B4',
  title: `one job printing ${size / 2 ** 20} MiB, grouped output to /dev/null`,
  reference: 'cat',
  rows,
  goals,
  notes: [
    'ratio column: wall time against cat alone (throughput is its inverse)',
    'peak RSS: the whole tree (the job, poolrun and its workers)',
  ],
};
printTable(entry);
saveResult(entry, opts);
