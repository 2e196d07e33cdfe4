/**
 * A queue message BullMQ itself cannot read (its `data`, `opts` or `progress` hash field is not JSON, written
 * straight into Redis) is failed, with a reason and a worker log line that name the job: it does not stay active,
 * re-fetched every lock period for ever. The worker lives on and runs the next good job.
 */
import { describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pidAlive } from '../helpers.js';
import { useQueue } from '../redis.js';

const q = useQueue('poolrun-qunread-');
const RUN = 'runreadable01';

function good(id: string) {
  return {
    v: 1,
    runId: RUN,
    job: { id, index: 0, kind: 'run', run: `echo ok ${id}` },
    capture: { limit: 4096, keep: true, stream: false },
    ttlMs: 60_000,
  };
}

describe('poolrun worker: a message BullMQ cannot parse', () => {
  it('data, opts or progress not JSON: each job is failed naming its id and the field; the worker runs the next job', async () => {
    const client = new Redis(q.redis.url);
    const queue = new Queue('poolrun', {
      connection: new Redis(q.redis.url, { maxRetriesPerRequest: null }),
      prefix: 'bull',
    });
    q.onCleanup(async () => {
      await queue.close();
      client.disconnect();
    });
    await client.set(`bull:poolrun:poolrun-run:${RUN}`, 'run');
    const bad: Array<[string, string, string]> = [
      ['notjson', 'data', '{"v":1,"runId":'],
      ['badopts', 'opts', '{{{'],
      ['badprogress', 'progress', '{oops'],
      ['notjson2', 'data', 'x'],
    ];
    // Added delayed, then a field replaced, before any worker can take the job.
    for (const [name, field, value] of bad) {
      const job = await queue.add('bad', good(name), { jobId: `${RUN}.${name}`, delay: 1000, attempts: 1 });
      await client.hset(`bull:poolrun:${job.id!}`, field, value);
    }
    const w = await q.worker(['-w', '2', '--lock-duration', '2s']);
    for (const [name, field] of bad) {
      const id = `${RUN}.${name}`;
      let state = '';
      const end = Date.now() + 30_000;
      while (Date.now() < end) {
        state = await queue.getJobState(id);
        if (state === 'failed' || state === 'completed') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect([name, state]).toEqual([name, 'failed']);
      const reason = await client.hget(`bull:poolrun:${id}`, 'failedReason');
      expect(reason).toMatch(new RegExp(`refused the job: ${field}: not JSON`));
      expect(await client.lrange('bull:poolrun:active', 0, -1)).not.toContain(id);
      // The worker's log line names the job.
      expect(w.stderr()).toMatch(new RegExp(`poolrun worker: ${RUN}\\.${name}: .*${field}: not JSON`));
    }
    const ok = await queue.add('run', good('good'), { jobId: `${RUN}.good`, attempts: 1 });
    const end = Date.now() + 30_000;
    while (Date.now() < end && (await queue.getJobState(ok.id!)) !== 'completed')
      await new Promise((r) => setTimeout(r, 50));
    expect(await queue.getJobState(ok.id!)).toBe('completed');
    expect(pidAlive(w.pid)).toBe(true);
    expect(w.stderr()).not.toMatch(/internal error|TypeError|RangeError| {4}at /);
  }, 120_000);
});
