/**
 * No output file is an input or another output (F5): `--json jobs.json jobs.json` would replace the job file
 * with the results, `--json out --junit out` keep one document of two. Checked before anything runs (exit 2).
 * The same file is the same device and inode when it exists, else the same path once its folder is resolved.
 * The joblog that --resume (or --schedule longest-first) reads is appended to on purpose: it is no input here.
 */
import { fstatSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { printable } from '../util/text.js';
import { followLinks } from '../util/atomic.js';
import type { RunOptions } from './options.js';
import type { OwnFile } from '../jobs/destinations.js';

interface Named {
  /** `--json out.json`, `the job file jobs.json`: how a message names it. */
  what: string;
  key: string | undefined;
}

/**
 * The files a run of a job file reads and writes, which none of its copies or downloads may write (F5 for the
 * jobs: a copy `"to": "log.txt"` replaced the joblog, and --resume then found no line of it).
 */
export function ownFiles(opts: RunOptions): OwnFile[] {
  const own = outputFiles(opts);
  if (opts.jobFile !== undefined && opts.jobFile !== '-' && opts.jobFile !== '')
    own.push({ what: `the job file ${printable(opts.jobFile)}`, path: opts.jobFile });
  return own;
}

/** The files a run writes, as its options name them (`-`: stdout, none). */
function outputFiles(opts: RunOptions): OwnFile[] {
  const files: OwnFile[] = [];
  const add = (option: string, path: string | undefined) => {
    if (path !== undefined && path !== '-' && path !== '')
      files.push({ what: `${option} ${printable(path)}`, path });
  };
  add('--json', opts.json);
  add('--junit', opts.junit);
  add('--report', opts.report);
  add('--joblog', opts.joblog);
  add('--results', opts.gnu?.resultsDir);
  return files;
}

export async function checkDistinctFiles(opts: RunOptions): Promise<void> {
  const outputs: Named[] = outputFiles(opts).map((f) => ({ what: f.what, key: fileKey(f.path) }));
  if (!outputs.length) return;

  const inputs: Named[] = [];
  let readsStdin = false;
  if (opts.call === undefined && !opts.gnu?.pipe) {
    if (opts.gnuInput) {
      const { inputFiles } = await import('../input/gnu/source.js');
      for (const f of inputFiles(opts.gnuInput)) {
        if (f.path === '-') readsStdin = true;
        else inputs.push({ what: `the input ${f.shown}`, key: fileKey(f.path) });
      }
      if (opts.gnuInput.implicit === 'stdin') readsStdin = true;
    } else if (opts.each !== undefined) readsStdin = opts.args.length === 0;
    else if (opts.jobFile === undefined || opts.jobFile === '-') readsStdin = true;
    else inputs.push({ what: `the job file ${printable(opts.jobFile)}`, key: fileKey(opts.jobFile) });
  } else if (opts.gnu?.pipe) readsStdin = true;
  if (readsStdin) {
    // `poolrun --json jobs.json < jobs.json`: stdin is that file.
    try {
      const st = fstatSync(0);
      if (st.isFile()) inputs.push({ what: 'the input on stdin', key: `${st.dev}:${st.ino}` });
    } catch {
      /* no stdin */
    }
  }

  for (const [i, o] of outputs.entries()) {
    if (o.key === undefined) continue;
    const input = inputs.find((x) => x.key === o.key);
    if (input)
      throw new UsageError(
        `${o.what} is ${input.what}: writing it would destroy the input; give ${o.what.split(' ')[0]} another file name`,
      );
    const other = outputs.slice(0, i).find((x) => x.key === o.key);
    if (other)
      throw new UsageError(
        `${other.what} and ${o.what} are the same file: one would overwrite the other; give each its own file name`,
      );
  }
}

/** Device and inode of an existing file; else its path with the folder resolved (links followed). */
function fileKey(path: Buffer | string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    /* absent: by path */
  }
  // A link to a file not there yet: the joblog, opened through it, creates the file it names; refused as the same
  // file as another output spelt that way (a result file replacing the link instead is not told apart).
  const p = followLinks(typeof path === 'string' ? path : path.toString('utf8'));
  const abs = resolve(p);
  try {
    // The folder as the kernel reaches it (`link/..` is the link's target's parent, not `.`): realpath(3), not
    // Node's JS realpathSync, which resolves `..` by the text first.
    return `path:${join(realpathSync.native(dirname(p)), basename(abs))}`;
  } catch {
    return `path:${abs}`;
  }
}
