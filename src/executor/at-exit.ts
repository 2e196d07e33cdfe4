/**
 * What ends a process's executors when it exits (see openExecutors), and the process-group and spill-folder
 * helpers an Executor is built with.
 */
import { join } from 'node:path';
import { tempRoot } from '../util/temp-root.js';
import { ProcessGroups } from '../proc/groups.js';
import { Watchdog } from '../proc/watchdog.js';
export { killTokenCarriers } from '../proc/owner.js';

/** A fresh name for a folder of spilled output (made when the first job spills). */
export function spillFolder(): string {
  return join(tempRoot(), `spill-${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString('hex')}`);
}

/**
 * Executors not yet closed, ended when this process exits however it does (the end of its code, process.exit(),
 * an uncaught error): a worker process busy in a call would otherwise run on, holding the program's stderr (and
 * a pipeline) open, and SIGKILL (synchronous, so it is done before the process is gone) is the one way to stop
 * a call that blocks its worker. Python's executors join their workers at exit instead; this is where poolrun
 * differs. One 'exit' listener for all of them.
 */
const openExecutors = new Set<() => void>();

export function endAtExit(end: () => void): void {
  if (openExecutors.size === 0) process.on('exit', endAllAtExit);
  openExecutors.add(end);
}

export function forgetAtExit(end: () => void): void {
  openExecutors.delete(end);
  if (openExecutors.size === 0) process.off('exit', endAllAtExit);
}

function endAllAtExit(): void {
  for (const end of openExecutors) end();
}

/** A process-group registry with a watchdog that kills the groups if this process dies without doing it. */
export function watchedGroups(killAfterMs: number): ProcessGroups {
  return new ProcessGroups({ watchdog: new Watchdog({ killAfterMs }) });
}
