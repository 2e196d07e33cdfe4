/**
 * The pool on its own (issue 14 item 7): its workers are fakes (a WorkerHandle the test speaks for), so what
 * the pool sends, when it starts and ends workers, and how it reports each attempt are seen message by message.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  WorkerPool,
  type Attempt,
  type AttemptResult,
  type PoolOptions,
  type StartInfo,
} from '../../src/pool/pool.js';
import { ProcessGroups } from '../../src/proc/groups.js';
import { FakeWorker } from './fake-worker.js';
import type { WireOutcome } from '../../src/pool/protocol.js';
import type { Job, JobCommon } from '../../src/kinds/types.js';

/** Process groups as the pool asks for them, recorded and never signalled. */
class RecordedGroups extends ProcessGroups {
  readonly calls: string[] = [];
  override add(pgid: number, parent?: number): void {
    this.calls.push(`add ${pgid} ${parent}`);
  }
  override release(pgid: number): void {
    this.calls.push(`release ${pgid}`);
  }
  override terminate(pgid: number): void {
    this.calls.push(`terminate ${pgid}`);
  }
  override kill(pgid: number): void {
    this.calls.push(`kill ${pgid}`);
  }
  /** The fake groups have living processes until a test says otherwise. */
  readonly exited = new Set<number>();
  override alive(pgid: number): boolean {
    return !this.exited.has(pgid);
  }
}

interface Probe extends Attempt {
  started?: StartInfo;
  result?: AttemptResult;
}

const events: string[] = [];

function probe(job: Job): Probe {
  const p: Probe = {
    job,
    onStart(info) {
      p.started = info;
      events.push(`start ${job.id}`);
    },
    onOutput() {
      return undefined;
    },
    onDone(r) {
      p.result = r;
      events.push(`done ${job.id}`);
    },
  };
  return p;
}

const call = (id: string, more: Partial<JobCommon> = {}): Job => ({
  id,
  index: 0,
  kind: 'call',
  call: { module: 'file:///nowhere.mjs', export: 'f', args: [] },
  ...more,
});
const shell = (id: string, more: Partial<JobCommon> = {}): Job => ({
  id,
  index: 0,
  kind: 'run',
  run: 'true',
  ...more,
});
const copy = (id: string, more: Partial<JobCommon> = {}): Job => ({
  id,
  index: 0,
  kind: 'copy',
  copy: { from: '/nowhere/a', to: '/nowhere/b', overwrite: false },
  ...more,
});

function makePool(size: number, more: Partial<PoolOptions> = {}) {
  events.length = 0;
  const workers: FakeWorker[] = [];
  const groups = new RecordedGroups();
  const pool = new WorkerPool({
    mode: 'thread',
    size,
    killAfterMs: 20,
    groups,
    capture: { stream: true, keep: true, spill: false, limit: 1 << 20, spillDir: '/nowhere' },
    startWorker: () => {
      const w = new FakeWorker();
      workers.push(w);
      return w;
    },
    ...more,
  });
  /** Submits one unit per argument (a chunk when it holds several jobs); returns every attempt, in order. */
  const submit = (...units: Job[][]): Probe[] =>
    units.flatMap((u) => pool.submit(u.map(probe)).map((t) => t.attempt as Probe));
  return { pool, workers, groups, submit };
}

