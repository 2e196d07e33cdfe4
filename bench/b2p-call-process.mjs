/**
 * B2p: the calls of B2 in process mode, where chunksize matters: chunk 1 against tinypool's child_process
 * runtime, chunk 100 against piscina's threads.
 */
import { join } from 'node:path';
import {
  alternate,
  benchOptions,
  goal,
  printTable,
  rowOf,
  saveResult,
  withRatios,
  NODE,
  BENCH,
} from './lib.mjs';

const opts = benchOptions();
const n = opts.quick ? 10_000 : 100_000;
const workers = 2;
const side = (name, lib, chunksize = 1) => ({
  name,
  cmd: [NODE, join(BENCH, 'sides', 'pool-square.mjs'), lib, String(n), String(workers), String(chunksize)],
  stdout: 'capture',
  parse: (out) => JSON.parse(out.trim().split('\n').pop()),
});
const sides = [
  side('tinypool child_process', 'tinypool-process'),
  side('piscina (threads)', 'piscina'),
  side('poolrun process chunk 1', 'poolrun-process-map', 1),
  side('poolrun process chunk 100', 'poolrun-process-map', 100),
];
const rows = withRatios(await alternate(sides, opts), 'tinypool child_process');
const piscina = rowOf(rows, 'piscina (threads)').medianOpsPerSec;
const chunk100 = rowOf(rows, 'poolrun process chunk 100').medianOpsPerSec;
const entry = {
  id: 'B2p',
  title: `${n.toLocaleString('en-US')} calls of square, ${workers} worker processes`,
  reference: 'tinypool child_process',
  rows,
  goals: [
    goal(
      'poolrun chunk 1 ≥ 1.5× tinypool child_process ops/s',
      rowOf(rows, 'poolrun process chunk 1').ratio,
      '>=',
      1.5,
    ),
    goal('poolrun chunk 100 ≥ 1.0× piscina ops/s', Math.round((chunk100 / piscina) * 100) / 100, '>=', 1.0),
  ],
  notes: ['ops/s from creating the pool to the last result, inside the process (worker start-up included)'],
};
printTable(entry);
saveResult(entry, opts);
