/**
 * B2: 100,000 tiny `call` jobs (`square`) on 2 worker threads — per-call dispatch cost of the thread pool.
 * Reference: piscina with the same number of threads. poolrun through its library (map, submit) and its CLI.
 */
import { join } from 'node:path';
import {
  alternate,
  benchOptions,
  goal,
  printTable,
  poolrunCmd,
  rowOf,
  saveResult,
  withRatios,
  NODE,
  BENCH,
} from './lib.mjs';

const opts = benchOptions();
const n = opts.quick ? 10_000 : 100_000;
const workers = 2;
const side = (name, lib) => ({
  name,
  cmd: [NODE, join(BENCH, 'sides', 'pool-square.mjs'), lib, String(n), String(workers)],
  stdout: 'capture',
  parse: (out) => JSON.parse(out.trim().split('\n').pop()),
});
const args = Array.from({ length: n }, (_, i) => String(i));
const sides = [
  side('piscina', 'piscina'),
  side('poolrun map', 'poolrun-thread-map'),
  side('poolrun submit', 'poolrun-thread-submit'),
  side('tinypool threads', 'tinypool-thread'),
  {
    name: 'poolrun CLI --call',
    cmd: poolrunCmd('-q', '-w', String(workers), '--call', `${join(BENCH, 'tasks.mjs')}#square`, ...args),
    ops: n,
  },
];
const rows = withRatios(await alternate(sides, opts), 'piscina');
const entry = {
  id: 'B2',
  title: `${n.toLocaleString('en-US')} calls of square, ${workers} worker threads`,
  reference: 'piscina',
  rows,
  goals: [
    goal('poolrun map ≥ 1.0× piscina ops/s', rowOf(rows, 'poolrun map').ratio, '>=', 1.0),
    goal('poolrun submit ≥ 1.0× piscina ops/s', rowOf(rows, 'poolrun submit').ratio, '>=', 1.0),
  ],
  notes: [
    'library sides: ops/s from creating the pool to the last result, inside the process',
    'the CLI side: ops/s from its wall time (Node start-up and printing every value included)',
  ],
};
printTable(entry);
saveResult(entry, opts);