/** Lets the pool's deferred dispatch run. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('dispatch', () => {
  it('starts workers only for the work there is, and hands units out in the order they were submitted', async () => {
    const { workers, submit } = makePool(4);
    const [a, b, c] = submit([call('a')], [call('b')], [call('c')]);
    await tick();
    expect(workers).toHaveLength(3);
    // Nothing is sent to a worker before it is ready.
    expect(workers.map((w) => w.sent)).toEqual([[], [], []]);
    const [w1, w2] = workers;
    w2!.ready();
    w1!.ready();
    expect(w2!.batches()).toEqual([['a']]);
    expect(w1!.batches()).toEqual([['b']]);
    expect(a!.started).toMatchObject({ worker: 2, pid: w2!.pid, threadId: 0 });
    w2!.done(w2!.key('a'), { value: 42 });
    expect(a!.result).toMatchObject({ status: 'succeeded', worker: 2, pid: w2!.pid, value: 42 });
    // c goes to the first worker free, not to the one still starting.
    await tick();
    expect(w2!.batches()).toEqual([['a'], ['c']]);
    expect(c!.started?.worker).toBe(2);
    workers[2]!.ready();
    expect(workers[2]!.sent).toEqual([]);
    expect(b!.result).toBeUndefined();
  });

  it('sends a unit to one worker in one message; its jobs start one after another', async () => {
    const { workers, submit } = makePool(3);
    const [a, b] = submit([call('a'), call('b')]);
    await tick();
    expect(workers).toHaveLength(1);
    const w = workers[0]!;
    w.ready();
    expect(w.batches()).toEqual([['a', 'b']]);
    expect(events).toEqual(['start a']);
    w.done(w.key('a'));
    expect(events).toEqual(['start a', 'done a', 'start b']);
    w.done(w.key('b'));
    expect(a!.result?.status).toBe('succeeded');
    expect(b!.result).toMatchObject({ status: 'succeeded', worker: 1 });
  });

  it('sends calls ahead to a worker whose calls are quick, never shell jobs', async () => {
    const { workers, submit } = makePool(1);
    submit([call('a')]);
    await tick();
    const w = workers[0]!;
    w.ready();
    w.done(w.key('a'), { durationMs: 1 });
    submit([call('b')], [call('c')], [call('d')]);
    await tick();
    // b takes the free worker; c and d go after it at once, in one message (10 ms of 1 ms calls ahead).
    expect(w.batches()).toEqual([['a'], ['b'], ['c', 'd']]);
    for (const id of ['b', 'c', 'd']) w.done(w.key(id), { durationMs: 1 });
    await tick();
    submit([shell('x')], [shell('y')]);
    await tick();
    expect(w.batches().slice(3)).toEqual([['x']]);
    w.done(w.key('x'));
    await tick();
    expect(w.batches().slice(3)).toEqual([['x'], ['y']]);
  });

  it('a quick worker gets no work ahead while a worker is started for the queue, in the same dispatch', async () => {
    const { workers, submit } = makePool(2);
    submit([call('quick')]);
    await tick();
    const w1 = workers[0]!;
    w1.ready();
    w1.done(w1.key('quick'), { durationMs: 1 });
    await tick();
    // Two calls: w1 takes one; the other is for the worker started now, not ahead on w1 (its history says 1 ms,
    // and the call may take a second: the pool would lose its width).
    submit([call('a')], [call('b')]);
    await tick();
    expect(workers).toHaveLength(2);
    expect(w1.batches()).toEqual([['quick'], ['a']]);
    workers[1]!.ready();
    expect(workers[1]!.batches()).toEqual([['b']]);
  });

  it('work ahead is split between the busy workers, never all behind one', async () => {
    const { workers, submit } = makePool(2);
    submit([call('q1')], [call('q2')]);
    await tick();
    const [w1, w2] = workers as [FakeWorker, FakeWorker];
    w1.ready();
    w2.ready();
    w1.done(w1.key('q1'), { durationMs: 1 });
    w2.done(w2.key('q2'), { durationMs: 1 });
    await tick();
    const ids = Array.from({ length: 8 }, (_, i) => `c${i}`);
    submit(...ids.map((id) => [call(id)]));
    await tick();
    // Each holds the call it runs and three ahead: 10 ms of 1 ms calls would have let w1 take all six.
    expect(w1.batches().slice(1)).toEqual([['c0'], ['c2', 'c3', 'c4']]);
    expect(w2.batches().slice(1)).toEqual([['c1'], ['c5', 'c6', 'c7']]);
  });

  it('cancels a queued attempt or one sent ahead, never a running one', async () => {
    const { pool, workers } = makePool(1);
    pool.submit([probe(call('a'))]);
    await tick();
    const w = workers[0]!;
    w.ready();
    w.done(w.key('a'), { durationMs: 1 });
    const [tb] = pool.submit([probe(call('b'))]);
    const [tc] = pool.submit([probe(call('c'))]);
    const [td] = pool.submit([probe(shell('d'))]);
    expect(pool.cancel(td!)).toBe(true);
    await tick();
    expect(w.batches()).toEqual([['a'], ['b'], ['c']]);
    expect(pool.cancel(tb!)).toBe(false); // running
    expect(pool.cancel(tc!)).toBe(true); // sent ahead: the worker is told to skip it
    expect(w.sent.at(-1)).toEqual({ type: 'skip', key: w.key('c') });
    w.done(w.key('b'));
    w.done(w.key('c'), { skipped: true });
    await tick();
    // The cancelled ones never report (the caller has); d was never sent.
    expect(events).toEqual(['start a', 'done a', 'start b', 'done b']);
    expect(w.batches()).toHaveLength(3);
  });

  it('acknowledges printed output to the worker in steps', async () => {
    const { workers, submit } = makePool(1);
    submit([call('a')]);
    await tick();
    const w = workers[0]!;
    w.ready();
    const key = w.key('a');
    w.say({ type: 'output', key, stream: 'stdout', data: new Uint8Array(1000) });
    expect(w.sent.filter((m) => m.type === 'ack')).toEqual([]);
    w.say({ type: 'output', key, stream: 'stderr', data: new Uint8Array(40_000) });
    expect(w.sent.filter((m) => m.type === 'ack')).toEqual([{ type: 'ack', key, bytes: 41_000 }]);
  });
});

describe('a killed attempt', () => {
  /** Shell jobs a and b running on workers of their own, started a second ago; a's kill a timeout, b's a cancel. */
  async function twoKilled() {
    const { pool, workers } = makePool(2);
    const [ta, tb] = [...pool.submit([probe(shell('a'))]), ...pool.submit([probe(shell('b'))])];
    await tick();
    for (const w of workers) w.ready();
    const [wa, wb] = workers as [FakeWorker, FakeWorker];
    // Their groups are known: the kills reach them (a job not reached yet is the case further down).
    wa.say({ type: 'spawned', key: wa.key('a'), pid: 7171 });
    wb.say({ type: 'spawned', key: wb.key('b'), pid: 7272 });
    const started = Date.now() - 1000;
    pool.kill(ta!, 'timeout');
    pool.kill(tb!, 'cancel');
    return { a: ta!.attempt as Probe, b: tb!.attempt as Probe, wa, wb, started };
  }

  it('ended after the kill was decided: the kill decides its status, even with exit 0 (a job that exits 0 on SIGTERM)', async () => {
    const { a, b, wa, wb, started } = await twoKilled();
    // Both report exit 0 after the kill: they ended because of it, or only once it closed their output.
    wa.done(wa.key('a'), { startedAt: started, durationMs: 2000 });
    wb.done(wb.key('b'), { startedAt: started, durationMs: 2000 });
    expect(a.result).toMatchObject({ status: 'timed-out', exitCode: 0, killedFor: 'timeout' });
    expect(b.result).toMatchObject({ status: 'cancelled', exitCode: 0, killedFor: 'cancel' });
  });

  it('ended before the kill was decided (its report on the way): it ends as it would have', async () => {
    const { a, b, wa, wb, started } = await twoKilled();
    wa.done(wa.key('a'), { startedAt: started, durationMs: 10 });
    wb.done(wb.key('b'), { startedAt: started, durationMs: 10, exitCode: 3 });
    expect(a.result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(a.result?.killedFor).toBeUndefined();
    expect(b.result).toMatchObject({ status: 'failed', exitCode: 3 });
  });

  it('ended before poolrun could reach it (its group not known yet): it ends as it would have', async () => {
    // A job of a chunk its worker began before the word to skip it came (--halt now, --chunksize): poolrun decided
    // to kill it, but no signal went out before it ended by itself (a review: reported cancelled, exit 0).
    const { pool, workers } = makePool(1);
    const [t] = pool.submit([probe(shell('a'))]);
    await tick();
    const w = workers[0]!;
    w.ready();
    pool.kill(t!, 'cancel');
    w.done(w.key('a'), { startedAt: Date.now() - 5, durationMs: 10, exitCode: 0 });
    expect((t!.attempt as Probe).result).toMatchObject({ status: 'succeeded', exitCode: 0 });
  });

  it('its processes all exited when the kill came (its end not heard yet): it ends as it would have', async () => {
    // `echo a` done as --halt now came: the signal reaches nothing, and GNU parallel prints it (the suite under
    // load: poolrun reported it cancelled and printed nothing).
    const { pool, workers, groups } = makePool(1);
    const [t] = pool.submit([probe(shell('a'))]);
    await tick();
    const w = workers[0]!;
    w.ready();
    w.say({ type: 'spawned', key: w.key('a'), pid: 7373 });
    groups.exited.add(7373);
    pool.kill(t!, 'cancel');
    w.done(w.key('a'), { startedAt: Date.now() - 5, durationMs: 10, exitCode: 0 });
    expect((t!.attempt as Probe).result).toMatchObject({ status: 'succeeded', exitCode: 0 });
  });

  it('a direct command another process killed before the kill was decided is reported as its shell would (128+n)', async () => {
    const { a, wa, started } = await twoKilled();
    wa.done(wa.key('a'), {
      startedAt: started,
      durationMs: 10,
      exitCode: null,
      signal: 'SIGTERM',
      direct: true,
    });
    expect(a.result).toMatchObject({ status: 'failed', exitCode: 143 });
  });
});

