/** `copy`: a file or a folder tree, copied inside the worker into a temp beside `to`, then renamed into place. */
import type { Kind } from '../kind.js';
import { shellQuote } from '../../util/shell.js';
import { withoutFsync } from '../durable.js';
import type { CopySpec } from './spec.js';

export const copy: Kind<'copy'> = {
  name: 'copy',
  normalize(value, resolve) {
    const v = value as Record<string, unknown>;
    const copy: CopySpec = {
      from: resolve(v.from as string),
      to: resolve(v.to as string),
      overwrite: v.overwrite === true,
    };
    if (v.fsync === true) copy.fsync = true;
    return { kind: 'copy', copy };
  },
  describe: (job) =>
    `copy ${shellQuote(job.copy.from)} ${shellQuote(job.copy.to)}${job.copy.overwrite ? ' (overwrite)' : ''}`,
  // The same job with or without fsync: --resume does not run it again for asking for durability.
  hashed: (job) => withoutFsync(job.copy),
  destination: (job) => job.copy.to,
  paths: (job) => [
    [['from'], job.copy.from],
    [['to'], job.copy.to],
  ],
  stop: 'abort',
  sendAhead: false,
  noCwd: "a copy's from and to resolve against the job file's folder",
  succeeded: () => true,
  // Loaded on first use: shell-only runs skip it.
  async worker() {
    const { runCopy } = await import('./copy.js');
    return { execute: (job, ctx) => runCopy(job.copy, ctx) };
  },
};
