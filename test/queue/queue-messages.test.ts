/**
 * Hostile queue messages: whoever writes to the Redis a worker serves can put anything in a BullMQ job. Raw
 * messages of the wrong shape are written with BullMQ's own Queue (and, for data that is not even JSON, straight
 * into the job's hash); each must fail that job with a reason that names the problem, and the `poolrun worker`
 * must live on (same pid) and run the good job that follows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { FIXTURES, pidAlive, poolrun, readJson, useTempDirs, waitFor, writeJobs } from '../helpers.js';
import { startRedis, startWorker, type RedisServer, type WorkerProcess } from '../redis.js';
import { jobResult } from './result.js';

const PREFIX = 'bull';
const QUEUE = 'poolrun';
const RUN = 'rbadmessages01';

let redis: RedisServer;
let worker: WorkerProcess;
let queue: Queue;
let events: QueueEvents;
let client: Redis;
const temp = useTempDirs('all');

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  // The run is alive (its producer would keep this key): jobs of it are not skipped as a dead run's.
  await client.set(`${PREFIX}:${QUEUE}:poolrun-run:${RUN}`, 'run');
  worker = await startWorker(redis.url, ['-w', '2', '--lock-duration', '2s']);
  queue = new Queue(QUEUE, {
    connection: new Redis(redis.url, { maxRetriesPerRequest: null }),
    prefix: PREFIX,
  });
  events = new QueueEvents(QUEUE, {
    connection: new Redis(redis.url, { maxRetriesPerRequest: null }),
    prefix: PREFIX,
  });
  await events.waitUntilReady();
}, 60_000);

afterAll(async () => {
  await queue?.close();
  await events?.close();
  client?.disconnect();
  await worker?.stop();
  await redis?.stop();
});

function good(id: string, job: Record<string, unknown> = { kind: 'run', run: `echo ok ${id}` }) {
  return {
    v: 1,
    runId: RUN,
    job: { id, index: 0, ...job },
    capture: { limit: 4096, keep: true, stream: false },
    ttlMs: 60_000,
  };
}

/** A marker replaced by `n` nested arrays in the JSON text (JSON.stringify itself cannot write them). */
const deep = (n: number) => `@@DEEP${n}@@`;
function toJson(data: unknown): string {
  return JSON.stringify(data).replace(/"@@DEEP(\d+)@@"/g, (_m, n: string) => {
    const k = Number(n);
    return `${'['.repeat(k)}"bottom"${']'.repeat(k)}`;
  });
}