describe('a worker that dies', () => {
  it('mid-job: the job fails with BrokenWorkerError and the exit code; a new worker runs the rest', async () => {
    const { workers, submit } = makePool(1);
    const [a, b, c] = submit([call('a'), call('b')], [call('c')]);
    await tick();
    const w1 = workers[0]!;
    w1.ready();
    w1.exit({ code: 3 });
    expect(a!.result).toMatchObject({
      status: 'failed',
      exitCode: 3,
      signal: null,
      worker: 1,
      pid: w1.pid,
      error: { name: 'BrokenWorkerError', message: expect.stringContaining('exit code 3') as unknown },
    });
    expect(a!.result!.killedFor).toBeUndefined();
    // b never started: it goes back to the front of the queue, for the next worker.
    expect(b!.result).toBeUndefined();
    await tick();
    expect(workers).toHaveLength(2);
    const w2 = workers[1]!;
    w2.ready();
    expect(w2.batches()).toEqual([['b']]);
    w2.done(w2.key('b'));
    await tick();
    expect(w2.batches()).toEqual([['b'], ['c']]);
    w2.done(w2.key('c'));
    expect(b!.result).toMatchObject({ status: 'succeeded', worker: 1, pid: w2.pid });
    expect(c!.result?.status).toBe('succeeded');
  });

  it('killed by a signal, or of an uncaught error: the result says so', async () => {
    const { workers, submit } = makePool(1);
    const [a, b] = submit([call('a')], [call('b')]);
    await tick();
    workers[0]!.ready();
    workers[0]!.exit({ code: null, signal: 'SIGKILL' });
    expect(a!.result).toMatchObject({ status: 'failed', exitCode: null, signal: 'SIGKILL' });
    expect(a!.result!.error).toMatchObject({
      name: 'BrokenWorkerError',
      message: expect.stringContaining('killed by SIGKILL') as unknown,
    });
    await tick();
    workers[1]!.ready();
    const error = { name: 'TypeError', message: 'nope', stack: 'TypeError: nope\n    at here' };
    workers[1]!.exit({ code: 1, error });
    expect(b!.result).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(b!.result!.error).toEqual({
      name: 'BrokenWorkerError',
      message: expect.stringContaining('uncaught TypeError: nope') as unknown,
      stack: error.stack,
    });
  });

  it('three in a row before they are ready: the pool is broken, and fails what is queued or submitted', async () => {
    const { workers, submit } = makePool(1);
    const [a, b] = submit([call('a')], [call('b')]);
    for (let i = 0; i < 3; i++) {
      await tick();
      expect(workers).toHaveLength(i + 1);
      workers[i]!.exit({ code: 1 });
    }
    for (const p of [a!, b!]) {
      expect(p.result).toMatchObject({
        status: 'failed',
        // The last worker that failed to start, and how it ended (BrokenWorkerError's fields).
        worker: 1,
        exitCode: 1,
        error: { name: 'BrokenWorkerError', message: expect.stringContaining('3 in a row') as unknown },
      });
    }
    await tick();
    expect(workers).toHaveLength(3);
    const [c] = submit([call('c')]);
    expect(c!.result?.error?.name).toBe('BrokenWorkerError');
    await tick();
    expect(workers).toHaveLength(3);
  });

  it('a worker that gets ready in between starts the count again', async () => {
    const { workers, submit } = makePool(1);
    const [a] = submit([call('a')]);
    await tick();
    workers[0]!.exit({ code: 1 });
    await tick();
    workers[1]!.exit({ code: 1 });
    await tick();
    workers[2]!.ready();
    workers[2]!.done(workers[2]!.key('a'));
    workers[2]!.exit({ code: 0 }); // idle, unasked
    const [b] = submit([call('b')]);
    await tick();
    workers[3]!.exit({ code: 1 });
    await tick();
    workers[4]!.exit({ code: 1 });
    await tick();
    workers[5]!.ready();
    workers[5]!.done(workers[5]!.key('b'));
    expect([a!.result?.status, b!.result?.status]).toEqual(['succeeded', 'succeeded']);
  });

  it('workers that die mid-job after getting ready fail their jobs but never break the pool', async () => {
    const { workers, submit } = makePool(1);
    const probes = submit([call('a')], [call('b')], [call('c')], [call('d')]);
    for (let i = 0; i < 3; i++) {
      await tick();
      workers[i]!.ready();
      workers[i]!.exit({ code: 9 });
    }
    await tick();
    workers[3]!.ready();
    workers[3]!.done(workers[3]!.key('d'));
    expect(probes.map((p) => p.result?.error?.name ?? p.result?.status)).toEqual([
      'BrokenWorkerError',
      'BrokenWorkerError',
      'BrokenWorkerError',
      'succeeded',
    ]);
  });
});

