/**
 * The input values a job was made from (GNU parallel's arguments), carried beside the job for --tag, --tagstring
 * and --results. They ride on a symbol-keyed property: object spread keeps it, while structured clone (worker
 * threads) and JSON (worker processes, queues) leave it behind, so workers never pay for it.
 *
 * A source sets them with withValues(); a job without them (a job file) is tagged and filed by its id.
 */
import type { Job } from '../kinds/types.js';

const VALUES = Symbol('poolrun.gnuValues');

export interface JobValues {
  /** One entry per argument of the job, in source order: raw bytes (arguments need not be UTF-8). */
  values: Buffer[];
  /** The name of each value's source (`--header`), else its 1-based source number; same length as values. */
  names?: string[];
  /** Each value's place in its combination (1-based; -N puts several combinations in a job); absent: 1, 2, …. */
  places?: readonly number[];
}

export function withValues<J extends Job>(
  job: J,
  values: Buffer[],
  names?: string[],
  places?: readonly number[],
): J {
  const v: JobValues = { values, ...(names ? { names } : {}), ...(places ? { places } : {}) };
  Object.defineProperty(job, VALUES, { value: v, enumerable: true, configurable: true, writable: true });
  return job;
}

/** The job's values; a job that has none stands for itself by its id. */
export function valuesOf(job: Job): JobValues {
  const v = (job as unknown as Record<symbol, JobValues | undefined>)[VALUES];
  return v ?? { values: [Buffer.from(job.id)] };
}
