/**
 * What the library does with what a caller gets wrong: arguments a worker cannot be given, a throwing onEvent,
 * bad options, a worker initializer that throws. Real executors, real task modules in a temp folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import {
  ThreadPoolExecutor,
  ProcessPoolExecutor,
  task,
  wait,
  asCompleted,
  BrokenWorkerError,
  PoolrunError,
  UsageError,
  type Executor,
  type ExecutorEvent,
  type ExecutorOptions,
} from '../../dist/index.js';
import { tempDir, waitFor } from '../helpers.js';
import { pools } from './pools.js';

const TASKS = `
export const square = (x) => x * x;
export const echo = (x) => x;
export function initThrow() { throw new Error('the initializer failed'); }
`;

let dir: { dir: string; cleanup: () => void };
let mod: string;
beforeAll(() => {
  dir = tempDir();
  mod = join(dir.dir, 'tasks.mjs');
  writeFileSync(mod, TASKS);
});
afterAll(() => dir.cleanup());

/** Process warnings emitted while `fn` runs (and a tick after). */
async function warningsDuring(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (w: Error) => seen.push(w.message);
  process.on('warning', listener);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

describe.each(Object.entries(pools))('%s pool: an argument a worker cannot be given', (mode, make) => {
  const uncopyable: [string, unknown][] = [
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a WeakMap', new WeakMap()],
    ['an object holding a function', { f: () => 1 }],
  ];

  it.each(uncopyable)(
    '%s: its future rejects with UsageError; others and the worker go on',
    async (_, bad) => {
      const ex = make({ maxWorkers: 1 });
      const square = task(mod, 'square');
      const before = ex.submit(square, 3);
      const f = ex.submit(square, bad as number);
      const after = ex.submit(square, 4);
      const error = await f.exception();
      expect(error).toBeInstanceOf(UsageError);
      expect(error).toBeInstanceOf(PoolrunError);
      expect((error as Error).message).toMatch(
        /square\(\).*cannot be copied to a worker: .*could not be cloned/,
      );
      expect(await before.result()).toBe(9);
      expect(await after.result()).toBe(16);
      // The same worker goes on taking work.
      expect(await ex.submit(square, 5).result()).toBe(25);
      await ex.shutdown();
    },
  );

  it('a task with retries is not retried: the argument cannot be sent however often it is tried', async () => {
    const events: ExecutorEvent[] = [];
    const ex = make({ maxWorkers: 1, retries: 3, onEvent: (e) => void events.push(e) });
    const f = ex.submit(task(mod, 'square'), (() => 1) as unknown as number);
    await expect(f.result()).rejects.toBeInstanceOf(UsageError);
    await ex.shutdown();
    expect(events.filter((e) => e.event === 'retry')).toEqual([]);
    const finished = events.find((e) => e.event === 'finished');
    expect(finished?.event === 'finished' && finished.result.status).toBe('failed');
    expect(finished?.event === 'finished' && finished.result.error?.name).toBe('UsageError');
  });

  it('map with chunksize 3: only the bad item of a batch fails, the rest of it runs', async () => {
    const events: ExecutorEvent[] = [];
    const ex = make({ maxWorkers: 2, onEvent: (e) => void events.push(e) });
    const items: unknown[] = [1, 2, () => 1, 4, 5, 6, 7];
    const results = ex.map(task(mod, 'echo'), items, { chunksize: 3 });
    const finished = () => events.filter((e) => e.event === 'finished');
    await waitFor(() => finished().length === items.length, 20_000);
    const got: unknown[] = [];
    let error: unknown;
    try {
      for await (const v of results) got.push(v);
    } catch (e) {
      error = e;
    }
    expect(got).toEqual([1, 2]);
    expect(error).toBeInstanceOf(UsageError);
    const byIndex = new Map(
      finished().map((e) => (e.event === 'finished' ? [e.job.index, e.result] : [-1, undefined])),
    );
    const statuses = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r?.status);
    expect(statuses).toEqual([
      'succeeded',
      'succeeded',
      'failed',
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect(await ex.submit(task(mod, 'square'), 6).result()).toBe(36);
    await ex.shutdown();
  });

  it('initargs a worker cannot be given: the constructor throws UsageError naming them', () => {
    const initializer = task(mod, 'square');
    expect(() => make({ maxWorkers: 1, initializer, initargs: [() => 1] })).toThrow(UsageError);
    expect(() => make({ maxWorkers: 1, initializer, initargs: [Symbol('s')] })).toThrow(/initargs/);
  });
});

describe.each(Object.entries(pools))('%s pool: an onEvent callback that throws', (_, make) => {
  it('is a process warning: the futures, the pool and the events after it go on', async () => {
    let calls = 0;
    let ex: Executor | undefined;
    const warnings = await warningsDuring(async () => {
      ex = make({
        maxWorkers: 1,
        onEvent: () => {
          calls++;
          throw new Error('listener broke');
        },
      });
      const square = task(mod, 'square');
      expect(await ex.submit(square, 3).result()).toBe(9);
      expect(await ex.submit({ run: 'echo hi' }).result()).toMatchObject({ status: 'succeeded' });
      await ex.shutdown();
    });
    // queued, started, finished for each of the two jobs, and the shell job's output (`hi`).
    expect(calls).toBe(7);
    expect(warnings.filter((w) => /onEvent callback threw.*listener broke/.test(w))).toHaveLength(7);
  });

  it('an async one that rejects is a warning too, not an unhandled rejection', async () => {
    let ex: Executor | undefined;
    const warnings = await warningsDuring(async () => {
      ex = make({
        maxWorkers: 1,
        capture: { stream: true },
        onEvent: async (e) => {
          await Promise.resolve();
          throw new Error(`async listener broke on ${e.event}`);
        },
      });
      const r = await ex.submit({ run: 'echo hi' }).result();
      expect(r.status).toBe('succeeded');
      await ex.shutdown();
    });
    expect(warnings.some((w) => /async listener broke on output/.test(w))).toBe(true);
    expect(warnings.some((w) => /async listener broke on finished/.test(w))).toBe(true);
  });
});

describe('bad arguments are UsageErrors naming the option and the value', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['maxWorkers 0', { maxWorkers: 0 }, /maxWorkers.*got 0/],
    ['maxWorkers 1.5', { maxWorkers: 1.5 }, /maxWorkers.*got 1\.5/],
    ['maxWorkers NaN', { maxWorkers: NaN }, /maxWorkers.*got NaN/],
    ['maxWorkers "2"', { maxWorkers: '2' }, /maxWorkers.*got "2"/],
    ['retries -1', { retries: -1 }, /retries.*got -1/],
    ['retries 0.5', { retries: 0.5 }, /retries.*got 0\.5/],
    ['retries NaN', { retries: NaN }, /retries.*got NaN/],
    ['killAfter -5', { killAfter: -5 }, /killAfter.*got -5/],
    ['killAfter NaN', { killAfter: NaN }, /killAfter.*got NaN/],
    ['killAfter 2**40', { killAfter: 2 ** 40 }, /killAfter.*got 1099511627776/],
    ['retryDelay -1', { retryDelay: -1 }, /retryDelay.*got -1/],
    ['captureLimit 0', { captureLimit: 0 }, /captureLimit.*got 0/],
    ['captureLimit 10.5', { captureLimit: 10.5 }, /captureLimit.*got 10\.5/],
    ['capture.keep "yes"', { capture: { keep: 'yes' } }, /capture\.keep.*got "yes"/],
    ['onEvent 1', { onEvent: 1 }, /onEvent.*got 1/],
    ['initializer a function', { initializer: () => 1 }, /initializer.*got a function/],
    ['initargs not an array', { initargs: 5 }, /initargs.*got 5/],
    ['an unknown key', { maxWorker: 2 }, /unknown option "maxWorker"/],
  ];
  for (const [Pool, name] of [
    [ThreadPoolExecutor, 'ThreadPoolExecutor'],
    [ProcessPoolExecutor, 'ProcessPoolExecutor'],
  ] as const) {
    it.each(bad)(`new ${name}({%s}) throws`, (_, opts, message) => {
      let error: unknown;
      try {
        new Pool(opts);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(name);
    });
  }

  it("maxWorkers: null is the default, as Python's max_workers=None", async () => {
    for (const Pool of [ThreadPoolExecutor, ProcessPoolExecutor]) {
      const ex = new Pool({ maxWorkers: null });
      expect(ex.maxWorkers).toBe(availableParallelism());
      await ex.shutdown();
    }
  });

  it('good options, and ones left undefined, are taken', async () => {
    const ex = new ThreadPoolExecutor({
      maxWorkers: 1,
      killAfter: 0,
      retries: 0,
      retryDelay: 0,
      captureLimit: 1024,
      initargs: undefined,
      onEvent: undefined,
    });
    expect(await ex.submit(task(mod, 'square'), 2).result()).toBe(4);
    await ex.shutdown();
  });

  it('map(): chunksize and buffersize below 1 or not integers, a timeout that is not a number, a non-task', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const echo = task(mod, 'echo');
    for (const chunksize of [0, -1, 1.5, NaN])
      expect(() => ex.map(echo, [1], { chunksize })).toThrow(new RegExp(`chunksize.*got ${chunksize}`));
    expect(() => ex.map(echo, [1], { chunksize: 0 })).toThrow(UsageError);
    expect(() => ex.map(echo, [1], { buffersize: 0 })).toThrow(UsageError);
    expect(() => ex.map(echo, [1], { timeout: NaN })).toThrow(/timeout.*got NaN/);
    expect(() => ex.map(echo, [1], { chunk: 2 } as never)).toThrow(/unknown option "chunk"/);
    expect(() => ex.map((() => 1) as never, [1])).toThrow(UsageError);
    expect(() => ex.map(echo, 5 as never)).toThrow(/items.*got 5/);
    const got: unknown[] = [];
    for await (const v of ex.map(echo, [1, 2], { chunksize: 2 })) got.push(v);
    expect(got).toEqual([1, 2]);
    await ex.shutdown();
  });

  it("wait(): returnWhen that is not one of the three, a timeout that is not a number; asCompleted's and result()'s timeouts", async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const f = ex.submit(task(mod, 'square'), 2);
    await expect(wait([f], { returnWhen: 'BOGUS' as never })).rejects.toThrow(UsageError);
    await expect(wait([f], { returnWhen: 'BOGUS' as never })).rejects.toThrow(/returnWhen.*"BOGUS"/);
    await expect(wait([f], { timeout: 'soon' as never })).rejects.toThrow(/timeout.*"soon"/);
    await expect(asCompleted([f], { timeout: NaN }).next()).rejects.toThrow(UsageError);
    await expect(f.result({ timeout: NaN })).rejects.toThrow(/result\(\): timeout.*got NaN/);
    expect(() => f.addDoneCallback(5 as never)).toThrow(UsageError);
    const { done } = await wait([f], { returnWhen: 'FIRST_COMPLETED', timeout: null });
    expect(done.has(f)).toBe(true);
    // A timeout past what a timer can wait (~24.8 days) waits, rather than firing at once.
    expect(await f.result({ timeout: 2 ** 40 })).toBe(4);
    await ex.shutdown();
  });

  it('task(): a bad module, export name, timeout or retries', () => {
    expect(() => task(5 as never)).toThrow(UsageError);
    expect(() => task(mod, '')).toThrow(/exportName/);
    expect(() => task(mod, 'square', { timeout: 0 })).toThrow(/timeout.*got 0/);
    expect(() => task(mod, 'square', { retries: -1 })).toThrow(/retries.*got -1/);
    expect(() => task(mod, 'square', { retry: 1 } as never)).toThrow(/unknown option "retry"/);
    // Another scheme was taken for a relative path (probe: "Cannot find module '<cwd>/http:/…'" at the first call).
    for (const m of ['http://example.com/x.mjs', 'https://e/x.mjs', new URL('ftp://e/x.mjs'), 'npm:poolrun'])
      expect(() => task(m, 'f'), String(m)).toThrow(/module must be a path, or a file:, node: or data: URL/);
    for (const m of [
      'node:os',
      'data:text/javascript,export const f = 1',
      'file:///x.mjs',
      './x.mjs',
      '/abs/x.mjs',
    ])
      expect(() => task(m, 'f'), m).not.toThrow();
  });
});

describe.each([
  ['thread', (o: ExecutorOptions) => new ThreadPoolExecutor(o), 1],
  ['process', (o: ExecutorOptions) => new ProcessPoolExecutor(o), 70],
] as const)('%s pool: an initializer that throws', (_, make, code) => {
  it("fails futures with BrokenWorkerError carrying the last failed worker's exit code, signal and slot", async () => {
    const ex = make({ maxWorkers: 1, initializer: task(mod, 'initThrow') });
    const square = task(mod, 'square');
    const error = await ex.submit(square, 2).exception();
    expect(error).toBeInstanceOf(BrokenWorkerError);
    const e = error as InstanceType<typeof BrokenWorkerError>;
    expect(e.message).toMatch(/the initializer failed/);
    expect(e.workerExitCode).toBe(code);
    expect(e.signal).toBeNull();
    expect(e.worker).toBe(1);
    // Submitted once the pool is broken: the same.
    const later = (await ex.submit(square, 3).exception()) as InstanceType<typeof BrokenWorkerError>;
    expect(later).toBeInstanceOf(BrokenWorkerError);
    expect([later.workerExitCode, later.signal, later.worker]).toEqual([code, null, 1]);
    await ex.shutdown();
  });
});
