import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from '../kinds/types.js';
import { checkTaskOptions } from './check.js';

export const TASK = Symbol.for('poolrun.task');

export interface TaskOptions {
  /** Per-call limit in ms; the worker running an overdue call is ended and replaced. */
  timeout?: number;
  retries?: number;
}

/** A function that lives in a module, callable in a worker: what Python passes as `fn` to submit and map. */
export interface Task<A extends unknown[] = unknown[], R = unknown> {
  readonly [TASK]: true;
  readonly module: string;
  readonly export: string;
  readonly options: TaskOptions;
  /** Type-only: the function's arguments and result. */
  readonly __signature?: (...args: A) => R;
}

type AnyFn = (...args: never[]) => unknown;

/**
 * Names an exported function for the pool to call: `task(new URL('./tasks.js', import.meta.url), 'square')`.
 * A relative path resolves against the current folder. Pass the function's type for typed results:
 * `task<typeof import('./tasks.js').square>(...)`.
 */
export function task<F extends AnyFn = (...args: unknown[]) => unknown>(
  module: string | URL,
  exportName = 'default',
  options: TaskOptions = {},
): Task<Parameters<F>, ReturnType<F>> {
  checkTaskOptions(module, exportName, options);
  const m = module instanceof URL ? module.href : module;
  const path = /^(file|data|node):/.test(m) ? (m.startsWith('file:') ? fileURLToPath(m) : m) : resolve(m);
  return { [TASK]: true, module: path, export: exportName, options };
}

/** Any task, whatever its signature (a function type taking never[] accepts every function). */
export type AnyTask = Task<never[], unknown>;

export function isTask(v: unknown): v is AnyTask {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[TASK] === true;
}

/** The `call` job that runs a task on one argument list; `index` numbers it among the executor's jobs. */
export function callJob(t: AnyTask, args: unknown[], index: number): Job {
  const job: Job = {
    id: String(index + 1),
    index,
    kind: 'call',
    call: { module: t.module, export: t.export, args },
  };
  if (t.options.timeout !== undefined) job.timeoutMs = t.options.timeout;
  if (t.options.retries !== undefined) job.retries = t.options.retries;
  return job;
}
