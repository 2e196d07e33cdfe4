import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  ThreadPoolExecutor,
  ProcessPoolExecutor,
  type Future,
  task,
  asCompleted,
  wait,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  TimeoutError,
  CancelledError,
  BrokenWorkerError,
  ShutdownError,
  RemoteError,
  type Executor,
} from '../../dist/index.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FIXTURES, pidAlive, tempDir, waitFor } from '../helpers.js';

const tasks = join(FIXTURES, 'tasks.mjs');
import type * as T from '../fixtures/tasks.mjs';
import { pools } from './pools.js';
const square = task<typeof T.square>(tasks, 'square');
const slowSquare = task<typeof T.slowSquare>(tasks, 'slowSquare');
const squareWithPid = task<typeof T.squareWithPid>(tasks, 'squareWithPid');
const sayHi = task<typeof T.sayHi>(tasks, 'sayHi');
const sleepMs = task<typeof T.sleepMs>(tasks, 'sleepMs');
const sleepAsync = task<typeof T.sleepAsync>(tasks, 'sleepAsync');
const untilFile = task<typeof T.untilFile>(tasks, 'untilFile');

describe.each(Object.entries(pools))('%s pool: the seed, as library calls', (mode, make) => {
  it('say_hi for 9 guests on max 10 workers: every future resolves, on distinct workers', async () => {
    const ex = make({ maxWorkers: 10 });
    const futures: Future<Awaited<ReturnType<typeof T.sayHi>>>[] = [];
    for (let i = 1; i < 10; i++) futures.push(ex.submit(sayHi, `guest${i}`));
    const results = [];
    for (const f of futures) results.push(await f.result());
    await ex.shutdown();
    expect(results.map((r) => r.line.split(' ')[1])).toEqual(
      Array.from({ length: 9 }, (_, i) => `guest${i + 1}`),
    );
    if (mode === 'thread') {
      expect(new Set(results.map((r) => r.threadId)).size).toBeGreaterThan(1);
      expect(new Set(results.map((r) => r.pid))).toEqual(new Set([process.pid]));
    } else {
      expect(new Set(results.map((r) => r.pid)).size).toBeGreaterThan(1);
      expect(results.every((r) => r.pid !== process.pid)).toBe(true);
    }
  });

  it('submit().result() in a loop is serial; submitting first, then waiting, is parallel', async () => {
    // Told by what runs at once (started and finished events), not by a stopwatch: a loaded machine slows both.
    let running = 0;
    let most = 0;
    const ex = make({
      maxWorkers: 9,
      onEvent: (e) => {
        if (e.event === 'started') most = Math.max(most, ++running);
        if (e.event === 'finished') running--;
      },
    });
    for (let i = 0; i < 9; i++) await ex.submit(sleepAsync, 20).result();
    expect(most).toBe(1);
    // Nine calls that each wait for a file: it is made only once all nine run at once.
    const t = tempDir();
    try {
      const go = join(t.dir, 'go');
      most = 0;
      const fs = Array.from({ length: 9 }, () => ex.submit(untilFile, go, 'done'));
      expect(await waitFor(() => most === 9, 30_000)).toBe(true);
      writeFileSync(go, '');
      for (const f of fs) expect(await f.result()).toBe('done');
    } finally {
      await ex.shutdown();
      t.cleanup();
    }
  });

  it('map(square, 1..10, {timeout: 2000}) with 5 sleeping 10 s: 1, 4, 9, 16, then TimeoutError', async () => {
    const ex = make({ maxWorkers: 10 });
    // Start all ten workers first: the deadline is about the work, not about forking ten processes under load.
    await Promise.all(Array.from({ length: 10 }, () => ex.submit(sleepMs, 200).result()));
    const seen: number[] = [];
    const t0 = performance.now();
    let error: unknown;
    try {
      for await (const sq of ex.map(slowSquare, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], {
        timeout: 2000,
        chunksize: 1,
      })) {
        seen.push(sq);
      }
    } catch (e) {
      error = e;
    }
    const elapsed = performance.now() - t0;
    expect(seen).toEqual([1, 4, 9, 16]);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeGreaterThan(1900);
    expect(elapsed).toBeLessThan(6000);
    // As in Python, the timeout stopped the waiting, not the work: kill it so the test does not wait 10 s.
    await ex.shutdown({ kill: true });
  });

  it('map yields in input order even when later items finish first', async () => {
    const ex = make({ maxWorkers: 4 });
    const out: number[] = [];
    for await (const v of ex.map(sleepAsync, [300, 10, 200, 20, 100, 30])) out.push(v);
    await ex.shutdown();
    expect(out).toEqual([300, 10, 200, 20, 100, 30]);
  });

  it('map over an async iterable with buffersize keeps at most buffersize submitted ahead', async () => {
    const ex = make({ maxWorkers: 2 });
    let produced = 0;
    async function* numbers() {
      for (let i = 1; i <= 20; i++) {
        await Promise.resolve();
        produced++;
        yield i;
      }
    }
    const out: number[] = [];
    const aheadSeen: number[] = [];
    for await (const v of ex.map(square, numbers(), { buffersize: 3 })) {
      out.push(v);
      aheadSeen.push(produced - out.length);
    }
    await ex.shutdown();
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) ** 2));
    expect(Math.max(...aheadSeen)).toBeLessThanOrEqual(3);
  });

  it('leaving a map loop early cancels the futures that have not started', async () => {
    const events: string[] = [];
    const ex2 = make({
      maxWorkers: 1,
      onEvent: (e) => e.event === 'finished' && events.push(e.result.status),
    });
    for await (const v of ex2.map(sleepMs, [50, 50, 50, 50, 50, 50])) {
      expect(v).toBe(50);
      break;
    }
    await ex2.shutdown();
    expect(events.filter((s) => s === 'succeeded').length).toBeLessThanOrEqual(2);
    expect(events.filter((s) => s === 'cancelled').length).toBeGreaterThanOrEqual(4);
  });

  it('a throwing task rejects its future with the original name, message and stack', async () => {
    const ex = make({ maxWorkers: 1 });
    const f = ex.submit(task<typeof T.fail>(tasks, 'fail'), 'bad input');
    const e = (await f.exception()) as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.name).toBe('RangeError');
    expect(e.message).toBe('bad input');
    expect(e.stack).toContain('tasks.mjs');
    await expect(f.result()).rejects.toThrow('bad input');
    // The worker is still fine.
    expect(await ex.submit(square, 7).result()).toBe(49);
    await ex.shutdown();
  });

  it('a value that cannot be cloned fails the call with a clear error, the worker lives on', async () => {
    const ex = make({ maxWorkers: 1 });
    const e = (await ex.submit(task(tasks, 'notCloneable')).exception()) as Error;
    expect(e.message).toMatch(/cannot be sent to the main thread/);
    expect(await ex.submit(square, 3).result()).toBe(9);
    await ex.shutdown();
  });

  it('an unknown export or module fails that call with a clear error', async () => {
    const ex = make({ maxWorkers: 1 });
    const e1 = (await ex.submit(task(tasks, 'nope')).exception()) as Error;
    expect(e1.message).toMatch(/has no exported function "nope" \(it exports: .*square/);
    const e2 = (await ex.submit(task(join(FIXTURES, 'missing.mjs'), 'f')).exception()) as Error;
    expect(e2.message).toMatch(/Cannot find module|missing\.mjs/);
    await ex.shutdown();
  });
});

