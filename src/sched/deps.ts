/**
 * Dependencies at run time: which jobs may start, which wait, and which will never run because a job they
 * (transitively) start after did not succeed. Pure bookkeeping, no timers and no I/O: the dispatcher
 * (dispatch.ts) and --dry-run drive it.
 *
 * Jobs are added in input order. A job's `after` names jobs by id; a job file may name a later job (the
 * parser has checked that it exists and that there is no cycle), so a name not seen yet is waited for.
 * Memory: a byte per job (its state), explicit ids by name, and the jobs that wait.
 */
import type { Job } from '../kinds/types.js';
import { redactId } from '../util/redact.js';

/** What became of a job the tracker was holding, or of one just added. */
export type DepOutcome =
  | { job: Job; ready: true }
  | { job: Job; ready: false; error: { name: string; message: string }; cause: string };

const UNSEEN = 0;
const WAITING = 1; // added, not finished
const SUCCEEDED = 2;
const FAILED = 3; // failed, timed out or cancelled

interface Held {
  job: Job;
  /** Dependencies not yet succeeded. */
  missing: number;
  done: boolean;
}

export class DepTracker {
  private readonly explicit = new Map<string, number>();
  private state = new Uint8Array(1024);
  private hasExplicit = new Uint8Array(1024);
  private count = 0;
  /** Why a job that did not succeed did not: its id and what happened (`"a" failed`), for its dependents. */
  private readonly why = new Map<number, string>();
  /** Jobs waiting on a job, by that job's position. */
  private readonly dependents = new Map<number, Held[]>();
  /** Jobs waiting on an id not read yet (a later job of a file). */
  private readonly unseen = new Map<string, Held[]>();
  private heldCount = 0;

  /** Jobs held: added, waiting for a dependency. */
  get held(): number {
    return this.heldCount;
  }

  /** Some job waits for a job not read yet: the reader must read on, whatever else it waits for. */
  get needsInput(): boolean {
    return this.unseen.size > 0;
  }

  /**
   * A job skipped by --resume (done in an earlier run): it counts as what the joblog records, succeeded or
   * failed (its dependents are then cancelled, as in the run where it failed).
   */
  skipped(job: Job, succeeded = true): DepOutcome[] {
    this.register(job);
    return this.finished(job.index, succeeded ? 'succeeded' : 'failed', job.id);
  }

  /** Adds a job (in input order); returns it ready, cancelled (a dependency did not succeed) or nothing (held). */
  add(job: Job): DepOutcome[] {
    const out = this.register(job);
    this.state[job.index] = WAITING;
    const after = job.after;
    if (!after || after.length === 0) {
      out.push({ job, ready: true });
      return out;
    }
    const h: Held = { job, missing: 0, done: false };
    for (const ref of after) {
      const at = this.resolve(ref);
      if (at === undefined) {
        h.missing++;
        push(this.unseen, ref, h);
        continue;
      }
      const s = this.state[at]!;
      if (s === SUCCEEDED) continue;
      if (s === FAILED) {
        h.done = true;
        const root = this.why.get(at) ?? `"${ref}" did not succeed`;
        out.push(this.cancel(job, ref, root));
        // Jobs that named it before it was read follow it.
        out.push(...this.settle(job.index, job.id, root));
        return out;
      }
      h.missing++;
      push(this.dependents, at, h);
    }
    if (h.missing === 0) out.push({ job, ready: true });
    else this.heldCount++;
    return out;
  }

  /**
   * A job has finished: its waiting dependents become ready, or are cancelled (and theirs, transitively). A
   * job the tracker cancelled is reported finished through here as well (its own dependents follow it).
   */
  finished(
    index: number,
    status: 'succeeded' | 'failed' | 'timed-out' | 'cancelled',
    id: string,
  ): DepOutcome[] {
    return this.settle(index, id, status === 'succeeded' ? undefined : `"${redactId(id)}" ${verb(status)}`);
  }

