/**
 * A shell job run from the main thread, as a worker runs it (worker-main.ts runOne), for a pool whose first worker
 * thread is still starting (hybrid.ts). A shell job needs nothing of a worker but a thread to spawn it from, and
 * the native spawn (posix_spawn) costs the same from any thread; the kill path is the pool's, by process group,
 * whatever thread spawned the group. What it says goes to `post`, as a worker's messages do.
 */
import type { CaptureOptions, FromWorker, Outcome, WireJob } from './protocol.js';
import { OUTPUT_CREDIT, OUTPUT_RESUME, serializeError } from './protocol.js';
import type { JobContext } from '../kinds/context.js';
import { emptyOutcome } from '../kinds/outcome.js';
import { afterJob, execute } from '../kinds/execute.js';
import { leaderStart } from '../proc/owner.js';

/** The running job: what of its streamed output is not printed yet, and its abort controller. */
interface Running {
  key: number;
  unacked: number;
  waiter: (() => void) | undefined;
  ac: AbortController | undefined;
}

export class LocalRunner {
  private readonly post: (m: FromWorker) => void;
  private running: Running | undefined;

  constructor(post: (m: FromWorker) => void) {
    this.post = post;
  }

  /** The key of the job it runs, if any. */
  get key(): number | undefined {
    return this.running?.key;
  }

  abort(key: number): void {
    const r = this.running;
    if (r?.key === key) (r.ac ??= new AbortController()).abort();
  }

  ack(key: number, bytes: number): void {
    const r = this.running;
    if (r?.key !== key) return;
    r.unacked -= bytes;
    if (r.unacked <= OUTPUT_RESUME && r.waiter) {
      const go = r.waiter;
      r.waiter = undefined;
      go();
    }
  }

  /** Runs one shell job, one at a time; resolves with its outcome (the caller says `done`). */
  async run(w: WireJob, worker: number, capture: CaptureOptions): Promise<Outcome> {
    const r: Running = { key: w.key, unacked: 0, waiter: undefined, ac: undefined };
    this.running = r;
    const { post } = this;
    const ctx: JobContext = {
      key: w.key,
      job: w.job,
      worker,
      capture,
      mainThread: true,
      get signal() {
        return (r.ac ??= new AbortController()).signal;
      },
      spawned(pid, start) {
        post({ type: 'spawned', key: w.key, pid, leader: start ?? leaderStart(pid, process.pid) ?? null });
      },
      output(stream, data) {
        post({ type: 'output', key: w.key, stream, data });
        r.unacked += data.byteLength;
        return r.unacked <= OUTPUT_CREDIT;
      },
      whenOutputTaken(fn) {
        if (r.unacked <= OUTPUT_RESUME) fn();
        else r.waiter = fn;
      },
      // Only a call's synchronous writes wait so; a shell job's pipes are paused instead (whenOutputTaken).
      waitForOutputTaken() {},
    };
    let outcome: Outcome;
    try {
      // Started once the pool's `batch` call has returned: the pool stamps the job's start (its `started` event)
      // after it, and a job spawned inside it would have started before that time (a retry's delay, counted from
      // its end, seemed a few ms short), and would run inside the pool's own call.
      await Promise.resolve();
      outcome = await execute(ctx);
    } catch (e) {
      outcome = emptyOutcome(Date.now(), serializeError(e));
    } finally {
      this.running = undefined;
      afterJob(w.job);
    }
    return outcome;
  }
}