describe('process pool: chunksize', () => {
  it('map over 10 items with chunksize 5 uses at most 2 worker processes; chunksize 1 uses more', async () => {
    const ex5 = new ProcessPoolExecutor({ maxWorkers: 10 });
    const r5: { pid: number }[] = [];
    for await (const r of ex5.map(squareWithPid, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { chunksize: 5 }))
      r5.push(r);
    await ex5.shutdown();
    const ex1 = new ProcessPoolExecutor({ maxWorkers: 10 });
    const r1: { pid: number }[] = [];
    for await (const r of ex1.map(squareWithPid, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { chunksize: 1 }))
      r1.push(r);
    await ex1.shutdown();
    expect(new Set(r5.map((r) => r.pid)).size).toBeLessThanOrEqual(2);
    expect(new Set(r1.map((r) => r.pid)).size).toBeGreaterThan(2);
  });

  it('chunksize has no effect in a thread pool (accepted, results unchanged)', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 4 });
    const out: number[] = [];
    for await (const v of ex.map(square, [1, 2, 3, 4, 5, 6], { chunksize: 5 })) out.push(v);
    await ex.shutdown();
    expect(out).toEqual([1, 4, 9, 16, 25, 36]);
  });
});

describe.each(Object.entries(pools))('%s pool: a crashed worker fails only its own job', (mode, make) => {
  const crashes: Array<[string, string, unknown[], RegExp]> = [
    ['process.exit(3)', 'exitWorker', [3], /died while running this job: exit code 3/],
    [
      'an uncaught async throw',
      'throwLater',
      ['kaboom'],
      /died while running this job: uncaught Error: kaboom/,
    ],
  ];
  if (mode === 'process')
    crashes.push([
      'SIGKILL to itself',
      'killSelf',
      ['SIGKILL'],
      /died while running this job: killed by SIGKILL/,
    ]);

  it.each(crashes)(
    '%s: BrokenWorkerError for it, the other 20 jobs succeed, the worker is replaced',
    async (_n, fn, args, message) => {
      const ex = make({ maxWorkers: 3 });
      const others = Array.from({ length: 20 }, (_, i) => ex.submit(sleepAsync, 20 + (i % 5) * 10));
      const crash = ex.submit(task(tasks, fn), ...args);
      const more = Array.from({ length: 5 }, (_, i) => ex.submit(square, i));
      const err = await crash.exception();
      expect(err).toBeInstanceOf(BrokenWorkerError);
      expect((err as Error).message).toMatch(message);
      for (const f of others) expect(await f.result()).toBeGreaterThanOrEqual(20);
      expect(await Promise.all(more.map((f) => f.result()))).toEqual([0, 1, 4, 9, 16]);
      await ex.shutdown();
    },
  );

  it('a call that outlives its task timeout is stopped: its worker is ended and replaced', async () => {
    const ex = make({ maxWorkers: 1 });
    const t0 = performance.now();
    const stuck = ex.submit(task<typeof T.sleepMs>(tasks, 'sleepMs', { timeout: 300 }), 10_000);
    const err = await stuck.exception();
    expect(err).toBeInstanceOf(TimeoutError);
    // Stopped, not left to sleep its 10 s (the bound leaves seconds for a worker process starting under load).
    expect(performance.now() - t0).toBeLessThan(8000);
    expect(await ex.submit(square, 12).result()).toBe(144);
    await ex.shutdown();
  });

  it('an initializer that throws makes the pool give up after a few workers, not respawn forever', async () => {
    // The initializer notes each worker that runs it, then throws as failInit does.
    const t = tempDir();
    const starts = join(t.dir, 'starts');
    const mod = join(t.dir, 'init.mjs');
    writeFileSync(
      mod,
      `import { appendFileSync } from 'node:fs';
export function noteAndFail(file) { appendFileSync(file, 'x'); throw new Error('initializer refused to start'); }\n`,
    );
    const count = () => (existsSync(starts) ? readFileSync(starts, 'utf8').length : 0);
    try {
      const ex = make({ maxWorkers: 2, initializer: task(mod, 'noteAndFail'), initargs: [starts] });
      const fs = Array.from({ length: 5 }, (_, i) => ex.submit(square, i));
      for (const f of fs) {
        const e = await f.exception();
        expect(e).toBeInstanceOf(BrokenWorkerError);
        expect((e as Error).message).toMatch(/workers cannot start.*initializer refused to start/);
      }
      // Three in a row died (README); with two starting at once, a fourth may have been on its way. A second
      // later (an absence cannot be polled for) no other worker has tried: a respawning pool starts one every
      // few milliseconds.
      await new Promise((r) => setTimeout(r, 1000));
      const tried = count();
      await ex.shutdown();
      expect(tried).toBeGreaterThanOrEqual(3);
      expect(tried).toBeLessThanOrEqual(4);
      expect(count()).toBe(tried);
    } finally {
      t.cleanup();
    }
  });

  it('an initializer runs in each worker before its first job', async () => {
    const ex = make({ maxWorkers: 2, initializer: task(tasks, 'init'), initargs: [42] });
    const vals = await Promise.all(
      Array.from({ length: 4 }, () => ex.submit(task(tasks, 'readInit')).result()),
    );
    expect(vals).toEqual([42, 42, 42, 42]);
    await ex.shutdown();
  });

  it('initargs reach each worker as a structured clone (Map, Date, undefined, NaN, bigint, cycles)', async () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const ex = make({
      maxWorkers: 1,
      initializer: task(tasks, 'initArgs'),
      initargs: [new Map([[1, 2]]), new Date(0), undefined, NaN, 1n, cyclic],
    });
    expect(await ex.submit(task(tasks, 'describeInitArgs')).result()).toEqual([
      'Map [[1,2]]',
      'Date 0',
      'undefined',
      'number NaN',
      'bigint 1',
      'cyclic',
    ]);
    await ex.shutdown();
  });
});

