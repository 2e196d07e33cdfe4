/**
 * Redis connections for the queue mode: bullmq and ioredis are loaded here, with import(), so that a local run
 * never pays their start-up cost. ioredis reconnects with backoff on its own; a RedisLink watches its clients
 * and gives up once any of them has been without Redis for longer than the allowed time, so that a lost Redis
 * ends in a clear error instead of a hang.
 */
import type * as BullMQModule from 'bullmq';
import type { Redis as RedisClient } from 'ioredis';
import { PoolrunError } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import { redactText, redactUrl } from '../util/redact.js';

export type BullMQ = typeof BullMQModule;

export interface QueueLibs {
  bullmq: BullMQ;
  Redis: typeof RedisClient;
}

/** Redis could not be reached when the producer or worker started: nothing ran. */
export class QueueUnreachableError extends PoolrunError {
  override readonly exitCode = 2;
}

/** The connection to Redis was lost during a run and did not come back in time. */
export class QueueLostError extends PoolrunError {}

/**
 * bullmq and ioredis are optional dependencies (`npm install --omit=optional` leaves them out): the queue mode
 * cannot start without them, and nothing ran.
 */
export class QueueLibsMissingError extends PoolrunError {
  override readonly exitCode = 2;
}

/** What to run when the queue packages are missing (the versions package.json's optionalDependencies name). */
export const QUEUE_INSTALL = 'npm install bullmq@6 ioredis@6';

/** Why `name` could not be imported, in a few words (no stack). */
function whyNotLoaded(name: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  const message = String(err?.message ?? e).split('\n')[0] ?? '';
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && message.includes(`'${name}'`))
    return `${name} is not installed`;
  return `${name} cannot be loaded (${message})`;
}

export async function loadQueueLibs(what = '--queue'): Promise<QueueLibs> {
  const [bullmq, ioredis] = await Promise.allSettled([import('bullmq'), import('ioredis')]);
  if (bullmq.status === 'fulfilled' && ioredis.status === 'fulfilled')
    return { bullmq: bullmq.value, Redis: ioredis.value.Redis };
  const why: string[] = [];
  if (bullmq.status === 'rejected') why.push(whyNotLoaded('bullmq', bullmq.reason));
  if (ioredis.status === 'rejected') why.push(whyNotLoaded('ioredis', ioredis.reason));
  throw new QueueLibsMissingError(
    `${what} needs the optional packages bullmq and ioredis: ${why.join('; ')}. ` +
      `Install them where poolrun is installed: ${QUEUE_INSTALL} ` +
      `(or install poolrun again without --omit=optional)`,
  );
}

/** Longest wait between two reconnection attempts. */
const MAX_BACKOFF_MS = 2000;

export class RedisLink {
  readonly shown: string;
  readonly #libs: QueueLibs;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #clients: RedisClient[] = [];
  /** Since when each client has been without a connection (absent: connected, or never tried yet). */
  readonly #downSince = new Map<RedisClient, number>();
  #lastError = '';
  #watch: NodeJS.Timeout | undefined;
  #lost: ((e: QueueLostError) => void) | undefined;
  #closed = false;

  constructor(libs: QueueLibs, url: string, timeoutMs: number) {
    this.#libs = libs;
    this.#url = url;
    this.#timeoutMs = timeoutMs;
    this.shown = redactUrl(url);
  }

