/** The queue worker's BullMQ side: a Worker that fails a message it cannot read, and how job ids are shown. */
import { isJson } from '../util/json.js';
import type { Job as BullJob, JobJson, Worker as BullWorker } from 'bullmq';
import type { Redis as RedisClient } from 'ioredis';
import { printable } from '../util/text.js';
import { redactId, redactText } from '../util/redact.js';
import type { QueueLibs } from './connect.js';
import { PREFIX, QUEUE_NAME } from './protocol.js';

/** A BullMQ job id as a log line shows it: the job's id with `:` and `%` unescaped (protocol.ts bullJobId). */
export function shownId(bullId: string): string {
  return bullId.replace(/%3A/g, ':').replace(/%25/g, '%');
}

/** Marks, in place of a message's data, that BullMQ could not read it (its `data` field is not JSON). */
export const UNREADABLE = '__poolrunUnreadable';

export function unreadableData(job: BullJob): string | undefined {
  const data = job.data as Record<string, unknown> | null;
  const why = data && typeof data === 'object' ? data[UNREADABLE] : undefined;
  return typeof why === 'string' ? why : undefined;
}

/**
 * BullMQ's Worker, made to fail a message it cannot read instead of leaving it active for ever: BullMQ parses a
 * job's `data` and `opts` fields itself, before any processor sees them, and a parse error left the job taken but
 * never processed (re-fetched every lock period, logged once and without its id). Data that is not JSON reaches
 * the processor as a marker, which refuses it as any bad message; options that are not JSON lose the job's id on
 * the way, so the job is found by the lock this fetch took and failed here.
 */
export function readableWorker(
  libs: QueueLibs,
  client: RedisClient,
  log: (line: string) => void,
): typeof BullWorker {
  const { Worker, UnrecoverableError } = libs.bullmq;
  return class ReadableWorker extends Worker {
    protected override createJob(data: JobJson, jobId: string) {
      try {
        return super.createJob(data, jobId);
      } catch (e) {
        const why = `data: not JSON (${(e as Error).message})`;
        return super.createJob({ ...data, data: JSON.stringify({ [UNREADABLE]: why }) }, jobId);
      }
    }

    protected override async moveToActive(token: string, name?: string) {
      try {
        return await super.moveToActive(token, name);
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e;
        await this.#failTaken(token, e.message).catch(() => {});
        return undefined as unknown as BullJob;
      }
    }

    /** The job this worker's fetch with `token` made active: its lock holds the token. */
    async #failTaken(token: string, error: string): Promise<void> {
      const base = `${PREFIX}:${QUEUE_NAME}:`;
      const ids = await client.lrange(`${base}active`, 0, -1);
      if (ids.length === 0) return;
      const locks = await client.mget(ids.map((id) => `${base}${id}:lock`));
      const id = ids[locks.indexOf(token)];
      if (id === undefined) return;
      // Which of the fields BullMQ parses is not JSON (data is handled by createJob).
      const fields = ['opts', 'progress', 'parent'];
      const raw = await client.hmget(`${base}${id}`, ...fields);
      const bad = fields.filter((_f, i) => raw[i] !== null && !isJson(raw[i]!));
      const why = `poolrun worker refused the job: ${bad.join(', ') || 'a field'}: not JSON (${redactText(error)})`;
      log(`poolrun worker: ${printable(redactId(shownId(id)))}: ${why}`);
      const job = super.createJob(
        {
          id,
          name: 'unreadable',
          data: '{}',
          opts: {},
          progress: 0,
          delay: 0,
          priority: 0,
          timestamp: Date.now(),
          attemptsStarted: 1,
          attemptsMade: 0,
          stalledCounter: 0,
        } as JobJson,
        id,
      );
      job.token = token;
      await job.moveToFailed(new UnrecoverableError(why), token, false);
    }
  };
}
