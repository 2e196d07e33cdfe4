/**
 * One side of B2/B2p: N calls of `square` through one pool library, in a fresh process. Prints one JSON line:
 * { ops, ms } measured from creating the pool to the last result (worker start-up included, for every library).
 * The sum of the results is checked, so a side that skipped work fails instead of looking fast.
 *
 *   node pool-square.mjs LIB N WORKERS [CHUNKSIZE]
 *   LIB: poolrun-thread-map | poolrun-thread-submit | poolrun-process-map | piscina | tinypool-process | tinypool-thread
 */
import { fileURLToPath } from 'node:url';

const [lib, nArg, workersArg, chunkArg] = process.argv.slice(2);
const n = Number(nArg);
const workers = Number(workersArg);
const chunksize = Number(chunkArg ?? 1);
const TASKS = new URL('../tasks.mjs', import.meta.url);
const items = Array.from({ length: n }, (_, i) => i);
const expected = items.reduce((s, i) => s + i * i, 0);

const t0 = performance.now();
let sum = 0;
switch (lib) {
  case 'poolrun-thread-map':
  case 'poolrun-process-map': {
    const { ThreadPoolExecutor, ProcessPoolExecutor, task } = await import('../../dist/index.js');
    const Ex = lib === 'poolrun-thread-map' ? ThreadPoolExecutor : ProcessPoolExecutor;
    const ex = new Ex({ maxWorkers: workers });
    for await (const v of ex.map(task(TASKS, 'square'), items, { chunksize })) sum += v;
    await ex.shutdown();
    break;
  }
  case 'poolrun-thread-submit': {
    const { ThreadPoolExecutor, task } = await import('../../dist/index.js');
    const ex = new ThreadPoolExecutor({ maxWorkers: workers });
    const t = task(TASKS, 'square');
    const values = await Promise.all(items.map((i) => ex.submit(t, i).result()));
    for (const v of values) sum += v;
    await ex.shutdown();
    break;
  }
  case 'piscina': {
    const { Piscina } = await import('piscina');
    const pool = new Piscina({ filename: fileURLToPath(TASKS), minThreads: workers, maxThreads: workers });
    const values = await Promise.all(items.map((i) => pool.run(i, { name: 'square' })));
    for (const v of values) sum += v;
    await pool.destroy();
    break;
  }
  case 'tinypool-process':
  case 'tinypool-thread': {
    const { Tinypool } = await import('tinypool');
    const pool = new Tinypool({
      filename: fileURLToPath(TASKS),
      minThreads: workers,
      maxThreads: workers,
      runtime: lib === 'tinypool-process' ? 'child_process' : 'worker_threads',
    });
    const values = await Promise.all(items.map((i) => pool.run(i, { name: 'square' })));
    for (const v of values) sum += v;
    await pool.destroy();
    break;
  }
  default:
    throw new Error(`unknown library ${lib}`);
}
const ms = performance.now() - t0;
if (sum !== expected) throw new Error(`${lib}: wrong sum ${sum}, expected ${expected}`);
process.stdout.write(`${JSON.stringify({ ops: n, ms })}\n`);
