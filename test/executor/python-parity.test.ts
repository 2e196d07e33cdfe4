/**
 * What a user of Python's concurrent.futures expects of the library, found wrong by an acceptance probe:
 * - a task that returns nothing resolves to `undefined` (Python: None), not `null` (results files still say null);
 * - `wait([])` settles at once for every returnWhen (it never settled with FIRST_COMPLETED);
 * - an error's numeric `code` (an HTTP status) reaches the caller, as its other plain properties do;
 * - a huge `maxWorkers` costs nothing until workers are needed (`1e8` took 8 GB, `1e9` aborted Node).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import {
  ThreadPoolExecutor,
  task,
  wait,
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  RemoteError,
  UsageError,
  asCompleted,
  type Future,
} from '../../dist/index.js';
import { poolrun, readJson, useTempDirs } from '../helpers.js';
import { pools } from './pools.js';

const temp = useTempDirs('all');

/** A module of tasks in a temp folder of its own. */
function tasksModule(): string {
  const file = join(temp(), 'parity.mjs');
  writeFileSync(
    file,
    [
      'export function nothing() {}',
      'export async function nothingLater() { await null; }',
      'export function nested() { return { a: undefined, b: [undefined, 1] }; }',
      'export function explicitNull() { return null; }',
      'export function coded(code) { const e = new Error("failed"); e.code = code; e.status = 404; throw e; }',
    ].join('\n'),
  );
  return file;
}

describe.each(Object.entries(pools))('%s pool: as Python would', (_mode, make) => {
  it('a task that returns nothing resolves to undefined (submit and map); null stays null', async () => {
    const m = tasksModule();
    const ex = make({ maxWorkers: 2 });
    try {
      expect(await ex.submit(task(m, 'nothing')).result()).toBeUndefined();
      expect(await ex.submit(task(m, 'nothingLater')).result()).toBeUndefined();
      expect(await ex.submit(task(m, 'explicitNull')).result()).toBeNull();
      expect(await ex.submit(task(m, 'nested')).result()).toEqual({ a: undefined, b: [undefined, 1] });
      const got: unknown[] = [];
      for await (const v of ex.map(task(m, 'nothing'), [1, 2, 3])) got.push(v);
      expect(got).toEqual([undefined, undefined, undefined]);
      expect(got.every((v) => v === undefined)).toBe(true);
    } finally {
      await ex.shutdown();
    }
  });

  it("an error's code reaches the caller whatever its plain type: string, number, boolean", async () => {
    const m = tasksModule();
    const ex = make({ maxWorkers: 1 });
    try {
      for (const code of ['ENOPE', 404, 0, -1.5, true, false]) {
        const e = (await ex.submit(task(m, 'coded'), code).exception()) as RemoteError & { status?: number };
        expect(e, String(code)).toBeInstanceOf(RemoteError);
        expect(e.code, String(code)).toBe(code);
        expect(e.status).toBe(404);
        expect(e.message).toBe('failed');
      }
    } finally {
      await ex.shutdown();
    }
  });

  it('a huge maxWorkers starts only the workers the work needs, at once', async () => {
    const m = tasksModule();
    for (const maxWorkers of [1e7, 1e9]) {
      const before = process.memoryUsage().rss;
      const t0 = performance.now();
      const ex = make({ maxWorkers });
      try {
        const results = await Promise.all([1, 2, 3].map(() => ex.submit(task(m, 'nothing')).result()));
        expect(results).toEqual([undefined, undefined, undefined]);
        // Not a timing test: a pool that sized an array by maxWorkers took seconds and gigabytes here.
        expect(process.memoryUsage().rss - before, String(maxWorkers)).toBeLessThan(200e6);
        expect(performance.now() - t0, String(maxWorkers)).toBeLessThan(20_000);
      } finally {
        await ex.shutdown();
      }
    }
  });
});

describe('wait() on no futures', () => {
  it('settles at once with empty sets, for every returnWhen, with and without a timeout', async () => {
    for (const returnWhen of [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED] as const) {
      for (const opts of [{ returnWhen }, { returnWhen, timeout: 60_000 }]) {
        const r = await Promise.race([
          wait([], opts),
          new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 5000)),
        ]);
        expect(r, returnWhen).not.toBe('pending');
        expect(r).toEqual({ done: new Set(), notDone: new Set() });
      }
    }
  });
});

describe('wait() and asCompleted() on what is not an iterable of futures', () => {
  it('say so (UsageError naming the argument), as Python raises TypeError, instead of taking it as empty', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      const f = ex.submit({ run: 'true' });
      const bad: Array<[unknown, RegExp]> = [
        [null, /futures must be an iterable of Futures, got null/],
        [undefined, /futures must be an iterable of Futures, got undefined/],
        [5, /futures must be an iterable of Futures, got 5/],
        ['ab', /futures must be an iterable of Futures, got "ab"/],
        [{}, /futures must be an iterable of Futures/],
        [[f, 5], /futures\[1\] is not a Future, got 5/],
        [[f, f, { done: () => true }], /futures\[2\] is not a Future/],
      ];
      for (const [arg, msg] of bad) {
        const asIs = arg as Future<unknown>[];
        await expect(wait(asIs), String(arg)).rejects.toThrow(UsageError);
        await expect(wait(asIs), String(arg)).rejects.toThrow(msg);
        await expect(asCompleted(asIs).next(), String(arg)).rejects.toThrow(msg);
      }
      // A Set, a generator and duplicates are fine.
      await f.result();
      expect((await wait(new Set([f]))).done.size).toBe(1);
      expect(
        (
          await wait(
            (function* () {
              yield f;
              yield f;
            })(),
          )
        ).done.size,
      ).toBe(1);
    } finally {
      await ex.shutdown();
    }
  });
});

describe('the CLI keeps null for a call that returns nothing (results are JSON)', () => {
  it('--json value is null', async () => {
    const m = tasksModule();
    const dir = temp();
    const json = join(dir, 'r.json');
    const jobs = join(dir, 'jobs.json');
    writeFileSync(jobs, JSON.stringify([{ call: { module: m, export: 'nothing' } }]));
    const r = await poolrun(['-q', '--json', json, jobs]);
    expect(r.code, r.stderr).toBe(0);
    expect(readJson(json).results[0]!.value).toBeNull();
  });
});