describe('Future', () => {
  it('result({timeout}) rejects TimeoutError and does not stop the job', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const f = ex.submit(sleepAsync, 1000);
    expect(await waitFor(() => f.running(), 5000)).toBe(true);
    await expect(f.result({ timeout: 50 })).rejects.toBeInstanceOf(TimeoutError);
    expect(f.running()).toBe(true);
    expect(await f.result()).toBe(1000);
    expect(f.done()).toBe(true);
    await ex.shutdown();
  });

  it('states: pending → running → finished; cancel() is true only while pending', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const a = ex.submit(sleepAsync, 1000);
    const b = ex.submit(sleepAsync, 10);
    expect(a.state).toBe('pending');
    // Running once a worker has it (worker start-up takes a while on a loaded machine).
    expect(await waitFor(() => a.running(), 5000)).toBe(true);
    expect(a.cancel()).toBe(false);
    expect(b.state).toBe('pending');
    expect(b.cancel()).toBe(true);
    expect(b.cancel()).toBe(true);
    expect(b.cancelled()).toBe(true);
    expect(b.done()).toBe(true);
    await expect(b.result()).rejects.toBeInstanceOf(CancelledError);
    expect(await a.result()).toBe(1000);
    expect(a.cancel()).toBe(false);
    expect(await a.exception()).toBeUndefined();
    await ex.shutdown();
  });

  it('addDoneCallback: called when done, at once if already done; a throwing callback breaks nothing', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const f = ex.submit(square, 6);
    const calls: string[] = [];
    f.addDoneCallback(() => {
      throw new Error('bad callback');
    });
    f.addDoneCallback((g) => calls.push(`late ${g.state}`));
    expect(await f.result()).toBe(36);
    f.addDoneCallback((g) => calls.push(`now ${g.state}`));
    expect(calls).toEqual(['late finished', 'now finished']);
    expect(await ex.submit(square, 7).result()).toBe(49);
    await ex.shutdown();
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings.some((w) => w.includes('bad callback'))).toBe(true);
  });
});

