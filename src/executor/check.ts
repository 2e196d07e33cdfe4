/**
 * The pieces of the library's argument checks (options.ts): a bad value is a UsageError naming the call, the
 * option and the value. Also task()'s own check (task.ts), kept here so that options.ts can import task.ts.
 */
import { UsageError } from '../errors.js';

/** The longest a Node timer waits (a longer one fires at once, with a warning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A value as a message shows it. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return v.toString();
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return Object.prototype.toString.call(v);
  return String(v);
}

export function fail(where: string, name: string, expected: string, v: unknown): never {
  throw new UsageError(`${where}: ${name} must be ${expected}, got ${show(v)}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** An options argument: absent, or an object; a plain object's keys must be among `keys`. */
export function checkObject(where: string, name: string, v: unknown, keys: readonly string[]): void {
  if (v === undefined) return;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(where, name, 'an object', v);
  if (!isPlainObject(v)) return;
  for (const k of Object.keys(v)) {
    if (!keys.includes(k))
      throw new UsageError(`${where}: unknown option ${JSON.stringify(k)} (known: ${keys.join(', ')})`);
  }
}

/** An integer from `min` (and at most `max`), or absent. */
export function checkInteger(where: string, name: string, v: unknown, min: number, max = Infinity): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    fail(where, name, `an integer from ${min}${max === Infinity ? '' : ` to ${max}`}`, v);
}

/** A number of ms from 0 to what a timer can wait, or absent. */
export function checkMs(where: string, name: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || v > MAX_TIMER_MS)
    fail(where, name, `a number of ms from 0 to ${MAX_TIMER_MS}`, v);
}

/** A wait's timeout (ms): absent (or null, Python's None) for none, else a number; ≤ 0 means "now". */
export function checkTimeout(where: string, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || Number.isNaN(v)) fail(where, 'timeout', 'a number of ms', v);
}

const TASK_KEYS = ['timeout', 'retries'];

export function checkTaskOptions(module: unknown, exportName: unknown, opts: unknown): void {
  const where = 'task()';
  if (typeof module !== 'string' && !(module instanceof URL))
    fail(where, 'module', 'a path or a URL', module);
  if (module === '') fail(where, 'module', 'a path or a URL', module);
  // Another scheme (`http:`) was taken for a relative path: "Cannot find module '<cwd>/http:/…'" at the first call.
  const text = module instanceof URL ? module.href : module;
  if (/^[a-z][a-z0-9+.-]+:/i.test(text) && !/^(?:file|data|node):/i.test(text))
    fail(where, 'module', 'a path, or a file:, node: or data: URL', module);
  if (typeof exportName !== 'string' || exportName === '') fail(where, 'exportName', 'a name', exportName);
  checkObject(where, 'options', opts, TASK_KEYS);
  if (opts === undefined) return;
  const o = opts as { timeout?: unknown; retries?: unknown };
  if (
    o.timeout !== undefined &&
    (typeof o.timeout !== 'number' || !(o.timeout > 0) || o.timeout > MAX_TIMER_MS)
  )
    fail(where, 'timeout', `a number of ms above 0, at most ${MAX_TIMER_MS}`, o.timeout);
  checkInteger(where, 'retries', o.retries, 0);
}
