/** The command-line settings of the queue mode (`--queue` for a producer, `poolrun worker`), validated. */
import { UsageError } from '../errors.js';
import type { QueueSettings } from '../queue/producer.js';
import { parseDuration } from '../util/duration.js';

export interface RawQueueOptions {
  queue?: string;
  queueTtl?: string;
  queueTimeout?: string;
}

const DEFAULT_QUEUE_TTL = '1h';
export const DEFAULT_QUEUE_TIMEOUT = '10s';

/** A redis:// or rediss:// URL, optionally with user, password and database number. */
export function queueUrl(name: string, value: string): string {
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {
    u = undefined;
  }
  const db = u?.pathname.replace(/^\//, '') ?? '';
  if (!u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname || !/^\d*$/.test(db)) {
    throw new UsageError(
      `${name}: expected a Redis URL such as redis://host:6379/0 (rediss:// for TLS), got "${value}"`,
    );
  }
  return value;
}

export function queueDuration(name: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000) {
    throw new UsageError(
      `${name}: expected a duration of at least 1s such as 30s, 10m or 1h, got "${value}"`,
    );
  }
  return ms;
}

/** The producer's queue settings, or undefined for a local run (queue-only options then are an error). */
export function queueSettings(raw: RawQueueOptions): QueueSettings | undefined {
  if (raw.queue === undefined) {
    const stray =
      raw.queueTtl !== undefined ? '--queue-ttl' : raw.queueTimeout !== undefined ? '--queue-timeout' : '';
    if (stray) throw new UsageError(`${stray} only applies with --queue URL`);
    return undefined;
  }
  return {
    url: queueUrl('--queue', raw.queue),
    ttlMs: queueDuration('--queue-ttl', raw.queueTtl ?? DEFAULT_QUEUE_TTL),
    timeoutMs: queueDuration('--queue-timeout', raw.queueTimeout ?? DEFAULT_QUEUE_TIMEOUT),
  };
}
