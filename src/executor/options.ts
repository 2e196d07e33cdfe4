/**
 * The checks of what a library caller passes: a bad option or argument is a UsageError naming it and its value
 * (where Python raises ValueError or TypeError), thrown by the call that took it, before anything runs.
 */
import { UsageError } from '../errors.js';
import { checkInteger, checkMs, checkObject, checkTimeout, fail, MAX_TIMER_MS } from './check.js';
import type { PoolMode } from '../pool/handle.js';
import { isTask } from './task.js';
import type { ExecutorOptions, MapOptions, ShutdownOptions } from './types.js';

/** Every option an executor takes (README "The library"); any other key of a plain object is a mistake. */
const EXECUTOR_KEYS: readonly (keyof ExecutorOptions)[] = [
  'maxWorkers',
  'killAfter',
  'retries',
  'retryDelay',
  'captureLimit',
  'capture',
  'spillDir',
  'onEvent',
  'groups',
  'workerStdout',
  'initializer',
  'initargs',
];
const CAPTURE_KEYS = ['keep', 'stream', 'spill'];
const MAP_KEYS: readonly (keyof MapOptions)[] = ['timeout', 'chunksize', 'buffersize'];

export function executorName(mode: PoolMode): string {
  return mode === 'thread' ? 'ThreadPoolExecutor' : 'ProcessPoolExecutor';
}

export function checkExecutorOptions(mode: PoolMode, opts: unknown): void {
  const where = `new ${executorName(mode)}()`;
  checkObject(where, 'options', opts, EXECUTOR_KEYS);
  if (opts === undefined) return;
  const o = opts as Record<string, unknown>;
  // null is Python's max_workers=None: the default.
  if (o['maxWorkers'] !== null) checkInteger(where, 'maxWorkers', o['maxWorkers'], 1);
  checkMs(where, 'killAfter', o['killAfter']);
  checkInteger(where, 'retries', o['retries'], 0);
  checkMs(where, 'retryDelay', o['retryDelay']);
  checkInteger(where, 'captureLimit', o['captureLimit'], 1);
  checkObject(where, 'capture', o['capture'], CAPTURE_KEYS);
  const capture = (o['capture'] ?? {}) as Record<string, unknown>;
  for (const k of CAPTURE_KEYS) {
    if (capture[k] !== undefined && typeof capture[k] !== 'boolean')
      fail(where, `capture.${k}`, 'a boolean', capture[k]);
  }
  const spillDir = o['spillDir'];
  if (spillDir !== undefined && (typeof spillDir !== 'string' || spillDir === ''))
    fail(where, 'spillDir', 'a folder name', spillDir);
  if (o['onEvent'] !== undefined && typeof o['onEvent'] !== 'function')
    fail(where, 'onEvent', 'a function', o['onEvent']);
  if (o['groups'] !== undefined && (o['groups'] === null || typeof o['groups'] !== 'object'))
    fail(where, 'groups', 'a process-group registry', o['groups']);
  const init = o['initializer'];
  if (init !== undefined && !isTask(init))
    fail(where, 'initializer', "a task (task('./m.js', 'name'))", init);
  const initargs = o['initargs'];
  if (initargs !== undefined) {
    if (!Array.isArray(initargs)) fail(where, 'initargs', 'an array', initargs);
    checkSendable(where, 'initargs', initargs);
  }
}

/**
 * Values a worker is started with must survive the trip: a structured clone (a thread's workerData, a process's
 * first IPC message, with advanced serialization). A function, a symbol, a WeakMap… cannot: Python's pickling
 * error.
 */
function checkSendable(where: string, name: string, v: unknown): void {
  try {
    structuredClone(v);
  } catch (e) {
    throw new UsageError(
      `${where}: ${name} cannot be copied to a worker: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

export function checkMapOptions(fn: unknown, items: unknown, opts: unknown): void {
  const where = 'map()';
  if (!isTask(fn)) fail(where, 'the function', "a task (task('./m.js', 'name'))", fn);
  const iterable =
    items !== null &&
    items !== undefined &&
    (Symbol.iterator in Object(items) || Symbol.asyncIterator in Object(items));
  if (!iterable) fail(where, 'items', 'an iterable or an async iterable', items);
  checkObject(where, 'options', opts, MAP_KEYS);
  if (opts === undefined) return;
  const o = opts as MapOptions;
  checkTimeout(where, o.timeout);
  checkInteger(where, 'chunksize', o.chunksize, 1);
  checkInteger(where, 'buffersize', o.buffersize, 1);
}

const SHUTDOWN_KEYS: readonly (keyof ShutdownOptions)[] = ['wait', 'cancelFutures', 'kill'];

/** shutdown()'s options: a typo (`cancel_futures`) or a value of another type would silently change nothing. */
export function checkShutdownOptions(opts: unknown): void {
  const where = 'shutdown()';
  checkObject(where, 'options', opts, SHUTDOWN_KEYS);
  const o = (opts ?? {}) as Record<string, unknown>;
  for (const k of SHUTDOWN_KEYS)
    if (o[k] !== undefined && typeof o[k] !== 'boolean') fail(where, k, 'a boolean', o[k]);
}

/**
 * The wait before retry `attempt` + 1: `base` doubled per attempt, at most a timer's longest (--retry-delay 20d
 * --retries 3 asked for 40 days, which a timer cannot wait, and many retries reached Infinity).
 */
export const backoff = (base: number, attempt: number): number =>
  Math.min(base * 2 ** (attempt - 1), MAX_TIMER_MS);
