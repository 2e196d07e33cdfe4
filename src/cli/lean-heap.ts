/**
 * A long CLI run keeps its heaps near what they hold. V8 sizes an isolate's next old-generation limit as a
 * multiple of what survived the last full collection (up to 4× for a fast-allocating isolate): a run of a million
 * tiny jobs holds ~12 MB of live objects on the main thread but grew a ~60 MB old generation, and ~20 MB in each
 * worker thread for ~4 MB live (BENCHMARKS.md, B3). `--heap-growing-percent` caps that multiple; V8 reads it at each
 * collection, so it takes effect when set at run time, in every isolate of the process (worker threads included).
 *
 * Set only once the run has lasted LEAN_AFTER_MS: any V8 flag set changes the flag hash, and Node then compiles
 * the built-in modules it loads afterwards without their code cache (a worker thread started after it takes
 * ~1.5× as long). A short run, where start-up is what counts, never sets it. The CLI only: a program that uses
 * the library keeps its own V8 settings.
 */
import { setFlagsFromString } from 'node:v8';

/** The old generation may grow to 1.2× what survived the last full collection (V8's own factor: 1.1–4). */
export const LEAN_HEAP_FLAG = '--heap-growing-percent=20';
export const LEAN_AFTER_MS = 1000;

let scheduled = false;

/**
 * Sets LEAN_HEAP_FLAG after `afterMs`, once per process, on a timer that keeps nothing alive. Returns a function
 * that cancels it if it has not fired (a run that ends first).
 */
export function leanHeapLater(
  afterMs = LEAN_AFTER_MS,
  setFlags: (flags: string) => void = setFlagsFromString,
): () => void {
  if (scheduled) return () => {};
  scheduled = true;
  const timer = setTimeout(() => setFlags(LEAN_HEAP_FLAG), afterMs);
  timer.unref();
  return () => {
    clearTimeout(timer);
    scheduled = false;
  };
}
