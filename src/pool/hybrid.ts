/**
 * The CLI's first worker thread, while it starts (issue 15 item 4, BENCHMARKS.md "B6: the first shell job from
 * the main thread"). A thread takes ~30 ms to be ready, and for a run of one short shell job that was the longest
 * part of poolrun's own time: the main thread had read the job file and sat idle waiting for it. Until the thread
 * is ready, this slot runs its shell jobs from the main thread (local.ts) — the same spawn, the same process group
 * registered with the pool, the same kill path — and holds any other job for the thread. Once the thread is ready
 * and the job it ran locally is done, it hands everything to the thread and is no more than the thread.
 *
 * A job run so reports `threadId` 0 (Node's main thread) and the CLI's pid, as it should: that is where it was
 * started. Jobs of a slot still run one at a time, in order. Used for the pre-started thread only (slots.ts): a
 * CLI run in thread mode, without an initializer (an initializer runs before a worker's first job).
 */
import type { CaptureOptions, FromWorker, ToWorker, WireJob } from './protocol.js';
import type { WorkerExit, WorkerHandle } from './handle.js';
import { Mailbox } from './handle.js';
import { LocalRunner } from './local.js';
import { loadKind } from '../kinds/execute.js';

interface Held extends WireJob {
  worker: number;
  capture: CaptureOptions;
}

export class HybridWorker implements WorkerHandle {
  readonly pid = process.pid;
  private readonly thread: WorkerHandle;
  private readonly mailbox = new Mailbox();
  private readonly local: LocalRunner;
  /** Jobs given to this slot and not started yet, in order. */
  private readonly held: Held[] = [];
  private readonly skipped = new Set<number>();
  private threadReady = false;
  /** Everything goes to the thread from now on. */
  private through = false;
  /** The thread's exit, kept while a local job runs (its `done` comes first). */
  private exit: WorkerExit | undefined;
  private ended = false;

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

  /** Where the slot's current job runs: the main thread (0) while a job runs locally. */
  get threadId(): number {
    return this.local.key !== undefined ? 0 : this.thread.threadId;
  }

  send(msg: ToWorker): void {
    if (this.through) {
      this.thread.send(msg);
      return;
    }
    switch (msg.type) {
      case 'batch':
        for (const j of msg.jobs) this.held.push({ ...j, worker: msg.worker, capture: msg.capture });
        this.pump();
        return;
      case 'skip':
        if (this.held.some((j) => j.key === msg.key)) this.skipped.add(msg.key);
        return;
      case 'abort':
        this.local.abort(msg.key);
        return;
      case 'ack':
        this.local.ack(msg.key, msg.bytes);
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
  ref(): void {
    this.thread.ref();
  }
  unref(): void {
    this.thread.unref();
  }

  /** Starts the next held job: locally while the thread is not ready, else hands the rest to the thread. */
  private pump(): void {
    while (this.local.key === undefined && !this.through && !this.ended) {
      const next = this.held[0];
      if (!next) return;
      if (this.skipped.delete(next.key)) {
        this.held.shift();
        this.emit({ type: 'done', key: next.key, outcome: skippedOutcome() });
        continue;
      }
      if (this.threadReady) {
        this.handOver();
        return;
      }
      // Anything but a shell job waits for the thread.
      if (next.job.kind !== 'run') return;
      this.held.shift();
      void this.local.run(next, next.worker, next.capture).then((outcome) => {
        this.emit({ type: 'done', key: next.key, outcome });
        // After the `done` (the pool then fails no job for the thread's death) and before the pool, handling it,
        // gives this slot its next job (it does so on a later microtask): a dead thread's slot takes no more.
        queueMicrotask(() => {
          if (this.exit) this.end(this.exit);
          else this.pump();
        });
      });
      return;
    }
  }

  /** The thread is ready and nothing runs here: it gets what is held, and every message from now on. */
  private handOver(): void {
    this.through = true;
    const jobs = this.held.splice(0);
    const skipped = [...this.skipped];
    this.skipped.clear();
    if (jobs.length) {
      const { worker, capture } = jobs[0]!;
      this.thread.send({ type: 'batch', worker, capture, jobs: jobs.map(({ key, job }) => ({ key, job })) });
      for (const key of skipped) this.thread.send({ type: 'skip', key });
    }
  }

  private fromLocal(m: FromWorker): void {
    // After the slot's end (the thread died, and this job's `done` came after its exit was said) the pool has
    // failed the job already.
    if (!this.ended) this.emit(m);
  }

  private fromThread(m: FromWorker): void {
    if (m.type === 'ready' && !this.through) {
      this.threadReady = true;
      this.pump();
      return;
    }
    this.emit(m);
  }

  private threadExited(e: WorkerExit): void {
    // A local job's `done` comes before the slot's end: the pool fails the job a dead worker was running.
    if (this.local.key !== undefined) this.exit = e;
    else this.end(e);
  }

  private end(e: WorkerExit): void {
    if (this.ended) return;
    this.ended = true;
    // Jobs held here never started: the pool puts them back in its queue when the slot ends.
    this.mailbox.exit(e);
  }

  /** Messages are handed on a microtask, never from inside the pool's own call (a `batch` it is sending). */
  private emit(m: FromWorker): void {
    queueMicrotask(() => this.mailbox.message(m));
  }
}

function skippedOutcome() {
  return { exitCode: null, signal: null, startedAt: Date.now(), durationMs: 0, skipped: true };
}