/** Replaces the value at `path` (undefined: deletes the key). */
function mutate(obj: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  let at: Record<string, unknown> = copy;
  for (const p of path.slice(0, -1)) at = at[p] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

const parsed = (json: string) => JSON.parse(json) as Record<string, unknown>;

/** Fields a job may leave out (the job file's defaults apply). */
const OPTIONAL = new Set(['overwrite', 'export', 'args']);

/** Every field of a good message of each kind, replaced by values of the wrong type or shape. */
function badMessages(dir: string): Array<{ name: string; data: unknown }> {
  const wrong: unknown[] = [null, 42, -1, 1.5, '', 'x', true, [], {}, [1, 'a'], { a: { b: 1 } }];
  const bases: Array<{ name: string; data: Record<string, unknown> }> = [
    { name: 'run', data: good('b', { kind: 'run', run: 'true' }) },
    { name: 'argv', data: good('b', { kind: 'run', run: ['true', 'x'] }) },
    {
      name: 'copy',
      data: good('b', { kind: 'copy', copy: { from: '/etc/hostname', to: join(dir, 'c'), overwrite: true } }),
    },
    {
      name: 'download',
      data: good('b', {
        kind: 'download',
        download: { url: 'http://127.0.0.1:9/x', to: join(dir, 'd'), overwrite: true },
      }),
    },
    {
      name: 'call',
      data: good('b', {
        kind: 'call',
        call: { module: join(FIXTURES, 'tasks.mjs'), export: 'square', args: [2] },
      }),
    },
  ];
  const out: Array<{ name: string; data: unknown }> = [];
  for (const base of bases) {
    const paths: string[][] = [];
    const walk = (o: Record<string, unknown>, at: string[]) => {
      for (const [k, v] of Object.entries(o)) {
        paths.push([...at, k]);
        if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, [...at, k]);
      }
    };
    walk(base.data, []);
    for (const path of paths) {
      const original = path.reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], base.data);
      // A missing field (where it is not optional) and every value of another type than the original's.
      if (!OPTIONAL.has(path[path.length - 1]!))
        out.push({ name: `${base.name}: no ${path.join('.')}`, data: mutate(base.data, path, undefined) });
      for (const w of wrong) {
        // `run` is a command string or an argv array: either is a job.
        const alsoValid = path.join('.') === 'job.run' && typeof w === 'string' && w !== '';
        const sameType =
          alsoValid ||
          (typeof w === typeof original && Array.isArray(w) === Array.isArray(original) && w !== null);
        if (sameType && !(typeof w === 'string' && w === '') && !(typeof w === 'number' && w < 0)) continue;
        out.push({
          name: `${base.name}: ${path.join('.')} = ${JSON.stringify(w)}`,
          data: mutate(base.data, path, w),
        });
      }
    }
  }
  // Shapes no field mutation makes.
  const b = good('b') as Record<string, unknown>;
  const specials: Array<[string, unknown]> = [
    ['data null', null],
    ['data a string', 'run me'],
    ['data an array', [b]],
    ['unknown kind', good('b', { kind: 'rm', rm: '/' })],
    ['kind and key disagree', good('b', { kind: 'copy', run: 'true' })],
    ['two kinds', good('b', { kind: 'run', run: 'true', copy: { from: '/a', to: '/b', overwrite: false } })],
    ['run argv with a number', good('b', { kind: 'run', run: ['echo', 1] })],
    ['run argv with an object', good('b', { kind: 'run', run: ['echo', { toString: 'x' }] })],
    ['run argv empty', good('b', { kind: 'run', run: [] })],
    ['run with NUL', good('b', { kind: 'run', run: 'echo a\u0000b' })],
    ['env with a number', good('b', { kind: 'run', run: 'true', env: { A: 1 } })],
    ['env name with =', good('b', { kind: 'run', run: 'true', env: { 'A=B': 'x' } })],
    ['timeoutMs negative', good('b', { kind: 'run', run: 'true', timeoutMs: -5 })],
    ['timeoutMs huge', good('b', { kind: 'run', run: 'true', timeoutMs: 1e300 })],
    ['timeoutMs a string', good('b', { kind: 'run', run: 'true', timeoutMs: '1s' })],
    ['retries huge', good('b', { kind: 'run', run: 'false', retries: 1e9 })],
    ['retryDelayMs negative', good('b', { kind: 'run', run: 'false', retries: 1, retryDelayMs: -1 })],
    ['index a string', good('b', { kind: 'run', run: 'true', index: 'zero' })],
    ['unknown job key', good('b', { kind: 'run', run: 'true', shell: '/bin/bash' })],
    ['unknown envelope key', { ...b, extra: 1 }],
    // JSON.parse makes `__proto__` an own key (an object literal would set the prototype instead).
    ['job __proto__ key', good('b', parsed('{"kind":"run","run":"true","__proto__":{"env":{"X":"1"}}}'))],
    ['envelope __proto__ key', { ...b, ...parsed('{"__proto__":{"halt":"now"}}') }],
    [
      'copy __proto__ key',
      good(
        'b',
        parsed(`{"kind":"copy","copy":{"from":"/etc/hostname","to":"${join(dir, 'p')}","__proto__":{}}}`),
      ),
    ],
    ['version 2', { ...b, v: 2 }],
    ['runId with a colon', { ...b, runId: 'r:x' }],
    [
      'call to a relative module path',
      good('b', { kind: 'call', call: { module: 'tasks.mjs', export: 'square', args: [] } }),
    ],
    [
      'call args 100,000 deep',
      good('b', {
        kind: 'call',
        call: { module: join(FIXTURES, 'tasks.mjs'), export: 'square', args: [deep(100_000)] },
      }),
    ],
    ['env 100,000 deep', good('b', { kind: 'run', run: 'true', env: { A: deep(100_000) } })],
    [
      'copy to a relative path',
      good('b', { kind: 'copy', copy: { from: '/etc/hostname', to: 'rel', overwrite: true } }),
    ],
    [
      'download ftp',
      good('b', { kind: 'download', download: { url: 'ftp://h/x', to: join(dir, 'd'), overwrite: true } }),
    ],
    ['capture limit NaN-like', { ...b, capture: { limit: 'lots', keep: true, stream: true } }],
    ['ttl huge', { ...b, ttlMs: 1e30 }],
    ['halt not soon or now', { ...b, halt: 'never' }],
    ['deadline not true', { ...b, deadline: 1 }],
  ];
  for (const [name, data] of specials) out.push({ name, data });
  return out;
}

