/** The submitter's reader (run.ts): a run's jobs, a batch at a time. */
import type { Job } from '../kinds/types.js';
import type { JobSource } from './source.js';

/**
 * The jobs of a source a batch at a time: from a list, up to `room` of them at once; from a stream, as they
 * were read. A stream's next jobs may be long in coming (a pipe that stays open): once `stopped` resolves,
 * the reader gives up waiting instead of holding the run open.
 */
export function reader(
  src: JobSource,
  stopped: Promise<'stopped'> | undefined,
): (room: number) => Job[] | undefined | Promise<Job[] | undefined> {
  const { jobs } = src;
  if (Symbol.iterator in Object(jobs)) {
    const it = (jobs as Iterable<Job>)[Symbol.iterator]();
    return (room) => {
      const batch: Job[] = [];
      do {
        const r = it.next();
        if (r.done) break;
        batch.push(r.value);
      } while (batch.length < room);
      return batch.length ? batch : undefined;
    };
  }
  const batches = src.batches ?? oneByOne(jobs as AsyncIterable<Job>);
  const it = batches[Symbol.asyncIterator]();
  if (!stopped) return () => it.next().then((r) => (r.done ? undefined : r.value));
  // Not Promise.race([it.next(), stopped]): each race leaves a reaction on `stopped`, which never settles in a
  // run that is not stopped, and through it the race's promise and the jobs it resolved with — a million-line
  // stream held every job it had read (1.3 GB at 1,000,000 lines). One listener, and one waiter at a time.
  let isStopped = false;
  let wake: ((r: IteratorResult<Job[]> | 'stopped') => void) | undefined;
  void stopped.then(() => {
    isStopped = true;
    wake?.('stopped');
  });
  return async () => {
    const r = isStopped
      ? 'stopped'
      : await new Promise<IteratorResult<Job[]> | 'stopped'>((resolve, reject) => {
          wake = resolve;
          it.next().then(resolve, reject);
        });
    wake = undefined;
    if (r === 'stopped') {
      void it.return?.();
      return undefined;
    }
    return r.done ? undefined : r.value;
  };
}

async function* oneByOne(jobs: AsyncIterable<Job>): AsyncGenerator<Job[]> {
  for await (const job of jobs) yield [job];
}