describe('timeouts and kills', () => {
  it('a call past its timeout: its worker is ended, the result is timed-out', async () => {
    const { workers, submit } = makePool(1);
    const [a] = submit([call('a', { timeoutMs: 30 })]);
    await tick();
    const w = workers[0]!;
    w.ready();
    await vi.waitFor(() => expect(w.killed).toBe(true));
    expect(a!.result).toBeUndefined();
    w.exit({ code: 1 });
    expect(a!.result).toMatchObject({
      status: 'timed-out',
      killedFor: 'timeout',
      error: { name: 'TimeoutError', message: 'timed out after 30ms; its worker was ended' },
    });
  });

  it("a shell job past its timeout, counted from its process's start: its group is terminated", async () => {
    const { workers, groups, submit } = makePool(1);
    const [a] = submit([shell('a', { timeoutMs: 30 })]);
    await tick();
    const w = workers[0]!;
    w.ready();
    w.say({ type: 'spawned', key: w.key('a'), pid: 4242 });
    expect(groups.calls).toEqual([`add 4242 ${w.pid}`]);
    await vi.waitFor(() => expect(groups.calls).toContain('terminate 4242'));
    expect(w.killed).toBe(false);
    w.done(w.key('a'), { exitCode: null, signal: 'SIGTERM' });
    expect(a!.result).toMatchObject({ status: 'timed-out', killedFor: 'timeout', signal: 'SIGTERM' });
    expect(groups.calls.at(-1)).toBe('release 4242');
  });

  it('a copy past its timeout is asked to abort', async () => {
    const { workers, submit } = makePool(1, { killAfterMs: 60_000 });
    const [a] = submit([copy('a', { timeoutMs: 30 })]);
    await tick();
    const w = workers[0]!;
    w.ready();
    await vi.waitFor(() => expect(w.sent).toContainEqual({ type: 'abort', key: w.key('a') }));
    w.done(w.key('a'), { aborted: true, bytes: 7 });
    expect(a!.result).toMatchObject({ status: 'timed-out', killedFor: 'timeout', bytes: 7 });
    expect(w.killed).toBe(false);
  });

  it('a copy that does not stop when asked: its worker is ended after the grace', async () => {
    const { workers, submit } = makePool(1, { killAfterMs: 20 });
    const [a] = submit([copy('a', { timeoutMs: 30 })]);
    await tick();
    const w = workers[0]!;
    w.ready();
    await vi.waitFor(() => expect(w.killed).toBe(true));
    expect(w.sent).toContainEqual({ type: 'abort', key: w.key('a') });
    w.exit({ code: 1 });
    expect(a!.result).toMatchObject({ status: 'timed-out', error: { name: 'TimeoutError' } });
  });

  it('a job done in time is not stopped', async () => {
    const { workers, submit } = makePool(1);
    const [a] = submit([call('a', { timeoutMs: 60_000 })]);
    await tick();
    workers[0]!.ready();
    workers[0]!.done(workers[0]!.key('a'));
    expect(a!.result).toMatchObject({ status: 'succeeded' });
    expect(a!.result!.killedFor).toBeUndefined();
    expect(workers[0]!.killed).toBe(false);
  });

  it('kill: a running call is cancelled; a shell job killed now gets SIGKILL; one not started is skipped', async () => {
    const { pool, workers, groups } = makePool(2);
    const [ta] = pool.submit([probe(call('a'))]);
    const [tb] = pool.submit([probe(shell('b'))]);
    await tick();
    const [w1, w2] = workers;
    w1!.ready();
    w2!.ready();
    expect(pool.kill(ta!, 'cancel')).toBe(false);
    expect(w1!.killed).toBe(true);
    w1!.exit({ code: 1 });
    expect((ta!.attempt as Probe).result).toMatchObject({
      status: 'cancelled',
      killedFor: 'cancel',
      error: { name: 'CancelledError' },
    });
    // b's process is not known yet: it is killed when the worker says it exists.
    pool.kill(tb!, 'cancel', true);
    expect(groups.calls).toEqual([]);
    w2!.say({ type: 'spawned', key: w2!.key('b'), pid: 5151 });
    expect(groups.calls).toEqual([`add 5151 ${w2!.pid}`, 'kill 5151']);
    w2!.done(w2!.key('b'), { exitCode: null, signal: 'SIGKILL' });
    expect((tb!.attempt as Probe).result).toMatchObject({ status: 'cancelled', killedFor: 'cancel' });
    // A queued one is dropped, and never reports.
    const [tc] = pool.submit([probe(call('c'))]);
    expect(pool.kill(tc!, 'cancel')).toBe(true);
    await tick();
    expect(events.filter((e) => e.endsWith(' c'))).toEqual([]);
  });

  it('a job that ended before its worker said `spawned` names its process in `done`: taken as said first', async () => {
    // Issue 15, B1: a tiny job's worker sends one message back, not two (worker-main.ts SPAWNED_DELAY_MS).
    const { pool, workers, groups, submit } = makePool(1);
    const [a, b] = submit([shell('a')], [shell('b')]);
    const [tc] = pool.submit([probe(shell('c'))]);
    const c = tc!.attempt as Probe;
    await tick();
    const w = workers[0]!;
    w.ready();
    const doneWith = (id: string, pid: number, o: Partial<WireOutcome> = {}) =>
      w.say({
        type: 'done',
        key: w.key(id),
        outcome: { exitCode: 0, signal: null, startedAt: Date.now(), durationMs: 1, ...o },
        spawned: { pid, leader: '4711' },
      });
    // Something of it may be left in its group: registered, then let go (TERM to what is left).
    doneWith('a', 6001);
    expect(groups.calls).toEqual([`add 6001 ${w.pid}`, 'release 6001']);
    expect(a!.result).toMatchObject({ status: 'succeeded' });
    await tick();
    // Its group was empty when it was reaped: nothing to register.
    groups.calls.length = 0;
    doneWith('b', 6002, { groupGone: true });
    expect(groups.calls).toEqual(['release 6002']);
    expect(b!.result).toMatchObject({ status: 'succeeded' });
    await tick();
    // Killed before its process was known: killed when it is, as on `spawned`.
    groups.calls.length = 0;
    pool.kill(tc!, 'cancel', true);
    expect(groups.calls).toEqual([]);
    doneWith('c', 6003, { exitCode: null, signal: 'SIGKILL' });
    expect(groups.calls.slice(0, 2)).toEqual([`add 6003 ${w.pid}`, 'kill 6003']);
    expect(c.result).toMatchObject({ status: 'cancelled', killedFor: 'cancel' });
  });

  it('spawnsKnown waits until every running shell job has said its process', async () => {
    const { pool, workers, submit } = makePool(1);
    submit([shell('a')]);
    await tick();
    const w = workers[0]!;
    w.ready();
    let known = false;
    void pool.spawnsKnown().then(() => (known = true));
    await tick();
    expect(known).toBe(false);
    w.say({ type: 'spawned', key: w.key('a'), pid: 6161 });
    await tick();
    expect(known).toBe(true);
  });
});

