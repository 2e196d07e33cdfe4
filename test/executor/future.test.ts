/** Future's transitions, as CPython's concurrent.futures.Future makes them (unit: no pool). */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../helpers.js';
import { Future } from '../../src/executor/future.js';
import { CancelledError, InvalidStateError, PoolrunError } from '../../src/errors.js';

describe('Future transitions', () => {
  it('setResult on a finished future throws InvalidStateError and keeps the first value', async () => {
    const f = new Future<number>();
    f.setResult(1);
    expect(() => f.setResult(2)).toThrow(InvalidStateError);
    expect(() => f.setException(new Error('late'))).toThrow(InvalidStateError);
    expect(await f.result()).toBe(1);
  });

  it('setException on a failed future throws InvalidStateError and keeps the first error', async () => {
    const f = new Future<number>();
    const first = new Error('first');
    f.setException(first);
    expect(() => f.setException(new Error('second'))).toThrow(InvalidStateError);
    expect(() => f.setResult(3)).toThrow(InvalidStateError);
    expect(await f.exception()).toBe(first);
  });

  it('setResult and setException on a cancelled future throw InvalidStateError', async () => {
    const f = new Future<number>();
    expect(f.cancel()).toBe(true);
    expect(() => f.setResult(1)).toThrow(InvalidStateError);
    expect(() => f.setException(new Error('x'))).toThrow(InvalidStateError);
    await expect(f.result()).rejects.toBeInstanceOf(CancelledError);
  });

  it('setRunning: pending → running (true), cancelled → false, running or finished → InvalidStateError', () => {
    const pending = new Future<number>();
    expect(pending.setRunning()).toBe(true);
    expect(pending.state).toBe('running');
    expect(() => pending.setRunning()).toThrow(InvalidStateError);
    pending.setResult(1);
    expect(() => pending.setRunning()).toThrow(InvalidStateError);

    const cancelled = new Future<number>();
    cancelled.cancel();
    expect(cancelled.setRunning()).toBe(false);
    expect(cancelled.state).toBe('cancelled');
  });

  it('cancel() of a running future is false and it stays running; forceCancel() does not cancel it either', async () => {
    const f = new Future<number>();
    f.setRunning();
    expect(f.cancel()).toBe(false);
    expect(f.forceCancel()).toBe(false);
    expect(f.state).toBe('running');
    expect(f.cancelled()).toBe(false);
    f.setResult(5);
    expect(await f.result()).toBe(5);
  });

  it('forceCancel() cancels a pending future without asking the executor, and leaves a finished one', async () => {
    let asked = 0;
    const f = new Future<number>(() => {
      asked++;
      return true;
    });
    expect(f.forceCancel()).toBe(true);
    expect(f.cancelled()).toBe(true);
    expect(asked).toBe(0);
    expect(f.forceCancel()).toBe(true);

    const done = new Future<number>();
    done.setResult(1);
    expect(done.forceCancel()).toBe(false);
    expect(await done.result()).toBe(1);
  });

  it('InvalidStateError is a PoolrunError', () => {
    const f = new Future<number>();
    f.setResult(1);
    try {
      f.setResult(2);
    } catch (e) {
      expect(e).toBeInstanceOf(PoolrunError);
      expect((e as Error).name).toBe('InvalidStateError');
      return;
    }
    throw new Error('no error');
  });
});

describe('Future through the executor', () => {
  it('a task waiting for its retry is not marked cancelled by shutdown({cancelFutures}): it has started', async () => {
    const { ThreadPoolExecutor, task } = await import('../../dist/index.js');
    let retrying!: () => void;
    const retried = new Promise<void>((r) => (retrying = r));
    const ex = new ThreadPoolExecutor({
      maxWorkers: 1,
      retries: 1,
      retryDelay: 60_000,
      onEvent: (e) => {
        if (e.event === 'retry') retrying();
      },
    });
    const f = ex.submit(task(join(FIXTURES, 'tasks.mjs'), 'fail'), 'no');
    await retried;
    expect(f.running()).toBe(true);
    await ex.shutdown({ cancelFutures: true });
    expect(f.cancelled()).toBe(false);
    expect(f.done()).toBe(true);
    // dist's class, not src's: compared by name.
    expect(await f.exception()).toMatchObject({ name: 'CancelledError' });
  });
});

describe('the published types', () => {
  it('hold none of the executor-only (@internal) members', () => {
    const future = readFileSync(join(ROOT, 'dist', 'executor', 'future.d.ts'), 'utf8');
    for (const m of ['setRunning', 'setResult', 'setException', 'forceCancel', 'settled', 'onCancel'])
      expect(future).not.toMatch(new RegExp(`\\b${m}\\b`));
    const executor = readFileSync(join(ROOT, 'dist', 'executor', 'executor.d.ts'), 'utf8');
    for (const m of ['submitJobs', 'cancelPending', 'killJob', 'killRunning', 'spawnsKnown', 'JobRunner'])
      expect(executor).not.toMatch(new RegExp(`\\b${m}\\b`));
    // What users call is still there.
    for (const m of ['cancel', 'result', 'exception', 'addDoneCallback'])
      expect(future).toMatch(new RegExp(`\\b${m}[<(]`));
    for (const m of ['submit', 'map', 'shutdown']) expect(executor).toMatch(new RegExp(`\\b${m}[<(]`));
  });
});
