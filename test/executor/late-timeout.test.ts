/**
 * A call's timeout ends its worker (a blocking call cannot be stopped otherwise). When the call ends just before
 * its limit, its worker's word that it ended may still be on its way as the timer fires: the worker is ended after
 * it has gone on to the next call it held, which is not the one being stopped. That call used to fail with
 * BrokenWorkerError ("died while running this job") though it did nothing wrong (1-5 in 300 such pairs here). The
 * pool now reads what the worker sent before it ends a worker for a call's timeout; and the next call runs once
 * (a review found a first fix running it twice: begun on the ended worker, then again on the next).
 *
 * Made certain here by blocking the main thread past the limit: when it is free again its timers run before it
 * reads what the worker sent meanwhile (the first call's end; the second was sent with it, ahead).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { task, type ExecutorEvent } from '../../dist/index.js';
import { readFileSync } from 'node:fs';
import { FIXTURES, useTempDirs } from '../helpers.js';
import type * as T from '../fixtures/tasks.mjs';
import { pools } from './pools.js';

const tasks = join(FIXTURES, 'tasks.mjs');
const square = task<typeof T.square>(tasks, 'square');
const markThenSleep = task<typeof T.markThenSleep>(tasks, 'markThenSleep');
const temp = useTempDirs();
const limited = task<typeof T.sleepMs>(tasks, 'sleepMs', { timeout: 30 });

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe.each(Object.entries(pools))('%s pool: a call behind one whose timeout fires late', (_mode, make) => {
  it('runs to its end, once: it is not failed for the worker ended for the other', async () => {
    for (let round = 0; round < 3; round++) {
      const events: string[] = [];
      let firstStarted!: () => void;
      const started = new Promise<void>((resolve) => (firstStarted = resolve));
      const onEvent = (e: ExecutorEvent) => {
        if (e.event === 'started' || e.event === 'finished') events.push(`${e.event} ${e.job.index}`);
        if (e.event === 'started' && e.job.index === 8) firstStarted();
      };
      const ex = make({ maxWorkers: 1, onEvent });
      try {
        // A history of quick calls: the worker is then sent calls ahead of the one it runs.
        for (let i = 0; i < 8; i++) await ex.submit(square, i).result();
        const first = ex.submit(limited, 5);
        const marks = join(temp(), 'ran');
        const second = ex.submit(markThenSleep, marks, 300);
        // The first ends after 5 ms, the second begins; here the 30 ms limit passes unseen.
        await started;
        block(150);
        await first.exception();
        expect(await second.result()).toBe(300);
        expect(readFileSync(marks, 'utf8').trim().split('\n'), 'the second call ran once').toHaveLength(1);
      } finally {
        await ex.shutdown();
      }
      // The second call (index 9): started once, as it ran once.
      expect(events.filter((e) => e.endsWith(' 9'))).toEqual(['started 9', 'finished 9']);
    }
  });
});
