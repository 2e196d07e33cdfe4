/**
 * The CLI's first worker thread while it starts (src/pool/hybrid.ts): shell jobs start from the main thread until
 * the thread is ready. The pool is real, the jobs are real processes and their groups are really killed; the
 * thread is a fake the test speaks for, so "not ready yet" lasts as long as the test wants.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerPool, type Attempt, type AttemptResult, type StartInfo } from '../../src/pool/pool.js';
import { HybridWorker } from '../../src/pool/hybrid.js';
import { ProcessGroups } from '../../src/proc/groups.js';
import type { Job } from '../../src/kinds/types.js';
import { pidAlive, useTempDirs, waitFor } from '../helpers.js';
import { FakeWorker } from './fake-worker.js';

const temp = useTempDirs();

/** The thread: a fake worker of this process whose threadId is 7. */
class FakeThread extends FakeWorker {
  constructor() {
    super(7);
  }
}

interface Probe extends Attempt {
  started?: StartInfo;
  result?: AttemptResult;
  out: Buffer[];
}

function probe(job: Job, onOutput?: () => PromiseLike<unknown> | undefined): Probe {
  const p: Probe = {
    job,
    out: [],
    onStart(info) {
      p.started = info;
    },
    onOutput(stream, data) {
      if (stream === 'stdout') p.out.push(Buffer.from(data));
      return onOutput?.();
    },
    onDone(r) {
      p.result = r;
    },
  };
  return p;
}

const shell = (id: string, run: string, timeoutMs?: number): Job => ({
  id,
  index: 0,
  kind: 'run',
  run,
  ...(timeoutMs ? { timeoutMs } : {}),
});
const call = (id: string): Job => ({
  id,
  index: 0,
  kind: 'call',
  call: { module: 'file:///nowhere.mjs', export: 'f', args: [] },
});

/**
 * `prestarted`: the hybrid slot is given its thread at once (the CLI's pre-started one); else it starts one when it
 * wants it. `onThread`: what each new thread does (its start may throw, as `new Worker` can).
 */
function makePool(threads: FakeThread[], size = 1, prestarted = true, onThread?: (t: FakeThread) => void) {
  const groups = new ProcessGroups();
  const pool = new WorkerPool({
    mode: 'thread',
    size,
    killAfterMs: 500,
    groups,
    capture: { stream: true, keep: true, spill: false, limit: 1 << 24, spillDir: temp() },
    startWorker: (id) => {
      const thread = () => {
        const t = new FakeThread();
        threads.push(t);
        onThread?.(t);
        return t;
      };
      // The first slot is the hybrid one, as the CLI's is.
      return id === 1 ? new HybridWorker(prestarted ? thread() : undefined, thread) : thread();
    },
  });
  const submit = (job: Job, onOutput?: () => PromiseLike<unknown> | undefined): Probe =>
    pool.submit([probe(job, onOutput)])[0]!.attempt as Probe;
  return { pool, groups, submit };
}

const settled = (...ps: Probe[]) => waitFor(() => ps.every((p) => p.result !== undefined), 20_000, 5);