async function finished(jobId: string): Promise<{ state: string; reason: string; value: unknown }> {
  const end = Date.now() + 30_000;
  for (;;) {
    const state = await queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') {
      const job = await queue.getJob(jobId);
      return { state, reason: job?.failedReason ?? '', value: job?.returnvalue };
    }
    if (Date.now() > end) return { state, reason: 'still not finished after 30s', value: undefined };
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('poolrun worker: every queue message is validated', () => {
  it('a generated set of bad messages: each fails its own job naming the problem; the worker lives on and runs a good job', async () => {
    const dir = temp();
    const bad = badMessages(dir);
    expect(bad.length).toBeGreaterThan(100);
    // Added delayed, then the job's data is replaced by the message's JSON text: BullMQ's own add would refuse
    // (or choke on) some of them, a hostile writer does not go through it.
    const added = await queue.addBulk(
      bad.map((_m, i) => ({
        name: 'bad',
        data: {},
        opts: { jobId: `${RUN}.bad${i}`, attempts: 1, delay: 2000 },
      })),
    );
    expect(added).toHaveLength(bad.length);
    await Promise.all(
      bad.map((m, i) => client.hset(`${PREFIX}:${QUEUE}:${RUN}.bad${i}`, 'data', toJson(m.data))),
    );
    const outcomes = await Promise.all(bad.map((_, i) => finished(`${RUN}.bad${i}`)));
    const wrong: string[] = [];
    outcomes.forEach((o, i) => {
      const m = bad[i]!;
      const value = o.value as { result?: { status?: string } } | undefined;
      // A refused message is a failed BullMQ job whose reason says what is wrong; never a job that ran.
      if (
        o.state !== 'failed' ||
        !/refused|cannot read|expected|unknown|required|exactly one/i.test(o.reason)
      )
        wrong.push(`${m.name}: ${o.state} ${o.reason} ${JSON.stringify(value?.result?.status ?? null)}`);
    });
    expect(wrong).toEqual([]);
    expect(pidAlive(worker.pid)).toBe(true);

    // Data that is not JSON at all, written into the job's hash before the worker can take it.
    const raw = await queue.add('bad', good('x'), { jobId: `${RUN}.notjson`, delay: 1500, attempts: 1 });
    await client.hset(`${PREFIX}:${QUEUE}:${raw.id}`, 'data', '{"v":1,"runId":');
    // Wait until the worker has taken it (BullMQ cannot read it back, so it stays 'active': never completed).
    const taken = await waitFor(async () => {
      const state = await queue.getJobState(raw.id!);
      return state !== 'delayed' && state !== 'waiting' && state !== 'prioritized';
    }, 30_000);
    expect(taken).toBe(true);
    expect(pidAlive(worker.pid)).toBe(true);

    // The worker still serves: a good job runs and succeeds.
    const ok = await queue.add('run', good('good'), { jobId: `${RUN}.good`, attempts: 1 });
    const o = await finished(ok.id!);
    expect(o.state).toBe('completed');
    const result = (o.value as { result: { status: string; stdout: string } }).result;
    expect(result.status).toBe('succeeded');
    expect(result.stdout).toBe('ok good\n');
    expect(pidAlive(worker.pid)).toBe(true);
    expect(worker.stderr()).not.toMatch(/internal error|TypeError|RangeError| {4}at /);
  }, 120_000);

  it('names the field: a run job whose argv holds a number', async () => {
    const data = good('n', { kind: 'run', run: ['echo', 7] });
    await queue.add('bad', data, { jobId: `${RUN}.named`, attempts: 1 });
    const o = await finished(`${RUN}.named`);
    expect(o.state).toBe('failed');
    expect(o.reason).toMatch(/job\.run\[1\]/);
    expect(pidAlive(worker.pid)).toBe(true);
    // A job id with terminal escapes is shown escaped in the worker's log, as ids are everywhere else.
    const id = 'esc\u001b]0;pwned\u0007\u001b[2J';
    await queue.add('run', good(id), { jobId: `${RUN}.esc`, attempts: 1 });
    expect((await finished(`${RUN}.esc`)).state).toBe('completed');
    expect(await waitFor(() => worker.stderr().includes('esc\\x1b'), 5000)).toBe(true);
    expect(worker.stderr()).not.toContain('\u001b');
  }, 60_000);

  it('the producer checks what workers send: a result or progress of the wrong shape fails that job, the run goes on', async () => {
    // This test's own BullMQ worker stands in for a hostile (or mismatched) `poolrun worker`.
    await worker.stop();
    const dir = temp();
    const file = writeJobs(dir, [
      { id: 'a', run: 'true' },
      { id: 'b', run: 'true' },
      { id: 'c', run: 'true' },
      { id: 'd', run: 'true' },
    ]);
    const okResult = (id: string, index: number) => jobResult(id, index, { stdout: `fine ${id}\n` });
    let nested: unknown = 'x';
    // Deeper than a local run lets a value nest (1000 levels: pool/buffers.ts).
    for (let i = 0; i < 1100; i++) nested = [nested];
    const fake = new Worker(
      QUEUE,
      async (job) => {
        const id = (job.data as { job: { id: string } }).job.id;
        if (id === 'a') return { v: 1, result: { status: 'bogus', stdout: {}, stderr: 5 } };
        if (id === 'b') {
          for (const p of [
            { t: 'output', stream: 'stdout', data: 5, attempt: 1, attempts: 1, failures: 0, time: 1 },
            { t: 'started', worker: 'x', attempt: 1, attempts: 1, failures: 0, time: 1 },
            { t: 'retry', result: { status: 1 }, attempt: 'one', attempts: 1, failures: 0, time: 1 },
            [1, 2, 3],
          ])
            await job.updateProgress(p);
          return { v: 1, result: okResult('b', 1) };
        }
        if (id === 'c') return { v: 1, result: { ...okResult('c', 2), value: nested } };
        return 'not a result at all';
      },
      { connection: new Redis(redis.url, { maxRetriesPerRequest: null }), prefix: PREFIX },
    );
    try {
      const json = join(dir, 'out.json');
      const r = await poolrun(['--queue', redis.url, '--json', json, file]);
      expect(r.stderr).not.toMatch(/internal error|TypeError| {4}at /);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('fine b\n');
      const doc = readJson(json);
      expect(doc.results.map((x) => x.status)).toEqual(['failed', 'succeeded', 'failed', 'failed']);
      for (const k of [0, 2, 3]) expect(doc.results[k]!.error?.message).toMatch(/cannot read/);
    } finally {
      await fake.close();
    }
  }, 60_000);
});
