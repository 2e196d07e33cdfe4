/**
 * How a worker's end reaches the caller (BrokenWorkerError carries the real exit), and worker processes that
 * never outlive the program that started them.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ProcessPoolExecutor, ThreadPoolExecutor, BrokenWorkerError, task } from '../dist/index.js';
import { FIXTURES } from './helpers.js';

const tasks = join(FIXTURES, 'tasks.mjs');

describe('BrokenWorkerError carries the dead worker’s exit', () => {
  it('process mode: a call that runs process.exit(7) → workerExitCode 7, no signal, its worker slot', async () => {
    const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
    const err = await ex.submit(task(tasks, 'exitWorker'), 7).exception();
    expect(err).toBeInstanceOf(BrokenWorkerError);
    expect(err).toMatchObject({ workerExitCode: 7, signal: null, worker: 1 });
    await ex.shutdown();
  });

  it('process mode: a worker killed by SIGKILL → signal SIGKILL, workerExitCode null', async () => {
    const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
    const err = await ex.submit(task(tasks, 'killSelf'), 'SIGKILL').exception();
    expect(err).toBeInstanceOf(BrokenWorkerError);
    expect(err).toMatchObject({ workerExitCode: null, signal: 'SIGKILL', worker: 1 });
    await ex.shutdown();
  });

  it('thread mode: a worker that exits with code 7 → workerExitCode 7', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const err = await ex.submit(task(tasks, 'exitWorker'), 7).exception();
    expect(err).toBeInstanceOf(BrokenWorkerError);
    expect(err).toMatchObject({ workerExitCode: 7, signal: null, worker: 1 });
    await ex.shutdown();
  });
});