describe('Executor lifecycle', () => {
  it('shutdown({cancelFutures: true}) cancels pending futures and lets running ones finish', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
    const running = [ex.submit(sleepAsync, 1000), ex.submit(sleepAsync, 1000)];
    const pending = Array.from({ length: 5 }, () => ex.submit(sleepAsync, 300));
    expect(await waitFor(() => running.every((f) => f.running()), 5000)).toBe(true);
    await ex.shutdown({ cancelFutures: true });
    for (const f of running) expect(await f.result()).toBe(1000);
    for (const f of pending) expect(f.cancelled()).toBe(true);
  });

  it('submit after shutdown throws ShutdownError', async () => {
    const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
    await ex.shutdown();
    expect(() => ex.submit(square, 1)).toThrow(ShutdownError);
    expect(() => ex.submit({ run: 'true' })).toThrow(ShutdownError);
  });

  it('await using shuts the pool down at the end of the block', async () => {
    let ex: Executor | undefined;
    {
      await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
      ex = pool;
      expect(await pool.submit(square, 5).result()).toBe(25);
    }
    expect(() => ex.submit(square, 1)).toThrow(ShutdownError);
  });

  it('shutdown({kill: true}) kills running shell jobs, grandchildren included', async () => {
    const dir = tempDir();
    const pids = join(dir.dir, 'pids');
    const ex = new ProcessPoolExecutor({ maxWorkers: 2, killAfter: 500 });
    const f = ex.submit({ run: `sleep 30 & echo $! >> ${pids}; sleep 30 & echo $! >> ${pids}; wait` });
    const read = () => (existsSync(pids) ? readFileSync(pids, 'utf8').trim().split('\n').map(Number) : []);
    expect(await waitFor(() => read().length === 2, 10_000)).toBe(true);
    await ex.shutdown({ kill: true });
    const r = await f.result();
    expect(r.status).toBe('cancelled');
    expect(await waitFor(() => read().every((pid) => !pidAlive(pid)), 2000)).toBe(true);
    dir.cleanup();
  });
});

