/**
 * Keeps the program alive while its code awaits an executor's future (result(), exception(), map(), asCompleted(),
 * wait()). After shutdown({wait: false, cancelFutures: true}) the pool no longer holds the program open, so that a
 * program whose code is done exits at once (its running jobs killed at 'exit'); but a program still awaiting a
 * running future is not done, and Node, seeing nothing else on its loop, would end it (exit 13, "unsettled
 * top-level await") and kill the job it waits for. One timer, ref'd while anyone waits, unref'd otherwise.
 */
let timer: NodeJS.Timeout | undefined;
let holds = 0;

/** Holds the program open until the returned function is called (calling it again does nothing). */
export function keepAlive(): () => void {
  if (holds++ === 0) {
    if (timer) timer.ref();
    else timer = setInterval(() => {}, 2 ** 31 - 1);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holds === 0) timer!.unref();
  };
}