describe('width', () => {
  it('setWidth narrows how many workers are busy at once, and widens it again', async () => {
    const { pool, workers, submit } = makePool(3);
    pool.setWidth(1);
    const [a, b, c] = submit([call('a')], [call('b')], [call('c')]);
    await tick();
    expect(workers).toHaveLength(1);
    const w1 = workers[0]!;
    w1.ready();
    await tick();
    expect(workers).toHaveLength(1);
    w1.done(w1.key('a'));
    await tick();
    expect(w1.batches()).toEqual([['a'], ['b']]);
    pool.setWidth(3);
    await tick();
    expect(workers).toHaveLength(2);
    workers[1]!.ready();
    expect(workers[1]!.batches()).toEqual([['c']]);
    expect([a!.result?.status, b!.started?.worker, c!.started?.worker]).toEqual(['succeeded', 1, 2]);
  });

  it('narrowing stops no running job; the next waits until one is done', async () => {
    const { pool, workers, submit } = makePool(2);
    const [a, b, c] = submit([call('a')], [call('b')], [call('c')]);
    await tick();
    workers[0]!.ready();
    workers[1]!.ready();
    pool.setWidth(1);
    expect(workers.map((w) => w.killed)).toEqual([false, false]);
    workers[0]!.done(workers[0]!.key('a'));
    await tick();
    expect(c!.started).toBeUndefined();
    workers[1]!.done(workers[1]!.key('b'));
    await tick();
    expect(c!.started).toBeDefined();
    expect([a!.result?.status, b!.result?.status]).toEqual(['succeeded', 'succeeded']);
  });

  it('keeps its width between 1 and its size', async () => {
    const { pool, workers, submit } = makePool(2);
    pool.setWidth(0);
    submit([call('a')], [call('b')]);
    await tick();
    expect(workers).toHaveLength(1);
    pool.setWidth(10);
    await tick();
    expect(workers).toHaveLength(2);
  });
});

