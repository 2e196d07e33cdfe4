/**
 * B4s: `--output stream` of one job printing 200 MB (2,000,000 lines of 101 bytes) to a reader that starts a
 * second late — streamed output must be bounded in memory however slowly stdout is read (contract §5; the
 * goal is B4's: peak RSS ≤ 100 MB). Beside it: GNU parallel --line-buffer --tag, the peer's line-by-line mode.
 */
import {
  alternate,
  benchOptions,
  ensureParallel,
  goal,
  printTable,
  poolrunCmd,
  rowOf,
  saveResult,
  withRatios,
} from './lib.mjs';

const opts = benchOptions();
const lines = opts.quick ? 200_000 : 2_000_000;
const job = `seq -f %0100.0f 1 ${lines}`;
const reader = '(sleep 1; cat > /dev/null)';
const hasParallel = ensureParallel(opts);
const sides = [
  ...(hasParallel
    ? [
        {
          name: 'GNU parallel --line-buffer --tag',
          cmd: ['sh', '-c', `parallel --will-cite --line-buffer --tag ::: '${job}' | ${reader}`],
        },
      ]
    : []),
  {
    name: 'poolrun thread',
    cmd: ['sh', '-c', `echo '${job}' | ${poolrunCmd('-q', '--output', 'stream', '-').join(' ')} | ${reader}`],
  },
  {
    name: 'poolrun process',
    cmd: [
      'sh',
      '-c',
      `echo '${job}' | ${poolrunCmd('-q', '-m', 'process', '--output', 'stream', '-').join(' ')} | ${reader}`,
    ],
  },
];
const reference = hasParallel ? 'GNU parallel --line-buffer --tag' : 'poolrun thread';
const rows = withRatios(await alternate(sides, opts), reference);
const goals = ['thread', 'process'].map((mode) =>
  goal(`poolrun ${mode} peak RSS ≤ 100 MB`, rowOf(rows, `poolrun ${mode}`).peakRssMB, '<=', 100, 'MB'),
);
const entry = {
  id: 'B4s',
  title: `--output stream of one job printing ${Math.round((lines * 101) / 1e6)} MB to a reader a second late`,
  reference,
  rows,
  goals,
  notes: [
    'peak RSS: the whole tree (the job, poolrun and its workers, the reader); in process mode poolrun is two processes',
    'wall includes the reader’s one-second start',
  ],
};
printTable(entry);
saveResult(entry, opts);
