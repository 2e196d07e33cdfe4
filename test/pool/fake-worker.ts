/**
 * A worker the test speaks for (test/pool/*.test.ts): what the pool sends it is kept, and the test says what the
 * worker says (its messages, its exit).
 */
import type { WorkerExit, WorkerHandle } from '../../src/pool/handle.js';
import type { FromWorker, ToWorker, WireOutcome } from '../../src/pool/protocol.js';

export class FakeWorker implements WorkerHandle {
  static lastPid = 70_000;
  readonly pid: number;
  readonly threadId: number;
  readonly sent: ToWorker[] = [];

  /** A fake process (a pid of its own, threadId 0), or a thread of this process (`threadId`). */
  constructor(threadId?: number) {
    this.pid = threadId === undefined ? ++FakeWorker.lastPid : process.pid;
    this.threadId = threadId ?? 0;
  }
  closed = false;
  killed = false;
  refd = true;
  private listener: ((m: FromWorker) => void) | undefined;
  private exitListener: ((e: WorkerExit) => void) | undefined;

  send(msg: ToWorker): void {
    this.sent.push(msg);
  }
  onMessage(fn: (m: FromWorker) => void): void {
    this.listener = fn;
  }
  onExit(fn: (e: WorkerExit) => void): void {
    this.exitListener = fn;
  }
  close(): void {
    this.closed = true;
  }
  kill(): void {
    this.killed = true;
  }
  ref(): void {
    this.refd = true;
  }
  unref(): void {
    this.refd = false;
  }

  // The worker's side, spoken by the test.
  say(m: FromWorker): void {
    this.listener!(m);
  }
  ready(): void {
    this.say({ type: 'ready' });
  }
  exit(e: Partial<WorkerExit> = {}): void {
    this.exitListener!({ code: 0, signal: null, ...e });
  }
  done(key: number, o: Partial<WireOutcome> = {}): void {
    this.say({
      type: 'done',
      key,
      outcome: { exitCode: 0, signal: null, startedAt: Date.now(), durationMs: 5, ...o },
    });
  }
  /** The job ids of each batch sent, in order. */
  batches(): string[][] {
    return this.sent.flatMap((m) => (m.type === 'batch' ? [m.jobs.map((j) => j.job.id)] : []));
  }
  /** The key this worker was given for the job `id`. */
  key(id: string): number {
    for (const m of this.sent) {
      const hit = m.type === 'batch' && m.jobs.find((j) => j.job.id === id);
      if (hit) return hit.key;
    }
    throw new Error(`job ${id} was never sent to worker ${this.pid}`);
  }
}
