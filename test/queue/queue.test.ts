/**
 * The distributed mode, end to end: a real redis-server on 127.0.0.1 (started here, stopped by pid), real
 * `poolrun worker` processes, and the CLI as a producer subprocess.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import {
  BIN,
  FIXTURES,
  pidAlive,
  pidStart,
  poolrun,
  track,
  readJson,
  waitFor,
  type ResultsDoc,
  writeJobs,
} from '../helpers.js';
import { freePort, startRedis, useQueue } from '../redis.js';

const queue = useQueue('poolrun-queue-');
const { temp, worker, onCleanup } = queue;
const jobFile = writeJobs;
/** What a result says about the job, without where and when it ran. */
function jobFields(doc: ResultsDoc) {
  return doc.results.map((r) => {
    const { worker: _w, pid: _p, threadId: _t, startedAt: _s, durationMs: _d, ...rest } = r;
    delete (rest as { host?: string }).host;
    // CPU time differs from run to run; whether it was measured (a number, or null) does not.
    const u = (rest as { usage?: { userMs: number } | null }).usage;
    if (u) (rest as { usage?: unknown }).usage = 'measured';
    return rest;
  });
}
const readPids = (dir: string, suffix: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .map((f) => Number(readFileSync(join(dir, f), 'utf8').trim().split('\n')[0]));

describe('poolrun --queue and poolrun worker', () => {
  it('100 jobs through 1 producer and 2 worker processes: same stdout, --json results and exit status as a local run', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'src.txt'), 'copied\n');
    const server = createHttpServer((_req, res) => res.end('downloaded\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    onCleanup(() => new Promise<void>((r) => server.close(() => r())));
    const { port } = server.address() as AddressInfo;
    const jobs = Array.from({ length: 100 }, (_, i) => {
      const id = `j${i}`;
      if (i === 30)
        return { id, download: { url: `http://127.0.0.1:${port}/file`, to: 'dl-out.txt', overwrite: true } };
      if (i === 7) return { id, run: 'sleep 5', timeout: '300ms' };
      if (i === 11)
        return {
          id,
          run: '[ -f flaky.marker ] || { touch flaky.marker; echo first; exit 1; }; echo second',
          retries: 1,
          cwd: '.',
        };
      if (i === 15) return { id, copy: { from: 'src.txt', to: 'copy-out.txt', overwrite: true } };
      if (i === 20)
        return { id, call: { module: join(FIXTURES, 'tasks.mjs'), export: 'square', args: [12] } };
      if (i === 25) return { id, run: 'echo to-err >&2; echo out' };
      if (i % 10 === 3) return { id, run: `echo failing ${i}; exit ${(i % 5) + 1}` };
      return {
        id,
        run: `sleep 0.0${i % 7}; echo "job $POOLRUN_JOB_ID index $POOLRUN_JOB_INDEX"; printf 'two\\n'`,
      };
    });
    const file = jobFile(dir, jobs);

    const localJson = join(dir, 'local.json');
    const local = await poolrun(['-w', '4', '--json', localJson, file]);
    rmSync(join(dir, 'flaky.marker'));
    // What the local run copied and downloaded is removed: what is there after the queued run, the workers made.
    rmSync(join(dir, 'copy-out.txt'));
    rmSync(join(dir, 'dl-out.txt'));

    const a = await worker(['-w', '2', '-m', 'thread']);
    await worker(['-w', '2', '-m', 'process']);
    const queueJson = join(dir, 'queue.json');
    const queued = await poolrun(['--queue', queue.redis.url, '--json', queueJson, file]);

    expect(local.code).toBe(1);
    expect(queued.code).toBe(local.code);
    expect(queued.stdout).toBe(local.stdout);
    expect(queued.stdout).toContain('job j99 index 100\ntwo\n');
    const l = readJson(localJson);
    const q = readJson(queueJson);
    expect({ ...q.summary, durationMs: 0 }).toEqual({ ...l.summary, durationMs: 0 });
    expect(jobFields(q)).toEqual(jobFields(l));
    expect(q.results[11]!.attempts).toBe(2);
    expect(q.results[7]!.status).toBe('timed-out');
    expect(q.results[20]!.value).toBe(144); // a call job, run on a worker
    // Copy and download jobs go through the queue like the others: run by a worker, with the local run's results.
    expect(q.results[15]).toMatchObject({ kind: 'copy', status: 'succeeded' });
    expect(q.results[30]).toMatchObject({ kind: 'download', status: 'succeeded' });
    expect(readFileSync(join(dir, 'copy-out.txt'), 'utf8')).toBe('copied\n');
    expect(readFileSync(join(dir, 'dl-out.txt'), 'utf8')).toBe('downloaded\n');
    // Where the jobs ran: both workers, on this host.
    const ran = q.results.filter((r) => r.startedAt !== null);
    expect(new Set(ran.map((r) => (r as { host?: string }).host))).toEqual(new Set([hostname()]));
    const threadWorkerJobs = ran.filter((r) => r.pid === a.pid);
    expect(threadWorkerJobs.length).toBeGreaterThan(0);
    expect(threadWorkerJobs.length).toBeLessThan(100);
    expect(ran.filter((r) => r.threadId === 0).length).toBeGreaterThan(0); // the process-mode worker's
  });

  it('SIGKILL one worker while it runs jobs: each job still completes once, on the other worker, attempts 2', async () => {
    const dir = temp();
    // Each run of a job appends its shell's pid to ID.start, and a line to ID.done once it completes. No job
    // completes before the test says so (the file go), however long the second worker takes to start: the first
    // worker's jobs are still running when it is killed.
    const go = join(dir, 'go');
    const jobs = Array.from({ length: 4 }, (_, i) => ({
      id: `k${i}`,
      run: `echo $$ >> ${dir}/k${i}.start; while [ ! -e ${go} ]; do sleep 0.05; done; echo x >> ${dir}/k${i}.done; echo done k${i}`,
    }));
    const file = jobFile(dir, jobs);
    // A lock short enough for the test, long enough (a second over BullMQ's renewal at half of it) to be renewed
    // on a loaded machine: a stall only for the worker that was killed.
    const lock = ['--lock-duration', '3s'];
    const a = await worker(['-w', '2', ...lock]);
    const json = join(dir, 'out.json');
    const producer = track(
      execa(process.execPath, [BIN, '--queue', queue.redis.url, '--json', json, file], {
        reject: false,
        stripFinalNewline: false,
        env: { NO_COLOR: '1' },
      }),
    );
    const startFiles = () => readdirSync(dir).filter((f) => f.endsWith('.start'));
    expect(await waitFor(() => startFiles().length === 2, 20_000)).toBe(true);
    const onA = startFiles().map((f) => f.replace('.start', ''));
    const firstPids = readPids(dir, '.start').map((p) => [p, pidStart(p)] as const);
    const b = await worker(['-w', '2', ...lock]);
    a.child.kill('SIGKILL');
    await a.exited;
    // The killed worker's jobs die with it (its watchdog ends their process groups), before they may complete.
    expect(await waitFor(() => firstPids.every(([p, start]) => !pidAlive(p, start)), 10_000)).toBe(true);
    writeFileSync(go, '');

    const r = await producer;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(jobs.map((j) => `done ${j.id}\n`).join(''));
    const doc = readJson(json);
    for (const res of doc.results) {
      expect(res.status).toBe('succeeded');
      expect(res.pid).toBe(b.pid);
      expect(res.attempts).toBe(onA.includes(res.id) ? 2 : 1);
    }
    // The killed worker's jobs were killed with it (its watchdog ended their process groups): no first run of
    // them completes, now or later.
    // A shell that is gone writes no .done line: one still alive would have written it by now (go exists).
    expect(await waitFor(() => firstPids.every(([p, start]) => !pidAlive(p, start)), 10_000)).toBe(true);
    for (const j of jobs) expect(readFileSync(join(dir, `${j.id}.done`), 'utf8')).toBe('x\n');
    for (const id of onA)
      expect(
        readFileSync(join(dir, `${id}.start`), 'utf8')
          .trim()
          .split('\n'),
      ).toHaveLength(2);
  });

  it('producer SIGINT: queued jobs are cancelled, running ones killed on every worker; exit 130', async () => {
    const dir = temp();
    const jobs = Array.from({ length: 8 }, (_, i) => ({
      id: `s${i}`,
      run: `echo $$ > ${dir}/s${i}.pid; sleep 30 & wait`,
    }));
    const file = jobFile(dir, jobs);
    const a = await worker(['-w', '2']);
    const b = await worker(['-w', '2', '-m', 'process']);
    const json = join(dir, 'out.json');
    const producer = track(
      execa(process.execPath, [BIN, '--queue', queue.redis.url, '--json', json, file], {
        reject: false,
        stripFinalNewline: false,
        env: { NO_COLOR: '1' },
      }),
    );
    const pidFiles = () => readdirSync(dir).filter((f) => f.endsWith('.pid'));
    expect(await waitFor(() => pidFiles().length === 4, 20_000)).toBe(true);
    const pids = readPids(dir, '.pid').map((p) => [p, pidStart(p)] as const);
    const t0 = Date.now();
    producer.kill('SIGINT');
    const r = await producer;
    expect(r.exitCode).toBe(130);
    expect(Date.now() - t0).toBeLessThan(15_000);
    // Every job shell is gone (its `sleep` child too: the whole group was killed)...
    expect(await waitFor(() => pids.every(([p, start]) => !pidAlive(p, start)), 10_000)).toBe(true);
    const doc = readJson(json);
    expect(doc.summary.cancelled).toBe(8);
    // The workers go on serving the next run...
    expect(pidAlive(a.pid) && pidAlive(b.pid)).toBe(true);
    const next = await poolrun(['--queue', queue.redis.url, jobFile(temp(), ['echo next', 'echo next'])]);
    expect(next.stdout).toBe('next\nnext\n');
    // ...and nothing of the cancelled run started: its queued jobs were ahead of the next run's in the queue, so
    // by the time both of those ran on the two workers, every one of them had been taken (and skipped).
    expect(pidFiles()).toHaveLength(4);
  });

  it('producer SIGKILLed: workers kill its running jobs and skip its queued ones once its run key expires', async () => {
    const dir = temp();
    const jobs = Array.from({ length: 4 }, (_, i) => ({
      id: `o${i}`,
      run: `echo $$ > ${dir}/o${i}.pid; sleep 60`,
    }));
    const file = jobFile(dir, jobs);
    const a = await worker(['-w', '1', '--kill-after', '1s']);
    await worker(['-w', '1', '--kill-after', '1s']);
    // --queue-timeout 1s: the run key lives 2 × 1s + 10s without its producer's refresh.
    const producer = track(
      execa(process.execPath, [BIN, '--queue', queue.redis.url, '--queue-timeout', '1s', file], {
        reject: false,
      }),
    );
    const pidFiles = () => readdirSync(dir).filter((f) => f.endsWith('.pid'));
    expect(await waitFor(() => pidFiles().length === 2, 20_000)).toBe(true);
    const pids = readPids(dir, '.pid').map((p) => [p, pidStart(p)] as const);
    producer.kill('SIGKILL');
    await producer;
    expect(await waitFor(() => pids.every(([p, start]) => !pidAlive(p, start)), 30_000)).toBe(true);
    expect(a.stderr()).toMatch(/has no producer any more: killing its jobs/);
    // The dead run's queued jobs are ahead of the next run's: once two of those have run on the two workers, the
    // dead run's were taken (and skipped). None of them started.
    const next = await poolrun(['--queue', queue.redis.url, jobFile(temp(), ['echo next', 'echo next'])]);
    expect(next.stdout).toBe('next\nnext\n');
    expect(pidFiles()).toHaveLength(2);
  });

  it('--deadline through the queue: results so far, the rest killed, exit 124', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'quick', run: 'echo quick' },
      { id: 'slow', run: `echo $$ > ${dir}/slow.pid; sleep 30` },
    ]);
    await worker(['-w', '2']);
    const r = await poolrun(['--queue', queue.redis.url, '--deadline', '2s', '--json', '-', file]);
    expect(r.code).toBe(124);
    const doc = JSON.parse(r.stdout) as ResultsDoc;
    expect(doc.results.map((x) => x.status)).toEqual(['succeeded', 'cancelled']);
    const slow = Number(readFileSync(join(dir, 'slow.pid'), 'utf8'));
    const slowStart = pidStart(slow);
    expect(await waitFor(() => !pidAlive(slow, slowStart), 10_000)).toBe(true);
  });

  it('Redis unreachable: producer and worker say so and exit 2, within a bounded time; nothing runs', async () => {
    const dir = temp();
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const marker = join(dir, 'ran');
    const file = jobFile(dir, [`touch ${marker}`]);
    const p = await poolrun(['--queue', url, file]);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(
      new RegExp(`^poolrun: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/0 .*ECONNREFUSED`),
    );
    expect(p.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(p.stdout).toBe('');
    expect(p.ms).toBeLessThan(20_000);
    expect(existsSync(marker)).toBe(false);

    const w = await execa(process.execPath, [BIN, 'worker', '--queue', url], { reject: false });
    expect(w.exitCode).toBe(2);
    expect(w.stderr).toMatch(/^poolrun: cannot reach Redis at /);

    const bad = await poolrun(['--queue', 'http://127.0.0.1:1', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--queue: expected a Redis URL');
  });

  it('a local run never loads bullmq or ioredis; a --queue run does', async () => {
    const dir = temp();
    const log = join(dir, 'resolved.log');
    // A module resolve hook logs every module the CLI (and its worker threads) loads.
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`,
    );
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);`,
    );
    // The CLI's chunks are CommonJS (scripts/build-bundle.mjs), which the hook does not see: Node's module debug
    // lines name them.
    const env = { NODE_OPTIONS: `--import ${join(dir, 'register.mjs')}`, NODE_DEBUG: 'module' };
    // A call too: it runs on a worker thread, whose modules are checked as well (a shell job may start from the
    // main thread while the first thread starts: src/pool/hybrid.ts).
    const file = jobFile(dir, [
      'echo local',
      { call: { module: join(FIXTURES, 'tasks.mjs'), export: 'square', args: [3] } },
    ]);
    const local = await poolrun(['-w', '2', file], { env });
    expect(local.stdout).toBe('local\n9\n');
    const required = [...local.stderr.matchAll(/^MODULE \d+: load "([^"]+)"/gm)].map(
      (m) => pathToFileURL(m[1]!).href,
    );
    const loaded = [readFileSync(log, 'utf8'), ...required].join('\n') + '\n';
    // The modules of dist/ behind what was loaded: a file of dist/, or each module a chunk of dist/bundle/ holds
    // (scripts/build-bundle.mjs writes a `// dist/…` line before each).
    const modules = new Set<string>();
    for (const url of new Set(loaded.split('\n'))) {
      const m = /\/(dist\/.*\.c?js)$/.exec(url);
      if (!m) continue;
      if (!m[1]!.startsWith('dist/bundle/')) modules.add(m[1]!);
      else
        for (const [, mod] of readFileSync(new URL(url), 'utf8').matchAll(/^\/\/ (dist\/\S+\.js)$/gm))
          modules.add(mod!);
    }
    expect(modules).toContain('dist/cli/run.js');
    expect(loaded).toMatch(/\/dist\/(bundle\/)?(pool\/)?worker-main\.c?js\n/);
    expect(loaded).not.toMatch(/bullmq|ioredis/);
    expect([...modules].filter((m) => m.startsWith('dist/queue/'))).toEqual([]);

    rmSync(log);
    await worker(['-w', '1']);
    const queued = await poolrun(['--queue', queue.redis.url, file], { env });
    expect(queued.stdout).toBe('local\n9\n');
    expect(readFileSync(log, 'utf8')).toMatch(
      /node_modules\/bullmq\/.*node_modules\/ioredis\/|node_modules\/ioredis\/.*node_modules\/bullmq\//s,
    );
  });

  it('worker SIGTERM: it takes no new job, finishes the running one, exits 0; twice: gives it back to the queue', async () => {
    const dir = temp();
    const a = await worker(['-w', '1']);
    const file = jobFile(dir, [
      { id: 'first', run: `echo $$ >> ${dir}/first.start; sleep 2; echo first done` },
      { id: 'second', run: `echo $$ >> ${dir}/second.start; sleep 8; echo second done` },
    ]);
    const json = join(dir, 'out.json');
    const producer = track(
      execa(process.execPath, [BIN, '--queue', queue.redis.url, '--json', json, file], {
        reject: false,
        stripFinalNewline: false,
        env: { NO_COLOR: '1' },
      }),
    );
    expect(await waitFor(() => existsSync(join(dir, 'first.start')), 20_000)).toBe(true);
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.stderr()).toMatch(/succeeded r[0-9a-f]+\/first/);
    expect(existsSync(join(dir, 'second.start'))).toBe(false);

    // The second job waits for a worker; this one is asked to stop twice while running it.
    const b = await worker(['-w', '1']);
    expect(await waitFor(() => existsSync(join(dir, 'second.start')), 20_000)).toBe(true);
    const firstRun = readPids(dir, 'second.start')[0]!;
    const firstRunStart = pidStart(firstRun);
    const c = await worker(['-w', '1']);
    b.child.kill('SIGTERM');
    // The second signal once the first was handled (not two signals taken as one).
    expect(await waitFor(() => /SIGTERM: taking no more jobs/.test(b.stderr()), 20_000)).toBe(true);
    b.child.kill('SIGTERM');
    expect(await b.exited).toEqual({ code: 0, signal: null });
    expect(pidAlive(firstRun, firstRunStart)).toBe(false);

    const r = await producer;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('first done\nsecond done\n');
    const doc = readJson(json);
    expect(doc.results.map((x) => [x.attempts, x.pid])).toEqual([
      [1, a.pid],
      [2, c.pid],
    ]);
  });

  it('Redis lost mid-run: producer and worker retry, then give up with a clear error; the job is killed', async () => {
    const own = await startRedis();
    onCleanup(() => own.stop());
    const dir = temp();
    const w = await worker(['-w', '1', '--queue-timeout', '2s'], own.url);
    const file = jobFile(dir, [{ id: 'long', run: `echo $$ > ${dir}/long.pid; sleep 30` }]);
    const json = join(dir, 'out.json');
    const producer = track(
      execa(process.execPath, [BIN, '--queue', own.url, '--queue-timeout', '2s', '--json', json, file], {
        reject: false,
        env: { NO_COLOR: '1' },
      }),
    );
    expect(await waitFor(() => existsSync(join(dir, 'long.pid')), 20_000)).toBe(true);
    const jobPid = Number(readFileSync(join(dir, 'long.pid'), 'utf8'));
    const jobStart = pidStart(jobPid);
    const t0 = Date.now();
    await own.stop();

    const r = await producer;
    expect(r.exitCode).toBe(1);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.stderr).toMatch(
      new RegExp(`poolrun: lost the connection to Redis at redis://127\\.0\\.0\\.1:${own.port}/0`),
    );
    const doc = readJson(json);
    expect(doc.results[0]!.status).toBe('failed');
    expect(doc.results[0]!.error?.message).toMatch(/lost the connection to Redis/);

    expect((await w.exited).code).toBe(1);
    expect(w.stderr()).toMatch(/poolrun worker: lost the connection to Redis/);
    expect(await waitFor(() => !pidAlive(jobPid, jobStart), 10_000)).toBe(true);
  });

  it('bounded data in Redis: output cut to --capture-limit before it is stored; the run keys expire after --queue-ttl', async () => {
    const dir = temp();
    await worker(['-w', '2']);
    const file = jobFile(dir, [
      { id: 'big', run: "head -c 3000000 /dev/zero | tr '\\0' a" },
      { id: 'small', run: 'echo small' },
    ]);
    const json = join(dir, 'out.json');
    const r = await poolrun([
      '--queue',
      queue.redis.url,
      '--capture-limit',
      '64K',
      '--queue-ttl',
      '2s',
      '--json',
      json,
      file,
    ]);
    expect(r.code).toBe(0);
    const doc = readJson(json);
    expect(doc.results[0]!.stdout).toBe('a'.repeat(65536));
    expect((doc.results[0] as { stdoutTruncated?: boolean }).stdoutTruncated).toBe(true);
    expect(r.stdout).toBe(`${'a'.repeat(65536)}small\n`);

    const client = new Redis(queue.redis.url);
    try {
      const keys = await client.keys('bull:poolrun:r*');
      const jobKeys = keys.filter((k) => /\.(big|small)$/.test(k));
      expect(jobKeys).toHaveLength(2);
      const big = jobKeys.find((k) => k.endsWith('.big'))!;
      // The big result is stored once, under its own key; BullMQ's job and event stream only point to it.
      const stored = big.replace('bull:poolrun:', 'bull:poolrun:poolrun-result:');
      expect(await client.strlen(stored)).toBeGreaterThan(65_536);
      expect(await client.strlen(stored)).toBeLessThan(70_000);
      expect(await client.hstrlen(big, 'returnvalue')).toBeLessThan(1000);
      expect(Number(await client.call('MEMORY', 'USAGE', 'bull:poolrun:events'))).toBeLessThan(50_000);
      for (const k of [...jobKeys, stored]) expect(await client.pttl(k)).toBeGreaterThan(0);
      expect(await client.keys('bull:poolrun:poolrun-run:*')).toEqual([]);
      // Expired after --queue-ttl: polled (Redis expires keys lazily and in sampled sweeps), 20 s at most.
      let left = await client.exists(...jobKeys, stored);
      for (const end = Date.now() + 20_000; left > 0 && Date.now() < end;) {
        await new Promise((res) => setTimeout(res, 100));
        left = await client.exists(...jobKeys, stored);
      }
      expect(left).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});
