import type { JobContext } from './context.js';
import type { Outcome } from './outcome.js';
import type { WorkerHalf } from './kind.js';
import type { Job, JobKind } from './types.js';
import { JOB_KINDS, kindOf, KINDS } from './index.js';

/** Worker halves loaded in this worker, by kind. */
const loaded = new Map<JobKind, WorkerHalf>();

async function load(kind: JobKind): Promise<WorkerHalf> {
  let half = loaded.get(kind);
  if (!half) {
    half = (await KINDS[kind].worker()) as WorkerHalf;
    loaded.set(kind, half);
  }
  return half;
}

/** Loads the worker halves of the kinds marked `preload` (before the worker says it is ready). */
export async function preloadKinds(): Promise<void> {
  await Promise.all(JOB_KINDS.filter((k) => KINDS[k].preload).map(load));
}

/** Loads a kind's worker half ahead of its first job (pool/hybrid.ts: the main thread's shell jobs). */
export async function loadKind(kind: JobKind): Promise<void> {
  await load(kind);
}

/** Runs one job inside a worker, by its kind's worker half (loaded on first use). */
export async function execute(ctx: JobContext): Promise<Outcome> {
  const half = loaded.get(ctx.job.kind) ?? (await load(kindOf(ctx.job).name));
  return half.execute(ctx.job, ctx);
}

/** The kind's step after each job (in the worker), whatever the job's outcome. */
export function afterJob(job: Job): void {
  loaded.get(job.kind)?.after?.();
}
