/**
 * B3: 1,000,000 JSONL `call` jobs of a no-op, piped on stdin, `--output none` — memory must stay bounded
 * whatever the length of the input (goal: peak RSS ≤ 150 MB). There is no peer: nothing else runs JS calls
 * from a job stream. Jobs are fed through a pipe, so a runner that reads its input whole holds all of it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  alternate,
  benchOptions,
  goal,
  printTable,
  poolrunCmd,
  rowOf,
  saveResult,
  scratchFile,
  BENCH,
} from './lib.mjs';

const opts = benchOptions();
const n = opts.quick ? 50_000 : 1_000_000;
const line = `${JSON.stringify({ call: { module: join(BENCH, 'tasks.mjs'), export: 'noop' } })}\n`;
const input = scratchFile(`noop-${n}.jsonl`, (p) => {
  const fd = openSync(p, 'w');
  const block = line.repeat(1000);
  for (let i = 0; i < n / 1000; i++) writeSync(fd, block);
  closeSync(fd);
});

const sides = [
  { name: 'poolrun thread', cmd: poolrunCmd('-q', '--output', 'none', '-w', '2', '-'), stdin: input, ops: n },
];
const rows = await alternate(sides, { ...opts, warmup: false });
for (const r of rows) r.ratio = null;
const rss = rowOf(rows, 'poolrun thread').peakRssMB;
const entry = {
  id: 'B3',
  title: `${n.toLocaleString('en-US')} JSONL call jobs of a no-op on stdin, --output none, 2 worker threads`,
  reference: null,
  rows,
  goals: [goal('peak RSS ≤ 150 MB', rss, '<=', 150, 'MB')],
  notes: ['peak RSS: the largest of the runs; ops/s from wall time'],
};
printTable(entry);
saveResult(entry, opts);
