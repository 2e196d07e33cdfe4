/**
 * `poolrun worker --queue URL`: the commander subcommand and its validated options. What the worker does is
 * in queue/worker.ts, loaded with import() only when this subcommand runs.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import type { WorkerOptions } from '../queue/worker.js';
import { bytes, duration, oneOf, parseWorkers } from './options.js';
import { DEFAULT_QUEUE_TIMEOUT, QUEUE_ENV, queueDuration, queueSource, queueUrl } from './queue-options.js';

export interface RawWorkerOptions {
  queue?: string;
  workers?: string;
  mode?: string;
  lockDuration?: string;
  killAfter?: string;
  captureLimit?: string;
  queueTimeout?: string;
  quiet?: boolean;
}

const HELP_AFTER = `
Runs jobs that \`poolrun --queue URL JOBFILE\` producers put on the queue, on a local pool, until SIGINT or
SIGTERM: the first stops taking jobs and lets running ones finish; a second kills them and gives them back to
the queue. A worker that dies mid-job loses nothing: after --lock-duration another worker runs the job again
(delivery is at least once). Paths in jobs are opened on this host.

The URL may come from the environment instead, so that a password in it is not in \`ps\`:
  ${QUEUE_ENV}=rediss://:PASSWORD@queue-host:6380/0 poolrun worker   (--queue wins over it)

Whoever can write to this Redis can run commands on this worker: protect it (Redis ACLs, TLS).
Every message is checked before it runs; one of the wrong shape fails that job only.

Example:
  poolrun worker --queue redis://queue-host:6379/0 -w 8 -m process`;

const invoked = new WeakMap<Command, RawWorkerOptions>();

/** Adds the `worker` subcommand to the program. */
export function addWorkerCommand(program: Command): void {
  const cmd = program
    .command('worker')
    .description('serve jobs from a shared queue (BullMQ on Redis) on a local pool')
    .option('--queue <url>', `Redis URL: redis://host:6379/0 (rediss:// for TLS); default: $${QUEUE_ENV}`)
    .option(
      '-w, --workers <n>',
      'pool size: N, N% of available cores, +N/-N (cores plus/minus N), 0 = 1000 (default: available cores)',
    )
    .addOption(
      new Option('-m, --mode <mode>', 'thread: worker threads; process: worker processes')
        .choices(['thread', 'process'])
        .default('thread'),
    )
    .option('--lock-duration <dur>', "a job's lock; a worker silent this long is taken for dead", '30s')
    .option('--kill-after <dur>', 'grace between SIGTERM and SIGKILL when a job is killed', '5s')
    .option('--capture-limit <size>', 'largest output kept per job stream (producers may ask for less)', '1M')
    .option(
      '--queue-timeout <dur>',
      'how long to retry an unreachable Redis before giving up',
      DEFAULT_QUEUE_TIMEOUT,
    )
    .option('-q, --quiet', 'no status lines')
    .addHelpText('after', HELP_AFTER)
    .action(() => {
      invoked.set(program, cmd.opts<RawWorkerOptions>());
    });
}

/** The worker's raw options when the command line asked for `poolrun worker`, else undefined. */
export function workerInvocation(program: Command): RawWorkerOptions | undefined {
  return invoked.get(program);
}

/** The worker's -w: every form of a local run's but auto (the worker's pool has a fixed width). */
function workerWidth(value: string | undefined): number {
  if (value?.trim().toLowerCase() === 'auto')
    throw new UsageError(
      '--workers: auto is for a local run; poolrun worker takes N, N%, +N or -N (cores plus or minus N)',
    );
  return parseWorkers(value, undefined, '--workers', false);
}

export function toWorkerOptions(raw: RawWorkerOptions): WorkerOptions {
  const source = queueSource(raw.queue);
  if (source === undefined)
    throw new UsageError(`worker: --queue URL (or ${QUEUE_ENV}) is required (redis://host:6379/0)`);
  const mode = oneOf('--mode', raw.mode, ['thread', 'process'] as const, 'thread');
  // A lock shorter than 1s would expire between BullMQ's renewals: 0 and 500ms get the same message.
  const lockDurationMs = duration('--lock-duration', raw.lockDuration ?? '30s', true)!;
  if (lockDurationMs < 1000)
    throw new UsageError(`--lock-duration: expected at least 1s, got "${raw.lockDuration}"`);
  return {
    url: queueUrl(source.name, source.value),
    workers: workerWidth(raw.workers),
    mode,
    lockDurationMs,
    killAfterMs: duration('--kill-after', raw.killAfter ?? '5s', true)!,
    captureLimit: bytes('--capture-limit', raw.captureLimit, 1024 * 1024),
    timeoutMs: queueDuration('--queue-timeout', raw.queueTimeout ?? DEFAULT_QUEUE_TIMEOUT),
    quiet: raw.quiet ?? false,
  };
}