  /** A job is done: succeeded (no `root`), or not, because of `root`; what waited on it follows. */
  private settle(index: number, id: string, root: string | undefined): DepOutcome[] {
    const out: DepOutcome[] = [];
    const work: Array<{ index: number; id: string; root: string | undefined }> = [{ index, id, root }];
    while (work.length) {
      const w = work.pop()!;
      this.grow(w.index);
      if (this.state[w.index] === SUCCEEDED || this.state[w.index] === FAILED) continue;
      const ok = w.root === undefined;
      this.state[w.index] = ok ? SUCCEEDED : FAILED;
      if (!ok) this.why.set(w.index, w.root!);
      const list = this.dependents.get(w.index);
      if (!list) continue;
      this.dependents.delete(w.index);
      for (const h of list) {
        if (h.done) continue;
        if (ok) {
          if (--h.missing === 0) {
            h.done = true;
            this.heldCount--;
            out.push({ job: h.job, ready: true });
          }
          continue;
        }
        h.done = true;
        this.heldCount--;
        const c = this.cancel(h.job, w.id, w.root!);
        out.push(c);
        work.push({ index: h.job.index, id: h.job.id, root: w.root });
      }
    }
    return out;
  }

  /**
   * Every job still held, cancelled: the run stops; or, with `unseenOnly`, the jobs waiting for an id no job
   * had (the input has ended; the parser rejects such ids before the run, so this is a safety net).
   */
  drain(reason: (job: Job) => { name: string; message: string }, unseenOnly = false): DepOutcome[] {
    const all = new Set<Held>();
    if (!unseenOnly)
      for (const list of this.dependents.values()) for (const h of list) if (!h.done) all.add(h);
    for (const list of this.unseen.values()) for (const h of list) if (!h.done) all.add(h);
    if (!unseenOnly) this.dependents.clear();
    this.unseen.clear();
    const out: DepOutcome[] = [];
    for (const h of [...all].sort((a, b) => a.job.index - b.job.index)) {
      h.done = true;
      this.heldCount--;
      const error = reason(h.job);
      out.push({ job: h.job, ready: false, error, cause: error.message });
    }
    return out;
  }

  /**
   * The cancellation of `job`, which runs after `dep`; `root` says which job did not succeed and how. The
   * message names both the dependency and, when it is further up the chain, the job that failed.
   */
  private cancel(job: Job, id: string, root: string): DepOutcome {
    const dep = redactId(id); // as `root` names it
    const direct = root.startsWith(`"${dep}" `);
    const message = direct
      ? `not run: it runs after "${dep}", which ${root.slice(dep.length + 3)}`
      : `not run: it runs after "${dep}", which did not run (${root})`;
    return { job, ready: false, error: { name: 'DependencyError', message }, cause: root };
  }

  /** Records a job's id and position; jobs waiting for its id now wait for its position. */
  private register(job: Job): DepOutcome[] {
    this.grow(job.index);
    this.count = Math.max(this.count, job.index + 1);
    if (job.id !== String(job.index + 1)) {
      this.hasExplicit[job.index] = 1;
      if (!this.explicit.has(job.id)) this.explicit.set(job.id, job.index);
    }
    const waiting = this.unseen.get(job.id);
    if (waiting) {
      this.unseen.delete(job.id);
      for (const h of waiting) if (!h.done) push(this.dependents, job.index, h);
    }
    return [];
  }

  private resolve(ref: string): number | undefined {
    const e = this.explicit.get(ref);
    if (e !== undefined) return e;
    const n = Number(ref);
    if (
      Number.isInteger(n) &&
      n >= 1 &&
      String(n) === ref &&
      n - 1 < this.count &&
      this.hasExplicit[n - 1] === 0
    )
      return this.state[n - 1] === UNSEEN ? undefined : n - 1;
    return undefined;
  }

  private grow(index: number): void {
    if (index < this.state.length) return;
    const size = Math.max(this.state.length * 2, index + 1);
    const s = new Uint8Array(size);
    s.set(this.state);
    this.state = s;
    const x = new Uint8Array(size);
    x.set(this.hasExplicit);
    this.hasExplicit = x;
  }
}

function verb(status: 'failed' | 'timed-out' | 'cancelled'): string {
  return status === 'timed-out' ? 'timed out' : status === 'cancelled' ? 'was cancelled' : 'failed';
}

function push<K, V>(map: Map<K, V[]>, key: K, v: V): void {
  const list = map.get(key);
  if (list) list.push(v);
  else map.set(key, [v]);
}
