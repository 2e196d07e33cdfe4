import type { JobContext } from './context.js';
import type { Outcome } from '../pool/protocol.js';
import { runShell } from './run.js';
import { runCall } from './call.js';

/** Runs one job inside a worker. copy and download load their code on first use: shell-only runs skip it. */
export async function execute(ctx: JobContext): Promise<Outcome> {
  const { job } = ctx;
  switch (job.kind) {
    case 'run':
      return runShell(job.run, ctx);
    case 'call':
      return runCall(job.call, ctx);
    case 'copy':
      return (await import('./copy.js')).runCopy(job.copy, ctx);
    case 'download':
      return (await import('./download.js')).runDownload(job.download, ctx);
  }
}
