/**
 * The mark a worker puts on what its calls start (proc/owner.ts WORKER_TAG_VAR): a call's child processes are in no
 * process group poolrun knows, so when the call times out or is cancelled (its worker is ended), or its worker dies
 * under it, the main thread finds them by this tag, which they inherit (ProcessGroups.endWorkerChildren).
 *
 * It is in process.env while a job whose worker is ended to stop it (a call) runs, and from the worker's start (its
 * initializer's processes end with the worker too); a shell job never sees it (its group is what ends it). It is
 * set or removed only when the kind of job changes, not per call: a new setenv() per call would cost ~1 µs, and
 * glibc keeps every distinct value it was ever given (37 MB for 300,000), so the tag names the worker, not the job.
 * A thread's process.env is its own copy, and child_process hands it to the children the thread starts.
 */
import { threadId } from 'node:worker_threads';
import { RUN_ID_VAR } from '../proc/watchdog.js';
import { WORKER_TAG_VAR, workerTag } from '../proc/owner.js';

/** The variable's value before this worker (a poolrun run inside another's call), and with this worker's tag. */
let outer: string | undefined;
let mine: string | undefined;
let on = false;

/** Marks what this worker starts from now on, once the run's token is in its environment. */
export function startTagging(): void {
  const token = process.env[RUN_ID_VAR];
  if (token === undefined) return;
  outer = process.env[WORKER_TAG_VAR];
  const tag = workerTag(token, process.pid, threadId);
  mine = outer ? `${outer} ${tag}` : tag;
  on = false;
  tagChildren(true);
}

/** Whether what the next job starts carries this worker's tag. */
export function tagChildren(yes: boolean): void {
  if (yes === on || mine === undefined) return;
  on = yes;
  if (yes) process.env[WORKER_TAG_VAR] = mine;
  else if (outer === undefined) delete process.env[WORKER_TAG_VAR];
  else process.env[WORKER_TAG_VAR] = outer;
}