describe('shell jobs while the first thread starts', () => {
  it('run from the main thread, one at a time and in order, and say so (threadId 0)', async () => {
    const dir = temp();
    const threads: FakeThread[] = [];
    const { pool, submit } = makePool(threads);
    // Each job checks the one before it has ended, then marks its own start and end.
    const jobs = ['a', 'b', 'c'].map((id, i) => {
      const before = i ? `[ -e ${dir}/end-${'abc'[i - 1]} ] || exit 9; ` : '';
      return submit(shell(id, `${before}touch ${dir}/start-${id}; echo out-${id}; touch ${dir}/end-${id}`));
    });
    expect(await settled(...jobs)).toBe(true);
    for (const [i, p] of jobs.entries()) {
      expect(p.result).toMatchObject({ status: 'succeeded', exitCode: 0, threadId: 0, pid: process.pid });
      expect(p.started).toMatchObject({ worker: 1, threadId: 0, pid: process.pid });
      expect(Buffer.concat(p.out).toString()).toBe(`out-${'abc'[i]}\n`);
    }
    // Nothing went to the thread, which never became ready; closing the pool ends it at once.
    expect(threads[0]!.batches()).toEqual([]);
    const closed = pool.close();
    expect(threads[0]!.killed).toBe(true);
    threads[0]!.exit();
    await closed;
  });

  it('a job that is not a shell job is not given to the slot until its thread is ready: nothing of it starts', async () => {
    const threads: FakeThread[] = [];
    const { submit } = makePool(threads);
    // A timeout far shorter than the wait: were the call started (or held) here, it would be timed out.
    const b = submit({ ...call('b'), timeoutMs: 40 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const thread = threads[0]!;
    expect(b.started).toBeUndefined();
    expect(b.result).toBeUndefined();
    expect(thread.killed).toBe(false);
    expect(thread.batches()).toEqual([]);
    thread.say({ type: 'ready' });
    expect(await waitFor(() => thread.batches().length === 1, 10_000, 5)).toBe(true);
    expect(thread.batches()).toEqual([['b']]);
    expect(b.started).toMatchObject({ threadId: 7 });
    thread.done(thread.key('b'), { exitCode: null, value: 1 });
    expect(await settled(b)).toBe(true);
    expect(b.result).toMatchObject({ status: 'succeeded', value: 1 });
  });

  it('a lone call waits for the first thread; no second worker is started for it', async () => {
    const threads: FakeThread[] = [];
    const { submit } = makePool(threads, 2);
    const b = submit(call('b'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(threads).toHaveLength(1);
    threads[0]!.say({ type: 'ready' });
    expect(await waitFor(() => threads[0]!.batches().length === 1, 10_000, 5)).toBe(true);
    expect(b.started).toMatchObject({ worker: 1, threadId: 7 });
    expect(threads).toHaveLength(1);
  });

  it('the thread dying before it is ready fails nothing that waited for it: the next worker runs it', async () => {
    const threads: FakeThread[] = [];
    const { submit } = makePool(threads);
    const b = submit(call('b'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    threads[0]!.exit();
    expect(await waitFor(() => threads.length === 2, 10_000, 5)).toBe(true);
    threads[1]!.say({ type: 'ready' });
    expect(await waitFor(() => threads[1]!.batches().length === 1, 10_000, 5)).toBe(true);
    expect(b.result).toBeUndefined();
    expect(threads[0]!.batches()).toEqual([]);
  });

  it("once the slot is the thread, a job's done and the thread's exit in the same turn keep their order", async () => {
    const threads: FakeThread[] = [];
    const { submit } = makePool(threads);
    const b = submit(call('b'));
    expect(await waitFor(() => threads.length === 1, 10_000, 5)).toBe(true);
    const thread = threads[0]!;
    thread.say({ type: 'ready' });
    expect(await waitFor(() => thread.batches().length === 1, 10_000, 5)).toBe(true);
    // As Node delivers a message left in the port and then 'exit', with no microtask between them.
    thread.done(thread.key('b'), { exitCode: null, value: 5 });
    thread.exit();
    expect(await settled(b)).toBe(true);
    expect(b.result).toMatchObject({ status: 'succeeded', value: 5 });
  });

  it('a job that is not a shell job waits for the thread; once it is ready, the thread gets everything', async () => {
    const dir = temp();
    const threads: FakeThread[] = [];
    const { pool, submit } = makePool(threads);
    const a = submit(shell('a', `touch ${dir}/a; sleep 0.3`));
    const b = submit(call('b'));
    const c = submit(shell('c', 'true'));
    expect(await waitFor(() => existsSync(join(dir, 'a')), 10_000, 5)).toBe(true);
    // Ready while the local job runs: nothing is handed over until it is done.
    const thread = threads[0]!;
    thread.say({ type: 'ready' });
    expect(thread.batches()).toEqual([]);
    expect(await settled(a)).toBe(true);
    expect(a.result).toMatchObject({ status: 'succeeded', threadId: 0 });
    expect(await waitFor(() => thread.batches().length > 0, 10_000, 5)).toBe(true);
    expect(thread.batches()).toEqual([['b']]);
    expect(b.started).toMatchObject({ threadId: 7 });
    thread.done(thread.key('b'), { exitCode: null, value: 5 });
    expect(await waitFor(() => thread.batches().length > 1, 10_000, 5)).toBe(true);
    // Now the slot is the thread: the next shell job runs there.
    expect(thread.batches()).toEqual([['b'], ['c']]);
    expect(c.started).toMatchObject({ threadId: 7 });
    expect(b.result).toMatchObject({ status: 'succeeded', value: 5, threadId: 7 });
    thread.done(thread.key('c'));
    expect(await settled(c)).toBe(true);
    expect(c.result).toMatchObject({ status: 'succeeded', threadId: 7 });
    void pool.close();
    expect(thread.closed).toBe(true);
    expect(thread.killed).toBe(false);
  });

  it("a timeout kills a local job's whole process tree, as it would a worker's", async () => {
    const dir = temp();
    const pidFile = join(dir, 'pid');
    const threads: FakeThread[] = [];
    const { submit } = makePool(threads);
    const p = submit(shell('slow', `sh -c 'sleep 60' & echo $! > ${pidFile}; wait`, 300));
    expect(await settled(p)).toBe(true);
    expect(p.result).toMatchObject({ status: 'timed-out', threadId: 0 });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(await waitFor(() => !pidAlive(pid), 10_000)).toBe(true);
  });

  it('pool.kill (a halt, a signal) stops a local job by its group', async () => {
    const dir = temp();
    const threads: FakeThread[] = [];
    const { pool, submit } = makePool(threads);
    const ticket = pool.submit([probe(shell('x', `echo $$ > ${dir}/pid; exec sleep 60`))])[0]!;
    const p = ticket.attempt as Probe;
    expect(await waitFor(() => existsSync(join(dir, 'pid')), 10_000, 5)).toBe(true);
    pool.kill(ticket, 'cancel');
    expect(await settled(p)).toBe(true);
    expect(p.result).toMatchObject({ signal: 'SIGTERM', killedFor: 'cancel', threadId: 0 });
    expect(await waitFor(() => !pidAlive(Number(readFileSync(join(dir, 'pid'), 'utf8'))), 10_000)).toBe(true);
    void submit;
  });

  it('streamed output is held back while it is not printed, and none is lost', async () => {
    const threads: FakeThread[] = [];
    const { submit } = makePool(threads);
    // 2 MiB, far past a worker's output credit: the job is paused until the printer catches up.
    let pending = 0;
    const slowPrinter = () => {
      pending++;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          pending--;
          resolve();
        }, 1),
      );
    };
    const p = submit(shell('big', 'head -c 2097152 /dev/zero | tr "\\0" x'), slowPrinter);
    expect(await settled(p)).toBe(true);
    expect(p.result).toMatchObject({ status: 'succeeded', threadId: 0 });
    const all = Buffer.concat(p.out);
    expect(all.length).toBe(2 * 1024 * 1024);
    expect(all.every((c) => c === 0x78)).toBe(true);
    expect(pending).toBeGreaterThanOrEqual(0);
  });

  it('the thread dying under a local job: the job ends as its process did, then the slot is replaced', async () => {
    const dir = temp();
    const threads: FakeThread[] = [];
    const { submit } = makePool(threads);
    const a = submit(shell('a', `touch ${dir}/a; sleep 0.3; echo done-a`));
    const b = submit(shell('b', 'echo b'));
    expect(await waitFor(() => existsSync(join(dir, 'a')), 10_000, 5)).toBe(true);
    threads[0]!.exit();
    expect(await settled(a)).toBe(true);
    expect(a.result).toMatchObject({ status: 'succeeded', threadId: 0 });
    expect(Buffer.concat(a.out).toString()).toBe('done-a\n');
    // b had not started: it goes to the slot's next worker, the first slot again, which starts it from here.
    expect(await settled(b)).toBe(true);
    expect(b.result).toMatchObject({ status: 'succeeded', worker: 1, threadId: 0 });
    expect(Buffer.concat(b.out).toString()).toBe('b\n');
    expect(threads[0]!.batches()).toEqual([]);
  });

  it('a run of one shell job starts no thread; a second job starts it, and the slot is the thread once it is ready', async () => {
    const dir = temp();
    const threads: FakeThread[] = [];
    const { pool, submit } = makePool(threads, 1, false);
    const a = submit(shell('a', 'echo a'));
    expect(await settled(a)).toBe(true);
    expect(a.result).toMatchObject({ status: 'succeeded', threadId: 0, pid: process.pid });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(threads).toHaveLength(0);
    // The second job runs here too, and wants the thread meanwhile.
    const b = submit(shell('b', `touch ${dir}/b; sleep 0.3`));
    expect(await waitFor(() => existsSync(join(dir, 'b')), 10_000, 5)).toBe(true);
    expect(threads).toHaveLength(1);
    const thread = threads[0]!;
    thread.say({ type: 'ready' });
    const c = submit(shell('c', 'true'));
    expect(await settled(b)).toBe(true);
    expect(b.result).toMatchObject({ status: 'succeeded', threadId: 0 });
    // Handed over once b was done: c runs on the thread.
    expect(await waitFor(() => thread.batches().length === 1, 10_000, 5)).toBe(true);
    expect(thread.batches()).toEqual([['c']]);
    thread.done(thread.key('c'));
    expect(await settled(c)).toBe(true);
    expect(c.result).toMatchObject({ status: 'succeeded', threadId: 7 });
    void pool.close();
    expect(thread.closed).toBe(true);
  });

  it('a slot that never started its thread ends at once when closed, after the job it runs', async () => {
    const dir = temp();
    const threads: FakeThread[] = [];
    const { pool, submit } = makePool(threads, 1, false);
    const a = submit(shell('a', `touch ${dir}/a; sleep 0.3; echo a`));
    expect(await waitFor(() => existsSync(join(dir, 'a')), 10_000, 5)).toBe(true);
    let closed = false;
    void pool.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    expect(await settled(a)).toBe(true);
    expect(Buffer.concat(a.out).toString()).toBe('a\n');
    expect(await waitFor(() => closed, 10_000, 5)).toBe(true);
    expect(threads).toHaveLength(0);
  });

  it('a call offered to a slot without a thread starts it, and runs there once it is ready', async () => {
    const threads: FakeThread[] = [];
    const { submit } = makePool(threads, 1, false);
    const b = submit(call('b'));
    expect(await waitFor(() => threads.length === 1, 10_000, 5)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(b.started).toBeUndefined();
    const thread = threads[0]!;
    thread.say({ type: 'ready' });
    expect(await waitFor(() => thread.batches().length === 1, 10_000, 5)).toBe(true);
    expect(b.started).toMatchObject({ worker: 1, threadId: 7 });
    thread.done(thread.key('b'), { exitCode: null, value: 3 });
    expect(await settled(b)).toBe(true);
    expect(b.result).toMatchObject({ status: 'succeeded', value: 3, threadId: 7 });
    expect(threads).toHaveLength(1);
  });

  it('threads that die before they are ready, started when wanted, break the pool after three in a row', async () => {
    const threads: FakeThread[] = [];
    // Each thread dies as it starts (an initialisation that fails), after the slot took shell jobs already.
    const { submit } = makePool(threads, 2, false, (t) => setTimeout(() => t.exit({ code: 1 }), 5));
    const a = submit(shell('a', 'echo a'));
    expect(await settled(a)).toBe(true);
    expect(a.result).toMatchObject({ status: 'succeeded', threadId: 0 });
    const b = submit(call('b'));
    expect(await settled(b)).toBe(true);
    expect(b.result?.error).toMatchObject({ name: 'BrokenWorkerError' });
    expect(b.result?.error?.message).toMatch(/3 in a row/);
    // Not a loop: a few threads were started, not hundreds.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(threads.length).toBeLessThanOrEqual(4);
  });

  it('a thread that cannot be started at all (new Worker throws) is a worker that could not start', async () => {
    let tries = 0;
    const threads: FakeThread[] = [];
    const { submit } = makePool(threads, 1, false, () => {
      tries++;
      throw new Error('ERR_WORKER_INIT_FAILED');
    });
    const a = submit(shell('a', 'echo a'));
    const b = submit(shell('b', 'echo b'));
    const c = submit(call('c'));
    expect(await settled(a, b, c)).toBe(true);
    // The shell jobs ran, from the main thread, whatever became of the thread.
    expect(a.result).toMatchObject({ status: 'succeeded', threadId: 0 });
    expect(b.result).toMatchObject({ status: 'succeeded', threadId: 0 });
    expect(Buffer.concat(b.out).toString()).toBe('b\n');
    expect(c.result?.error).toMatchObject({ name: 'BrokenWorkerError' });
    expect(tries).toBe(3);
  });
});
