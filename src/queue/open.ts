/** Opens a `--queue` run: connects to Redis, then starts the producer (src/queue/producer.ts) on it. */
import { openLink } from './connect.js';
import { QueueExecutor } from './producer.js';
import { PREFIX, QUEUE_NAME } from './protocol.js';
import type { QueueRunnerOptions, QueueSettings } from './settings.js';

/** Connects to Redis (exit 2 when it cannot), then returns a runner whose jobs go to the queue's workers. */
export async function openQueueRunner(
  settings: QueueSettings,
  opts: QueueRunnerOptions,
): Promise<QueueExecutor> {
  const { libs, link, client } = await openLink(settings.url, settings.timeoutMs, 'producer');
  try {
    const queue = new libs.bullmq.Queue(QUEUE_NAME, { connection: client, prefix: PREFIX });
    queue.on('error', () => {}); // connection trouble is the link's to judge
    await queue.waitUntilReady();
    // Read events from the stream's current end: starting at '$' would miss what happens before the first read.
    const last = await client.xrevrange(`${PREFIX}:${QUEUE_NAME}:events`, '+', '-', 'COUNT', 1);
    const events = new libs.bullmq.QueueEvents(QUEUE_NAME, {
      connection: link.client('producer-events'),
      prefix: PREFIX,
      lastEventId: last[0]?.[0] ?? '0-0',
    });
    events.on('error', () => {});
    await events.waitUntilReady();
    const ex = new QueueExecutor(libs, link, client, queue, events, settings, opts);
    await ex.start();
    return ex;
  } catch (e) {
    await link.close();
    throw link.refused(e);
  }
}
