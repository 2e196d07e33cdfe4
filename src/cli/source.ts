/** Where the jobs come from: a job file, stdin, the arguments of --each or --call. */
import { isJson, NON_FINITE_MESSAGE, nonFiniteAt } from '../util/json.js';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { depthMessage, tooDeepAt } from '../util/limits.js';
import { duplicateKeys, duplicateMessage } from '../jobs/duplicates.js';
import type { Job } from '../kinds/types.js';
import type { RunOptions } from './options.js';
import type { JobSource } from '../input/source.js';

export { streamedSource, type JobSource } from '../input/source.js';

export async function openSource(opts: RunOptions): Promise<JobSource> {
  if (opts.call !== undefined) {
    const jobs = callJobs(opts.call, opts.args);
    return { jobs, total: jobs.length, name: '--call' };
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
  const input: { file?: string; format?: RunOptions['format'] } = {};
  if (file !== undefined && file !== '-') input.file = file;
  if (opts.format !== undefined) input.format = opts.format;
  const { openJobInput } = await import('../input/job-input.js');
  return openJobInput(input);
}

/** `--call ./tasks.mjs#square 1 2 3`: one call per argument; arguments are JSON where they parse. */
function callJobs(target: string, args: string[]): Job[] {
  const hash = target.lastIndexOf('#');
  const modulePart = hash === -1 ? target : target.slice(0, hash);
  const exportName = hash === -1 ? 'default' : target.slice(hash + 1);
  if (!modulePart || !exportName) {
    throw new UsageError(`--call: expected MODULE#EXPORT such as ./tasks.mjs#square, got "${target}"`);
  }
  const module = /^(file|data|node):/.test(modulePart) ? modulePart : resolve(modulePart);
  return args.map((a, index) => ({
    id: String(index + 1),
    index,
    kind: 'call' as const,
    call: { module, export: exportName, args: [parseArg(a, index)] },
  }));
}

function parseArg(a: string, index: number): unknown {
  // A job document's nesting limit. A deep text that is not JSON stays the string it is: nothing nests in it.
  const deep = tooDeepAt(a);
  if (deep !== -1 && isJson(a)) {
    throw new UsageError(`--call: argument ${index + 1}, column ${deep + 1}: ${depthMessage()}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(a);
  } catch {
    return a;
  }
  const dup = duplicateKeys(a, value, { name: `argument ${index + 1}`, line: 1, column: 1 })[0];
  if (dup) throw new UsageError(`--call: ${dup.where}: ${duplicateMessage(dup)}`);
  const where = nonFiniteAt(value);
  if (where) {
    const at = where.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
    throw new UsageError(`--call: argument ${index + 1}${at}: ${NON_FINITE_MESSAGE}`);
  }
  return value;
}
