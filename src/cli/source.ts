/** Where the jobs come from: a job file, stdin, or the arguments of --call. */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { formatFromExtension, parseJobText, readJobFile } from '../jobs/parse.js';
import type { Job } from '../jobs/types.js';
import type { RunOptions } from './options.js';

export interface JobSource {
  /** The jobs, in input order; an async iterable when they are read as they arrive. */
  jobs: Iterable<Job> | AsyncIterable<Job>;
  /** How many, when known before the run (a streamed input does not know). */
  total?: number;
  /** Shown in messages. */
  name: string;
}

export async function openSource(opts: RunOptions): Promise<JobSource> {
  if (opts.call !== undefined) return known(callJobs(opts.call, opts.args), '--call');
  if (opts.each !== undefined) throw new UsageError('--each is not available yet');
  const file = opts.jobFile;
  if (file === undefined || file === '-') {
    if (file === undefined && process.stdin.isTTY) {
      throw new UsageError(
        'no job file given and stdin is a terminal: pass a job file, - for stdin, or --each/--call',
      );
    }
    const text = await readStdin();
    return known(
      parseJobText(text, { name: '<stdin>', baseDir: process.cwd(), format: opts.format }).jobs,
      '<stdin>',
    );
  }
  const parsed = await readJobFile(file, opts.format ?? formatFromExtension(file));
  return known(parsed.jobs, file);
}

function known(jobs: Job[], name: string): JobSource {
  return { jobs, total: jobs.length, name };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `--call ./tasks.mjs#square 1 2 3`: one call per argument; arguments are JSON where they parse. */
export function callJobs(target: string, args: string[]): Job[] {
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
    call: { module, export: exportName, args: [parseArg(a)] },
  }));
}

function parseArg(a: string): unknown {
  try {
    return JSON.parse(a);
  } catch {
    return a;
  }
}
