/**
 * The registry of job kinds: one line per kind (its folder holds the rest; kinds/types.ts lists its action type).
 * The order is the order a job's kind key is looked for, and the order kinds are named in messages.
 */
import type { Kind } from './kind.js';
import type { Job, JobKind } from './types.js';
import { run } from './run/index.js';
import { copy } from './copy/index.js';
import { download } from './download/index.js';
import { call } from './call/index.js';

export const KINDS: { readonly [K in JobKind]: Kind<K> } = { run, copy, download, call };

export const JOB_KINDS = Object.keys(KINDS) as readonly JobKind[];

/** The kind of a job: what the pool, the worker and the reporters ask instead of branching on `job.kind`. */
export function kindOf(job: Job): Kind {
  return KINDS[job.kind] as Kind;
}
