/** The command line's --delay, --memfree and --load, checked: a bad value is a UsageError naming the option. */
import { availableParallelism, totalmem } from 'node:os';
import { UsageError } from '../errors.js';
import { durationProblem, parseDuration } from '../util/duration.js';
import { parseLoad, parseSize, type GateOptions } from './gate.js';

export interface RawSchedOptions {
  delay?: string;
  memfree?: string;
  load?: string;
}

export function schedOptions(raw: RawSchedOptions, queue: boolean): GateOptions | undefined {
  const out: GateOptions = {};
  if (raw.delay !== undefined) {
    const ms = parseDuration(raw.delay);
    if (ms === undefined) throw new UsageError(`--delay: ${durationProblem(raw.delay)}`);
    if (ms > 0) out.delayMs = ms;
  }
  if (raw.memfree !== undefined) {
    const n = parseSize(raw.memfree);
    if (n === undefined)
      throw new UsageError(
        `--memfree: expected a size such as 500M or 2G (K M G T P: ×1024, k m g t p: ×1000), got ${JSON.stringify(raw.memfree)}`,
      );
    // Available memory never exceeds the machine's: such a run would wait for good, saying nothing (a probe).
    if (n > totalmem())
      throw new UsageError(
        `--memfree ${raw.memfree} is more than this machine's memory (${Math.floor(totalmem() / 2 ** 20)} MiB): no job could ever start`,
      );
    out.memfree = n;
  }
  if (raw.load !== undefined) {
    const n = parseLoad(raw.load, availableParallelism());
    if (n === undefined)
      throw new UsageError(
        `--load: expected a load average above 0 (such as 4 or 2.5) or a percentage of cores (such as 80%), got ${JSON.stringify(raw.load)}`,
      );
    out.load = n;
  }
  if (queue && (out.memfree !== undefined || out.load !== undefined))
    throw new UsageError(
      `${out.memfree !== undefined ? '--memfree' : '--load'} cannot be used with --queue: it measures this machine, and the jobs run on the workers' (only --delay applies)`,
    );
  return Object.keys(out).length ? out : undefined;
}
