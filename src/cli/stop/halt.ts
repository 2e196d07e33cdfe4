/** --halt: the first failure (or timeout) starts nothing more; with `now`, running trees are killed too. */
import type { JobResult } from '../../kinds/types.js';
import type { Halt } from '../options.js';
import type { RunStop } from './run-stop.js';

/** Returns what to call with every finished job's result. */
export function haltPolicy(stop: RunStop, halt: Halt): (result: JobResult) => void {
  return (result) => {
    if (halt === 'never' || (result.status !== 'failed' && result.status !== 'timed-out')) return;
    if (stop.reason) return;
    stop.reason = 'halt';
    stop.haltedBy = result;
    stop.stopStarting(halt === 'now');
  };
}
