import { isMainThread } from 'node:worker_threads';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CallSpec } from '../types.js';
import type { JobContext } from '../context.js';
import type { Outcome } from '../outcome.js';
import { Capture } from '../capture.js';
import { emptyOutcome } from '../outcome.js';
import { serializeError } from '../outcome.js';
import { errnoCode, JobError, toSerialized } from '../job-error.js';

const modules = new Map<string, Promise<Record<string, unknown>>>();

/** A call's module (or an initializer's), by path or URL; loaded once per worker. */
export function importModule(specifier: string): Promise<Record<string, unknown>> {
  let p = modules.get(specifier);
  if (!p) {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(specifier) ? specifier : pathToFileURL(specifier).href;
    p = (import(url) as Promise<Record<string, unknown>>).catch((e: unknown) => {
      throw withoutOwnImporter(e);
    });
    modules.set(specifier, p);
    // A module that failed to load may be fixed on disk later in a long-lived worker: do not cache failures.
    p.catch(() => modules.delete(specifier));
  }
  return p;
}

/** This file, which Node names as the importer when a call's module is not found. */
const SELF = fileURLToPath(import.meta.url);

/**
 * `Cannot find module '/x.mjs' imported from /…/poolrun/dist/bundle/worker-main-ready-….cjs`: the importer is
 * poolrun's own file, which says nothing to the user; the message ends at the module's name. A module of theirs
 * that imports a missing one still names itself.
 */
function withoutOwnImporter(e: unknown): unknown {
  const err = e as { code?: unknown; message?: unknown };
  const tail = ` imported from ${SELF}`;
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && typeof err.message === 'string' && err.message.endsWith(tail))
    err.message = err.message.slice(0, -tail.length);
  return e;
}

/**
 * The function a module exports under `name`, bound to what it is looked up on; or undefined, with the names of the
 * functions it does export. A CommonJS module's `module.exports` is the namespace's `default`, and Node finds only
 * some of its names statically (`exports.g = …` yes, `module.exports = { f }` no): there, the name is also looked
 * up on `default`, as `require(module)[name]` would find it.
 */
export function exportedFunction(
  specifier: string,
  mod: Record<string, unknown>,
  name: string,
): { fn: (...a: unknown[]) => unknown; names?: undefined } | { fn?: undefined; names: string[] } {
  const own = mod[name];
  if (typeof own === 'function') return { fn: own as (...a: unknown[]) => unknown };
  const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function' && k !== 'default');
  const exports = mod.default;
  if (
    isCommonJs(specifier, mod) &&
    exports !== null &&
    (typeof exports === 'object' || typeof exports === 'function')
  ) {
    const target = exports as Record<string, unknown>;
    const fn = target[name];
    if (typeof fn === 'function' && name !== 'default')
      return { fn: (...a: unknown[]) => (fn as (...b: unknown[]) => unknown).apply(target, a) };
    for (const k of Object.keys(target))
      if (typeof target[k] === 'function' && !names.includes(k)) names.push(k);
    return { names };
  }
  if (typeof exports === 'function') names.push('default');
  return { names };
}

/** Whether Node loaded the module as CommonJS: its CommonJS loader keeps it in require.cache. */
function isCommonJs(specifier: string, mod: Record<string, unknown>): boolean {
  if ('module.exports' in mod) return true; // Node 23 names module.exports in the namespace
  let file: string;
  try {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(specifier) ? specifier : pathToFileURL(specifier).href;
    if (!url.startsWith('file:')) return false;
    file = fileURLToPath(url);
  } catch {
    return false;
  }
  const cache = createRequire(file).cache;
  if (file in cache) return true;
  try {
    return realpathSync(file) in cache;
  } catch {
    return false;
  }
}

type Write = typeof process.stdout.write;

/**
 * Calls an exported function inside this worker. Whatever it prints through process.stdout/stderr (console.log
 * included) is captured as the job's output, as a shell job's would be. Runs one call at a time per worker, so
 * swapping the streams' write functions is safe.
 */
export async function runCall(spec: CallSpec, ctx: JobContext): Promise<Outcome> {
  const { job } = ctx;
  const startedAt = Date.now();
  const out = new Capture(ctx.capture, `${ctx.key}.stdout`);
  const err = new Capture(ctx.capture, `${ctx.key}.stderr`);
  const restoreStreams = redirect(out, err, ctx);
  const restoreEnv = job.env ? applyEnv(job.env) : undefined;
  const outcome = emptyOutcome(startedAt, undefined, startedAt);
  let previousCwd: string | undefined;
  try {
    if (job.cwd !== undefined && job.cwd !== process.cwd()) {
      if (!isMainThread && !process.send) {
        throw new JobError(
          'Error',
          'cwd is not supported for call jobs in thread mode (a thread cannot chdir); use --mode process',
        );
      }
      const here = process.cwd();
      try {
        process.chdir(job.cwd);
      } catch (e) {
        throw new JobError('Error', `cwd does not exist or is not a directory: ${job.cwd}`, errnoCode(e));
      }
      previousCwd = here;
    }
    const mod = await importModule(spec.module);
    const { fn, names } = exportedFunction(spec.module, mod, spec.export);
    if (!fn) {
      throw new JobError(
        'TypeError',
        `${spec.module} has no exported function "${spec.export}"` +
          (names.length ? ` (it exports: ${names.join(', ')})` : ''),
      );
    }
    outcome.value = await fn(...spec.args);
  } catch (e) {
    // poolrun's own errors carry no stack (it would point inside poolrun); the function's keep theirs.
    outcome.error = e instanceof JobError ? toSerialized(e.name, e) : serializeError(e);
  } finally {
    if (previousCwd !== undefined) process.chdir(previousCwd);
    restoreEnv?.();
    restoreStreams();
    outcome.durationMs = Date.now() - startedAt;
    const o = out.finish();
    const e = err.finish();
    outcome.stdout = o.data;
    outcome.stderr = e.data;
    if (o.file) outcome.stdoutFile = o.file;
    if (e.file) outcome.stderrFile = e.file;
    if (o.truncated) outcome.stdoutTruncated = true;
    if (e.truncated) outcome.stderrTruncated = true;
  }
  return outcome;
}

function redirect(out: Capture, err: Capture, ctx: JobContext): () => void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved to be put back on the same object
  const so = process.stdout.write;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved to be put back on the same object
  const se = process.stderr.write;
  process.stdout.write = capturingWrite(out, 'stdout', ctx);
  process.stderr.write = capturingWrite(err, 'stderr', ctx);
  return () => {
    process.stdout.write = so;
    process.stderr.write = se;
  };
}

function capturingWrite(cap: Capture, stream: 'stdout' | 'stderr', ctx: JobContext): Write {
  return (chunk: string | Uint8Array, encOrCb?: unknown, cb?: unknown) => {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encOrCb === 'string' ? (encOrCb as BufferEncoding) : 'utf8')
        : Buffer.from(chunk);
    cap.push(buf);
    // A function's writes cannot be paused: past the credit, its thread waits for the main thread to print.
    if ((ctx.capture.stream || ctx.capture.streamCalls) && !ctx.output(stream, buf)) ctx.waitForOutputTaken();
    const done = typeof encOrCb === 'function' ? encOrCb : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  };
}

function applyEnv(env: Record<string, string>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(env)) {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