  /** A new connection (BullMQ needs one per blocking reader); reconnects with backoff until closed. */
  client(role: string): RedisClient {
    const c = new this.#libs.Redis(this.#url, {
      // Commands wait for a reconnection instead of failing one by one: this link decides when to give up.
      maxRetriesPerRequest: null,
      connectionName: `poolrun-${role}`,
      connectTimeout: Math.min(this.#timeoutMs, 10_000),
      retryStrategy: (times) => (this.#closed ? null : Math.min(100 * 2 ** (times - 1), MAX_BACKOFF_MS)),
    });
    this.#downSince.set(c, Date.now());
    c.on('ready', () => this.#downSince.delete(c));
    const down = () => {
      if (!this.#downSince.has(c)) this.#downSince.set(c, Date.now());
    };
    c.on('close', down);
    c.on('reconnecting', down);
    c.on('error', (e: Error) => {
      // Shown in messages: whatever a library puts in an error, a URL in it is redacted.
      this.#lastError = redactText(e.message || String(e));
    });
    this.#clients.push(c);
    return c;
  }

  /**
   * Resolves once `client` answers; throws QueueUnreachableError (exit 2) when it does not within
   * `startMs`, having retried with backoff meanwhile.
   */
  async reachable(client: RedisClient, startMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), startMs)));
    try {
      const r = await Promise.race([client.ping().then(() => 'ok' as const), late]);
      if (r === 'late') throw this.unreachable(startMs);
      // ioredis goes on in database 0 when selecting the URL's database fails: check where we are.
      const want = Number(new URL(this.#url).pathname.slice(1) || 0);
      const info = String(await client.call('CLIENT', 'INFO'));
      const db = /\bdb=(\d+)/.exec(info)?.[1];
      if (db !== undefined && Number(db) !== want)
        throw new Error(
          `database ${want} does not exist on this Redis (${this.#lastError || 'SELECT failed'})`,
        );
    } catch (e) {
      // Redis answered, with a refusal (a wrong password, a database that does not exist...).
      if (e instanceof QueueUnreachableError) throw e;
      throw this.refused(e);
    } finally {
      clearTimeout(timer);
    }
  }

  unreachable(afterMs: number): QueueUnreachableError {
    const why = this.#lastError;
    return new QueueUnreachableError(
      `cannot reach Redis at ${this.shown} (tried for ${formatDuration(afterMs)})${why ? `: ${why}` : ''}`,
    );
  }

  /** Redis (or BullMQ, checking its version) said no: nothing ran. */
  refused(e: unknown): QueueUnreachableError {
    if (e instanceof QueueUnreachableError) return e;
    return new QueueUnreachableError(
      `cannot use Redis at ${this.shown}: ${redactText(e instanceof Error ? e.message : String(e))}`,
    );
  }

  /** Calls `onLost` once, when a client has been without Redis for longer than the timeout. */
  watch(onLost: (e: QueueLostError) => void): void {
    this.#lost = onLost;
    this.#watch ??= setInterval(() => this.#check(), Math.min(1000, this.#timeoutMs / 4));
    this.#watch.unref();
  }

  #check(): void {
    const now = Date.now();
    for (const since of this.#downSince.values()) {
      if (now - since <= this.#timeoutMs) continue;
      clearInterval(this.#watch);
      const lost = this.#lost;
      this.#lost = undefined;
      lost?.(
        new QueueLostError(
          `lost the connection to Redis at ${this.shown} and could not get it back within ` +
            `${formatDuration(this.#timeoutMs)}${this.#lastError ? `: ${this.#lastError}` : ''}`,
        ),
      );
      return;
    }
  }

  /** Closes every connection: politely (QUIT) when Redis answers, at once when it does not. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watch);
    await Promise.all(
      this.#clients.map(async (c) => {
        if (c.status === 'end') return;
        if (c.status !== 'ready') {
          c.disconnect();
          return;
        }
        const quit = c.quit().catch(() => undefined);
        const timer = setTimeout(() => c.disconnect(), 1000);
        await quit;
        clearTimeout(timer);
      }),
    );
  }
}

/** Waits for `p`, but no longer than `ms`, and never throws: closing must not hang on a Redis that is gone. */
/** Longest wait for Redis at start-up: a wrong address should fail fast, not after the whole timeout. */
const START_LIMIT_MS = 5000;

/**
 * Loads bullmq and ioredis, connects as `role` and checks that Redis answers within the start-up limit (the link
 * is closed when it does not): how a producer and a worker both begin.
 */
export async function openLink(
  url: string,
  timeoutMs: number,
  role: string,
): Promise<{ libs: QueueLibs; link: RedisLink; client: RedisClient }> {
  const libs = await loadQueueLibs(role === 'worker' ? 'poolrun worker' : '--queue');
  const link = new RedisLink(libs, url, timeoutMs);
  const client = link.client(role);
  try {
    await link.reachable(client, Math.min(timeoutMs, START_LIMIT_MS));
  } catch (e) {
    await link.close();
    throw e;
  }
  return { libs, link, client };
}

export async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
