/**
 * Whether a stream gets colour: `--no-color` first, then FORCE_COLOR (as Node and chalk read it: it wins over
 * NO_COLOR), then NO_COLOR and TERM=dumb, then whether the stream is a terminal and how many colours it has.
 * chalk's own detection also sniffs process.argv, where a job's arguments live: poolrun decides the level itself.
 */
import { Chalk, type ChalkInstance, type ColorSupportLevel } from 'chalk';
import type { JobStatus } from '../kinds/types.js';

export function colorLevel(
  stream: { isTTY?: boolean; getColorDepth?: (env?: object) => number },
  color: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ColorSupportLevel {
  if (color === false) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '' || force === 'true') return 1;
    if (force === 'false') return 0;
    const n = Number.parseInt(force, 10);
    return Number.isNaN(n) ? 1 : (Math.max(0, Math.min(n, 3)) as ColorSupportLevel);
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (!stream.isTTY || typeof stream.getColorDepth !== 'function') return 0;
  const depth = stream.getColorDepth(env);
  return depth >= 24 ? 3 : depth >= 8 ? 2 : depth >= 4 ? 1 : 0;
}

export function chalkFor(
  stream: { isTTY?: boolean; getColorDepth?: (env?: object) => number },
  color: boolean | undefined,
): ChalkInstance {
  return new Chalk({ level: colorLevel(stream, color) });
}

/** A steady colour per job for `[id] ` prefixes (red is left out: it means failure). */
export function jobColor(c: ChalkInstance, index: number): (s: string) => string {
  const palette = [c.cyan, c.magenta, c.yellow, c.blue, c.green, c.cyanBright, c.magentaBright, c.blueBright];
  return palette[index % palette.length]!;
}

/** The colour of a status word: green done, red failed, yellow cancelled, cyan on its way. */
export function statusColor(c: ChalkInstance, status: JobStatus | 'started'): (s: string) => string {
  switch (status) {
    case 'succeeded':
      return c.green;
    case 'failed':
    case 'timed-out':
      return c.red;
    case 'cancelled':
      return c.yellow;
    default:
      return c.cyan;
  }
}
