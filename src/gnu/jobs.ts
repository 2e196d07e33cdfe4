/**
 * GNU parallel's `-j/--jobs` forms, as a number of workers:
 *   N     N workers            N%   N percent of the cores, rounded up (at least 1)
 *   +N    cores + N            -N   cores - N (at least 1)
 *   0     as many as possible: here JOBS_ZERO workers, each started only when a job is waiting for one (GNU
 *         runs as many as its file handles allow, a few hundred).
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';

export const JOBS_ZERO = 1000;
const MAX = 10_000;

export function parseJobs(value: string, cores = availableParallelism()): number {
  const n = jobsCount(value, cores);
  if (n !== undefined) return n;
  throw new UsageError(
    `-j/--jobs: expected N, N%, +N, -N or 0 (as many as possible: ${JOBS_ZERO}), got "${value}"`,
  );
}

/**
 * The number of workers a -j/-w value names (undefined: none of the forms). N% is rounded up, as GNU parallel
 * does (75% of 2 cores is 2 workers).
 */
export function jobsCount(value: string, cores: number): number | undefined {
  const v = value.trim();
  let m = /^(\d{1,6})$/.exec(v);
  if (m) {
    const n = Number(m[1]);
    if (n === 0) return JOBS_ZERO;
    return n <= MAX ? n : undefined;
  }
  m = /^(\d{1,6}(?:\.\d{1,6})?)%$/.exec(v);
  if (m) {
    const p = Number(m[1]);
    if (p <= 0 || p > 1_000_000) return undefined;
    return Math.min(MAX, Math.max(1, Math.ceil((cores * p) / 100)));
  }
  m = /^([+-])(\d{1,6})$/.exec(v);
  if (m) {
    const n = Number(m[2]);
    return Math.min(MAX, Math.max(1, m[1] === '+' ? cores + n : cores - n));
  }
  return undefined;
}