describe('jobs through the library', () => {
  it('submit({run}) resolves to a JobResult for success and failure alike', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
    const ok = ex.submit({ run: 'echo hi' });
    const bad = ex.submit({ id: 'bad', run: ['sh', '-c', 'echo no >&2; exit 4'] });
    const str = ex.submit('printf "%s" "$POOLRUN_WORKER"');
    expect(await ok.result()).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      stdout: 'hi\n',
      kind: 'run',
    });
    expect(await bad.result()).toMatchObject({ id: 'bad', status: 'failed', exitCode: 4, stderr: 'no\n' });
    expect(Number((await str.result()).stdout)).toBeGreaterThanOrEqual(1);
    await ex.shutdown();
  });

  it('an invalid job throws JobFileError at submit, naming the field', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    expect(() => ex.submit({ run: 'true', timout: '1s' })).toThrow(
      /unknown key "timout" \(did you mean "timeout"\?\)/,
    );
    await ex.shutdown();
  });

  it('a call job captures what the function printed and returns its value', async () => {
    const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
    const r = await ex.submit({ call: { module: tasks, export: 'shout', args: ['hey'] } }).result();
    expect(r).toMatchObject({
      status: 'succeeded',
      value: 3,
      stdout: 'HEY\n',
      stderr: 'said hey\n',
      kind: 'call',
    });
    await ex.shutdown();
  });
});

describe('asCompleted and wait', () => {
  it('asCompleted yields futures as they finish; TimeoutError when some stay unfinished', async () => {
    // Each call ends when the test creates its file: the order they finish in is the test's, whatever the load.
    const t = tempDir();
    const gate = (name: string) => join(t.dir, name);
    const ex = new ThreadPoolExecutor({ maxWorkers: 3 });
    try {
      const fs = ['a', 'b', 'c'].map((n) => ex.submit(untilFile, gate(n), n));
      const completed = asCompleted(fs)[Symbol.asyncIterator]();
      const order: string[] = [];
      for (const n of ['b', 'c', 'a']) {
        writeFileSync(gate(n), '');
        const next = await completed.next();
        order.push(await next.value!.result());
      }
      expect(order).toEqual(['b', 'c', 'a']);
      expect((await completed.next()).done).toBe(true);
      const slow = ex.submit(untilFile, gate('slow'), 'slow');
      const got: string[] = [];
      await expect(
        (async () => {
          for await (const f of asCompleted([fs[0]!, slow], { timeout: 100 })) got.push(await f.result());
        })(),
      ).rejects.toBeInstanceOf(TimeoutError);
      expect(got).toEqual(['a']);
      expect(slow.done()).toBe(false);
      writeFileSync(gate('slow'), '');
      expect(await slow.result()).toBe('slow');
    } finally {
      writeFileSync(gate('slow'), '');
      await ex.shutdown();
      t.cleanup();
    }
  });

  it('wait: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED and timeout', async () => {
    // b and c end when the test creates their files, a at once (its file is there): which is done is the test's
    // choice, not the load's.
    const t = tempDir();
    const gate = (name: string) => join(t.dir, name);
    const ex = new ThreadPoolExecutor({ maxWorkers: 3 });
    try {
      writeFileSync(gate('a'), '');
      const a = ex.submit(untilFile, gate('a'), 'a');
      const b = ex.submit(untilFile, gate('b'), 'b');
      const first = await wait([a, b], { returnWhen: FIRST_COMPLETED });
      expect([...first.done]).toEqual([a]);
      expect([...first.notDone]).toEqual([b]);
      const boom = ex.submit(task(tasks, 'fail'), 'x');
      const c = ex.submit(untilFile, gate('c'), 'c');
      const fe = await wait([boom, c], { returnWhen: FIRST_EXCEPTION });
      expect(fe.done.has(boom)).toBe(true);
      expect(fe.notDone.has(c)).toBe(true);
      const timed = await wait([c], { timeout: 10 });
      expect(timed.notDone.has(c)).toBe(true);
      writeFileSync(gate('b'), '');
      writeFileSync(gate('c'), '');
      const all = await wait([a, b, c]);
      expect(all.done.size).toBe(3);
      expect(all.notDone.size).toBe(0);
    } finally {
      writeFileSync(gate('b'), '');
      writeFileSync(gate('c'), '');
      await ex.shutdown();
      t.cleanup();
    }
  });
});
