/**
 * A CLI slot in thread mode (issue 15 item 4, BENCHMARKS.md "B6: a one-job run without a thread"). A
 * thread takes ~30 ms to be ready, and for a run of one short shell job it was the longest part of poolrun's own
 * time. A shell job needs nothing of a worker but a thread to spawn it from: so the slot starts its shell jobs
 * from the main thread (local.ts) — the same spawn, the same process group registered with the pool, the same
 * timeout and kill path — one at a time, in order. Its thread is started once it is wanted: the slot is given a
 * second job, or it is offered a job that is not a shell job (a call, a copy, a
 * download: those wait for it). Once the
 * thread is ready and no local job runs, the slot says `ready` again and is no more than the thread, for every
 * job from then on. A run of one shell job starts no thread at all.
 *
 * A job run so reports `threadId` 0 (Node's main thread) and the CLI's pid, as it should: that is where it was
 * started. Used for the CLI in thread mode without an initializer (slots.ts).
 */
import type { FromWorker, ToWorker } from './protocol.js';
import { serializeError } from './protocol.js';
import type { WorkerExit, WorkerHandle } from './handle.js';
import { Mailbox } from './handle.js';
import { LocalRunner } from './local.js';
import { loadKind } from '../kinds/execute.js';
import type { Job } from '../kinds/types.js';

export class HybridWorker implements WorkerHandle {
  readonly pid = process.pid;
  private thread: WorkerHandle | undefined;
  private readonly startThread: () => WorkerHandle;
  private readonly mailbox = new Mailbox();
  private readonly local: LocalRunner;
  private threadReady = false;
  /** The slot was given a second job, or offered one that is not a shell job: it becomes the thread once it can. */
  private wanted = false;
  /** Shell jobs started from the main thread. */
  private localRuns = 0;
  /** Starting the thread threw. */
  private noThread = false;
  /** Everything goes to the thread, and comes from it, from now on. */
  private through = false;
  /** The slot's end, kept while a local job runs (its `done` comes first). */
  private exit: WorkerExit | undefined;
  /** Asked to end (close, kill) with no thread: it ends once no local job runs. */
  private ending: WorkerExit | undefined;
  private ended = false;
  /** What the pool last asked: a starting thread holds the program open regardless (unref()). */
  private wantRef = true;

  /** `thread`: one started already (the CLI's pre-started one), else one is started by `startThread` when wanted. */
  constructor(thread: WorkerHandle | undefined, startThread: () => WorkerHandle) {
    this.startThread = startThread;
    this.local = new LocalRunner((m) => this.fromLocal(m));
    if (thread) this.attach(thread);
    // Ready at once: the main thread can run shell jobs now. Their half of poolrun is loaded here, at once: a
    // run then loads the same modules whichever thread runs its first job.
    this.mailbox.message({ type: 'ready', provisional: true });
    void loadKind('run').catch(() => {});
  }

  /** Where the slot's current job runs: the main thread (0) until the hand-over. */
  get threadId(): number {
    return this.through ? this.thread!.threadId : 0;
  }

  /**
   * Whether the slot takes these jobs now: anything once it is the thread, else one shell job at a time (the
   * pool asks before it gives a worker work, and gives this one nothing more while a job runs here). Anything
   * else starts the thread, and is taken once it is ready and nothing runs here.
   */
  takes(jobs: readonly Job[]): boolean {
    if (this.through || this.ended) return true;
    if (this.local.key !== undefined) {
      if (jobs.some((j) => j.kind !== 'run')) this.want();
      return false;
    }
    if (jobs.length === 1 && jobs[0]!.kind === 'run') return true;
    this.want();
    return this.threadReady;
  }

  send(msg: ToWorker): void {
    if (this.through) {
      this.thread!.send(msg);
      return;
    }
    switch (msg.type) {
      case 'batch': {
        const w = msg.jobs[0];
        if (msg.jobs.length === 1 && w?.job.kind === 'run' && this.local.key === undefined) {
          this.runLocal(msg);
          return;
        }
        // takes() said yes: the thread is ready and nothing runs here. (Any other batch would be a caller's
        // mistake: the thread queues it.)
        this.want();
        if (this.threadReady && this.local.key === undefined) this.handOver();
        this.thread?.send(msg);
        return;
      }
      case 'abort':
        if (this.local.key === msg.key) this.local.abort(msg.key);
        else this.thread?.send(msg);
        return;
      case 'ack':
        if (this.local.key === msg.key) this.local.ack(msg.key, msg.bytes);
        else this.thread?.send(msg);
        return;
      case 'skip':
        // Only a job sent ahead is skipped: none is, here.
        return;
      default:
        this.thread?.send(msg);
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
    if (this.thread) {
      if (this.threadReady) this.thread.close();
      else this.thread.kill();
    } else this.endWithout({ code: 0, signal: null });
  }
  kill(): void {
    if (this.thread) this.thread.kill();
    else this.endWithout({ code: 1, signal: null });
  }
  /**
   * A starting thread holds the program open, whatever the slot's state: work this slot does not take yet waits
   * for it (a starting worker holds it open, as the pool keeps every starting worker). Once it is ready, as the
   * pool asks. A slot with no thread holds nothing: its local job's process and pipes do.
   */
  ref(): void {
    this.wantRef = true;
    this.thread?.ref();
  }
  unref(): void {
    this.wantRef = false;
    if (this.threadReady) this.thread!.unref();
  }

  private runLocal(msg: Extract<ToWorker, { type: 'batch' }>): void {
    const w = msg.jobs[0]!;
    // A second job: the run has more than one, and the thread takes over once it is ready (a worker spawns
    // from its own thread, so two slots spawn at once; the main thread waits inside each spawn it makes).
    if (this.localRuns++ > 0) this.want();
    void this.local.run(w, msg.worker, msg.capture).then((outcome) => {
      this.emit({ type: 'done', key: w.key, outcome });
      // After the `done` (the pool then fails no job for the thread's death), on the microtask before the
      // pool, handling that `done`, looks for this slot's next job.
      queueMicrotask(() => this.afterLocal());
    });
  }

  /** The thread is wanted: started, if it is not. */
  private want(): void {
    this.wanted = true;
    if (this.thread || this.noThread || this.ending || this.ended) return;
    try {
      this.attach(this.startThread());
    } catch (err) {
      // Threads cannot be had (ERR_WORKER_INIT_FAILED...): a worker that could not start (protocol.ts `ready`).
      this.noThread = true;
      const e: WorkerExit = { code: null, signal: null, error: serializeError(err) };
      queueMicrotask(() => this.threadExited(e));
    }
  }

  private attach(thread: WorkerHandle): void {
    this.thread = thread;
    thread.onMessage((m) => this.fromThread(m));
    thread.onExit((e) => this.threadExited(e));
  }

  private afterLocal(): void {
    if (this.exit) this.end(this.exit);
    else if (this.ending) this.end(this.ending);
    else if (this.threadReady && this.wanted) this.handOver();
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
      if (!this.wantRef) this.thread!.unref();
      if (this.wanted && this.local.key === undefined) this.handOver();
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

  /** Ends a slot that has no thread: now, or once its local job is done. */
  private endWithout(e: WorkerExit): void {
    this.ending ??= e;
    if (this.local.key === undefined) queueMicrotask(() => this.end(e));
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
