import type { Job } from './types.js';
import { kindOf } from './index.js';
import { redactText } from '../util/redact.js';

/**
 * One line that says what a job would do (`--dry-run`, the joblog's Command column). It is shown and stored,
 * so it goes through the one redactor: a URL's user, password and query values, `password=…`, never appear.
 */
export function describeJob(job: Job): string {
  return redactText(job.shown ?? kindOf(job).describe(job));
}
