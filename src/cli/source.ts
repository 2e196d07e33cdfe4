/** Where the jobs come from: a job file, stdin, the arguments of --each or --call. */
import { UsageError } from '../errors.js';
import type { RunOptions } from './options.js';
import type { JobSource } from '../input/source.js';
import type { JobInputOptions } from '../input/job-input.js';

export { streamedSource, type JobSource } from '../input/source.js';

export async function openSource(opts: RunOptions): Promise<JobSource> {
  // Jobs through a queue meet the workers' exec limit, not this machine's: every way in below skips the check.
  if (opts.queue) (await import('../util/limits.js')).jobsRunElsewhere();
  if (opts.call !== undefined) {
    const { callSource } = await import('../input/calls.js');
    // Through a queue the module is the workers' to find (README: paths resolve on the worker host).
    return callSource(opts.call, opts.args, opts.nullSeparated, opts.gnu?.skipBlank ?? false, !opts.queue);
  }
  // Each way in loads only its own modules: start-up time is part of every short run.
  if (opts.gnu?.pipe) return (await import('../gnu/source.js')).pipeSourceFor(opts);
  if (opts.gnuInput)
    return (await import('../input/gnu/source.js')).gnuSource(
      opts.gnuInput,
      opts.nullSeparated,
      opts.gnu?.skipBlank,
    );
  if (opts.each !== undefined) {
    const { eachSource } = await import('../input/each.js');
    return eachSource({
      command: opts.each,
      args: opts.args,
      nullSeparated: opts.nullSeparated,
      skipBlank: opts.gnu?.skipBlank ?? false,
    });
  }
  const file = opts.jobFile;
  if (file === undefined && process.stdin.isTTY) {
    throw new UsageError(
      'no job file given and stdin is a terminal: pass a job file, - for stdin, or --each/--call',
    );
  }
  const { ownFiles } = await import('./same-file.js');
  const input: JobInputOptions = { own: ownFiles(opts) };
  if (file !== undefined && file !== '-') input.file = file;
  if (opts.format !== undefined) input.format = opts.format;
  const { openJobInput } = await import('../input/job-input.js');
  return openJobInput(input);
}
