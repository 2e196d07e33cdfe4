/**
 * The CLI's first worker thread, while it starts (issue 15 item 4, BENCHMARKS.md "B6: the first shell job from
 * the main thread"). A thread takes ~30 ms to be ready, and for a run of one short shell job that was the longest
 * part of poolrun's own time: the main thread had read the job file and sat idle waiting for it. Until the thread
 * is ready, this slot runs shell jobs from the main thread (local.ts) — the same spawn, the same process group
 * registered with the pool, the same kill path — one at a time, and takes no other work (takes(): the pool gives
 * calls, copies and downloads to other workers, or waits). Once the thread is ready and the local job is done, it
 * says `ready` again and is no more than the thread.
 *
 * A job run so reports `threadId` 0 (Node's main thread) and the CLI's pid, as it should: that is where it was
 * started. Used for the pre-started thread only (slots.ts): a CLI run in thread mode, without an initializer (an
 * initializer runs before a worker's first job).
 */
import type { FromWorker, ToWorker } from './protocol.js';
import type { WorkerExit, WorkerHandle } from './handle.js';
import { Mailbox } from './handle.js';
import { LocalRunner } from './local.js';
import { loadKind } from '../kinds/execute.js';
import type { Job } from '../kinds/types.js';

export class HybridWorker implements WorkerHandle {
  readonly pid = process.pid;
  private readonly thread: WorkerHandle;
  private readonly mailbox = new Mailbox();
  private readonly local: LocalRunner;
  private threadReady = false;
  /** Everything goes to the thread, and comes from it, from now on. */
  private through = false;
  /** The thread's exit, kept while a local job runs (its `done` comes first). */
  private exit: WorkerExit | undefined;
  private ended = false;
  /** What the pool last asked: the thread is held open while it starts regardless (unref()). */
  private wantRef = true;

  constructor(thread: WorkerHandle) {
    this.thread = thread;
    this.local = new LocalRunner((m) => this.fromLocal(m));
    thread.onMessage((m) => this.fromThread(m));
    thread.onExit((e) => this.threadExited(e));
    // Ready at once: the main thread can run shell jobs now. Their half of poolrun is loaded here, at once: a
    // run then loads the same modules whichever thread runs its first job.
    this.mailbox.message({ type: 'ready' });
    void loadKind('run').catch(() => {});
  }

  /** Where the slot's current job runs: the main thread (0) until the hand-over. */
  get threadId(): number {
    return this.through ? this.thread.threadId : 0;
  }

  /**
   * Whether the slot takes these jobs now: anything once it is the thread, else one shell job at a time (the
   * pool asks before it gives a worker work, and gives this one nothing more while a job runs here).
   */
  takes(jobs: readonly Job[]): boolean {
    if (this.through || this.ended) return true;
    if (this.local.key !== undefined) return false;
    return this.threadReady || (jobs.length === 1 && jobs[0]!.kind === 'run');
  }

  send(msg: ToWorker): void {
    if (!this.through && this.threadReady && this.local.key === undefined) this.handOver();
    if (this.through) {
      this.thread.send(msg);
      return;
    }
    switch (msg.type) {
      case 'batch': {
        // One shell job (takes()); any other batch would be a caller's mistake: the thread queues it.
        const w = msg.jobs[0];
        if (msg.jobs.length !== 1 || w?.job.kind !== 'run' || this.local.key !== undefined) {
          this.thread.send(msg);
          return;
        }
        void this.local.run(w, msg.worker, msg.capture).then((outcome) => {
          this.emit({ type: 'done', key: w.key, outcome });
          // After the `done` (the pool then fails no job for the thread's death), on the microtask before the
          // pool, handling that `done`, looks for this slot's next job.
          queueMicrotask(() => this.afterLocal());
        });
        return;
      }
      case 'abort':
        this.local.abort(msg.key);
        return;
      case 'ack':
        this.local.ack(msg.key, msg.bytes);
        return;
      case 'skip':
        // Only a job sent ahead is skipped: none is, here.
        return;
      default:
        this.thread.send(msg);
    }
  }

  onMessage(fn: (msg: FromWorker) => void): void {
    this.mailbox.onMessage(fn);
  }
  onExit(fn: (exit: WorkerExit) => void): void {
    this.mailbox.onExit(fn);
  }
  close(): void {
    // A thread that never became ready has never had a job: ended at once, not after its start (~30 ms).
    if (this.threadReady) this.thread.close();
    else this.thread.kill();
  }
  kill(): void {
    this.thread.kill();
  }
  /**
   * The thread holds the program open while it starts, whatever the slot's state: work this slot does not take
   * yet waits for it (a starting worker holds it open, as the pool keeps every starting worker). Once it is
   * ready, as the pool asks.
   */
  ref(): void {
    this.wantRef = true;
    this.thread.ref();
  }
  unref(): void {
    this.wantRef = false;
    if (this.threadReady) this.thread.unref();
  }

  private afterLocal(): void {
    if (this.exit) this.end(this.exit);
    else if (this.threadReady) this.handOver();
  }

  /** The thread is ready and nothing runs here: from now on the slot is the thread. */
  private handOver(): void {
    if (this.through) return;
    this.through = true;
    // Said again: the pool may now give this slot what it would not take before (calls, copies, downloads). On
    // a microtask: this may run inside the pool's own call (a `batch`).
    this.emit({ type: 'ready' });
  }

  private fromLocal(m: FromWorker): void {
    // After the slot's end (the thread died, and this message came after its exit was said) the pool has failed
    // the job already.
    if (!this.ended) this.emit(m);
  }

  private fromThread(m: FromWorker): void {
    if (m.type === 'ready' && !this.through) {
      this.threadReady = true;
      if (!this.wantRef) this.thread.unref();
      if (this.local.key === undefined) this.handOver();
      return;
    }
    // As they come, as a thread's messages reach the pool: its exit may follow a message in the same turn
    // (Node emits a message left in the port, then 'exit', with no microtask between), and must come after it.
    this.mailbox.message(m);
  }

  private threadExited(e: WorkerExit): void {
    // A local job's `done` comes before the slot's end: the pool fails the job a dead worker was running.
    if (this.local.key !== undefined) this.exit = e;
    else this.end(e);
  }

  private end(e: WorkerExit): void {
    if (this.ended) return;
    this.ended = true;
    this.mailbox.exit(e);
  }

  /** A local job's messages are handed on a microtask, never from inside the pool's own call (a `batch`). */
  private emit(m: FromWorker): void {
    queueMicrotask(() => this.mailbox.message(m));
  }
}
