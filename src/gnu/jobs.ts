/**
 * GNU parallel's `-j/--jobs` forms, as a number of workers:
 *   N     N workers            N%   N percent of the cores (at least 1)
 *   +N    cores + N            -N   cores - N (at least 1)
 *   0     as many as possible: here JOBS_ZERO workers, each started only when a job is waiting for one (GNU
 *         runs as many as its file handles allow, a few hundred).
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';

export const JOBS_ZERO = 1000;
const MAX = 10_000;

export function parseJobs(value: string, cores = availableParallelism()): number {
  const v = value.trim();
  const fail = (): never => {
    throw new UsageError(
      `-j/--jobs: expected N, N%, +N, -N or 0 (as many as possible: ${JOBS_ZERO}), got "${value}"`,
    );
  };
  let m = /^(\d{1,6})$/.exec(v);
  if (m) {
    const n = Number(m[1]);
    if (n === 0) return JOBS_ZERO;
    return n <= MAX ? n : fail();
  }
  m = /^(\d{1,6}(?:\.\d{1,6})?)%$/.exec(v);
  if (m) {
    const p = Number(m[1]);
    if (p <= 0 || p > 1_000_000) fail();
    return Math.min(MAX, Math.max(1, Math.floor((cores * p) / 100)));
  }
  m = /^([+-])(\d{1,6})$/.exec(v);
  if (m) {
    const n = Number(m[2]);
    return Math.min(MAX, Math.max(1, m[1] === '+' ? cores + n : cores - n));
  }
  return fail();
}
