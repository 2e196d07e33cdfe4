/**
 * `--each 'CMD {}' [ARG...]`: one shell job per argument, or per line (NUL-separated item with -0) of stdin,
 * read as it arrives. Arguments are bytes from start to end: they need not be UTF-8, and reach the command
 * exactly (see quote.ts).
 */
import { UsageError } from '../errors.js';
import type { Job } from '../kinds/types.js';
import { streamedSource, type JobSource } from './source.js';
import { rawArguments } from '../util/argv.js';
import { stdinItems, stoppedAt } from './stdin-items.js';
import { compileTemplate, expandTemplate, type Template } from './template/index.js';
import { withValues } from './values.js';
import { isBlank } from './blank.js';

export interface EachOptions {
  command: string;
  args: readonly string[];
  /** Items on stdin are separated by NUL (`find -print0`, `xargs -0`), not newline. */
  nullSeparated: boolean;
  /** -r: an argument or item of only whitespace makes no job, as GNU parallel's -r. */
  skipBlank?: boolean;
}

export function eachSource(opts: EachOptions): JobSource {
  const template = compileTemplate(opts.command);
  if (opts.args.length > 0) {
    const args = rawArguments(opts.args).filter((a) => !(opts.skipBlank && isBlank(a)));
    const jobs = args.map((arg, i) => eachJob(template, arg, i));
    return { jobs, total: jobs.length, name: '--each' };
  }
  if (process.stdin.isTTY) {
    throw new UsageError(
      '--each without arguments reads them from stdin, which is a terminal: pass arguments, or pipe them in',
    );
  }
  return streamedSource('<stdin>', fromStdin(template, opts.nullSeparated, opts.skipBlank ?? false));
}

function eachJob(t: Template, arg: Buffer, index: number): Job {
  // Its argument rides along for --tag and --results (gnu/values.ts).
  return withValues({ id: String(index + 1), index, kind: 'run', run: expandTemplate(t, arg, index + 1) }, [
    arg,
  ]);
}

/** Empty items are skipped (as xargs does; with -r, blank ones too): empty input runs nothing and the run exits 0. */
async function* fromStdin(t: Template, nul: boolean, skipBlank: boolean): AsyncGenerator<Job[]> {
  let index = 0;
  // The jobs handed on: a bad item stops the run after them (the good ones read with it are not run).
  let submitted = 0;
  for await (const batch of stdinItems(nul, skipBlank, (p) => stoppedAt(p, submitted))) {
    const jobs: Job[] = [];
    for (const { line, item } of batch) {
      const zero = nul ? -1 : item.indexOf(0);
      if (zero !== -1) {
        const column = item.subarray(0, zero).toString('utf8').length + 1;
        throw stoppedAt(
          {
            where: `<stdin>:${line}:${column}`,
            message:
              'a NUL byte in a line: a command argument cannot hold one (for NUL-separated input use -0)',
          },
          submitted,
        );
      }
      jobs.push(eachJob(t, item, index++));
    }
    submitted += jobs.length;
    yield jobs;
  }
}