describe('close', () => {
  it('ends idle workers at once, busy ones once their jobs are done, and resolves when all have exited', async () => {
    const { pool, workers, submit } = makePool(2);
    const [a] = submit([call('a')], [call('b')]);
    await tick();
    const [w1, w2] = workers;
    w1!.ready();
    w2!.ready();
    w2!.done(w2!.key('b'));
    await tick();
    let closed = false;
    void pool.close().then(() => (closed = true));
    expect([w1!.closed, w2!.closed]).toEqual([false, true]);
    w2!.exit();
    w1!.done(w1!.key('a'));
    await tick();
    expect(w1!.closed).toBe(true);
    expect(closed).toBe(false);
    w1!.exit();
    await tick();
    expect(closed).toBe(true);
    expect(a!.result?.status).toBe('succeeded');
  });

  it('close(true) ends every worker now', async () => {
    const { pool, workers, submit } = makePool(2);
    submit([call('a')], [call('b')]);
    await tick();
    workers[0]!.ready();
    // As the executor does: what is queued is taken back first, and what runs is killed by close(true).
    expect(pool.drainQueue().map((a) => a.job.id)).toEqual(['b']);
    const closing = pool.close(true);
    expect(workers.map((w) => w.killed)).toEqual([true, true]);
    for (const w of workers) w.exit({ code: 1 });
    await closing;
    await tick();
    expect(workers).toHaveLength(2);
  });
});
