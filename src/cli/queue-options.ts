/** The command-line settings of the queue mode (`--queue` for a producer, `poolrun worker`), validated. */
import { UsageError } from '../errors.js';
import type { QueueSettings } from '../queue/producer.js';
import { MAX_DURATION_MS, MAX_TTL_MS, parseDuration } from '../util/duration.js';
import { redactUrl } from '../util/redact.js';

export interface RawQueueOptions {
  queue?: string;
  queueTtl?: string;
  queueTimeout?: string;
}

const DEFAULT_QUEUE_TTL = '1h';
export const DEFAULT_QUEUE_TIMEOUT = '10s';

/** The environment variable that may carry the queue URL, so that a password in it is not in `ps`. */
export const QUEUE_ENV = 'POOLRUN_QUEUE';

/**
 * The queue URL and where it came from: `--queue` when given (the flag wins), else POOLRUN_QUEUE when set and
 * not empty, else undefined.
 */
export function queueSource(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { name: string; value: string } | undefined {
  const value = env[QUEUE_ENV];
  // Read once, then gone from this process: nothing poolrun starts later (a worker, a job) inherits the password.
  delete env[QUEUE_ENV];
  if (flag !== undefined) return { name: '--queue', value: flag };
  return value ? { name: QUEUE_ENV, value } : undefined;
}

/** A redis:// or rediss:// URL, optionally with user, password and database number. */
export function queueUrl(name: string, value: string): string {
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {
    u = undefined;
  }
  const db = u?.pathname.replace(/^\//, '') ?? '';
  if (
    !u ||
    (u.protocol !== 'redis:' && u.protocol !== 'rediss:') ||
    !u.hostname ||
    !/^\d*$/.test(db) ||
    !decodes(u.username) ||
    !decodes(u.password)
  ) {
    throw new UsageError(
      `${name}: expected a Redis URL such as redis://host:6379/0 (rediss:// for TLS), got ${shownValue(value)}`,
    );
  }
  return value;
}

/** The Redis client percent-decodes the user and password: a `%` not followed by two hex digits would throw. */
function decodes(part: string): boolean {
  try {
    // The value is used: a bundler drops a call it deems pure whose result is not (rolldown did).
    return typeof decodeURIComponent(part) === 'string';
  } catch {
    return false;
  }
}

/**
 * A value that is not a Redis URL, as a message may show it: redacted; and when it still holds an `@` (a
 * scheme the redactor did not see, such as `redis//:pw@h`), not at all.
 */
function shownValue(value: string): string {
  const shown = redactUrl(value);
  return shown.includes('@') || shown.length > 200 ? 'a value that is not one' : JSON.stringify(shown);
}

/** A queue duration of at least 1s and at most `maxMs` (a timer's 24.8 days; --queue-ttl, a Redis expiry: a year). */
export function queueDuration(name: string, value: string, maxMs = MAX_DURATION_MS): number {
  const ms = parseDuration(value, maxMs);
  if (ms === undefined || ms < 1000) {
    const most = maxMs === MAX_TTL_MS ? '365 days' : '24.8 days';
    throw new UsageError(
      `${name}: expected a duration from 1s to ${most} such as 30s, 10m, 1h or 7d, got "${value}"`,
    );
  }
  return ms;
}

/** The producer's queue settings, or undefined for a local run (queue-only options then are an error). */
export function queueSettings(
  raw: RawQueueOptions,
  env: NodeJS.ProcessEnv = process.env,
): QueueSettings | undefined {
  const source = queueSource(raw.queue, env);
  if (source === undefined) {
    const stray =
      raw.queueTtl !== undefined ? '--queue-ttl' : raw.queueTimeout !== undefined ? '--queue-timeout' : '';
    if (stray) throw new UsageError(`${stray} only applies with --queue URL (or ${QUEUE_ENV})`);
    return undefined;
  }
  return {
    url: queueUrl(source.name, source.value),
    ttlMs: queueDuration('--queue-ttl', raw.queueTtl ?? DEFAULT_QUEUE_TTL, MAX_TTL_MS),
    timeoutMs: queueDuration('--queue-timeout', raw.queueTimeout ?? DEFAULT_QUEUE_TIMEOUT),
  };
}
