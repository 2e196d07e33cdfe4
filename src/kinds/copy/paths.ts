/** Small path and concurrency helpers of the copy kind. */
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';

/** Runs `fn` over `items`, at most `limit` at a time; the first failure stops new starts and is thrown. */
export async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}

export async function realpathOr(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

/** Where `to` really is: its deepest existing folder resolved (symbolic links and all), the rest appended. */
export async function realDestination(to: string): Promise<string> {
  const rest: string[] = [];
  for (let dir = to; ;) {
    try {
      return join(await realpath(dir), ...rest.reverse());
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return to;
      rest.push(basename(dir));
      dir = parent;
    }
  }
}

export function isWithin(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * A file's access and modification times as utimes takes them, in seconds, from its nanoseconds: to a fraction of a
 * microsecond (a Stats' Date is rounded to the millisecond, which put a time of x.9996 s into the next second, newer
 * than its source for make), and never past the second the source's time is in. A time before 1970 is a numeric
 * string, to the microsecond and never newer: Node's utimes takes any negative number for "now".
 */
export function timesOf(st: { atimeNs: bigint; mtimeNs: bigint }): [Seconds, Seconds] {
  return [seconds(st.atimeNs), seconds(st.mtimeNs)];
}

/** Seconds since 1970 as utimes takes them: a number, or a numeric string before 1970. */
export type Seconds = number | string;

const NS = 1_000_000_000n;

function seconds(ns: bigint): Seconds {
  if (ns < 0n) {
    let us = ns / 1000n;
    if (us * 1000n !== ns) us -= 1n;
    // Half a microsecond more: libuv keeps microseconds, cut toward zero (toward now, for a time before 1970).
    return `-${-us / 1_000_000n}.${String(-us % 1_000_000n).padStart(6, '0')}5`;
  }
  const whole = ns / NS;
  const w = Number(whole);
  const t = w + Number(ns - whole * NS) / 1e9;
  // A double near the next second may round up to it: stay below.
  return t >= w + 1 ? w + 1 - 1e-6 : t;
}
