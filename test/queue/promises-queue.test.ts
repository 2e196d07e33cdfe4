/**
 * README promises of the queue mode that had no test of their own (issue 18, item 4): --halt, --output stream and
 * --order completion through the queue; a job whose worker dies twice fails; the stop sequence (a worker's third
 * SIGTERM, the producer's second Ctrl-C, a silent worker given up on). A real redis-server, real workers.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  BIN,
  CLI_TIMEOUT_MS,
  pidAlive,
  readJson,
  track,
  waitFor,
  writeJobs,
  type ResultsDoc,
} from '../helpers.js';
import { startWorker, useQueue, type WorkerProcess } from '../redis.js';

const queue = useQueue('poolrun-promises-queue-');
const { temp, onCleanup } = queue;
async function worker(args: string[]): Promise<WorkerProcess> {
  const w = await startWorker(queue.redis.url, args);
  onCleanup(async () => {
    if (w.child.signalCode === null && w.child.exitCode === null) w.child.kill('SIGCONT');
    await w.stop();
  });
  return w;
}
/** A producer run as a subprocess whose stdout and stderr can be watched while it runs. */
function producer(args: string[]) {
  const child = track(
    execa(process.execPath, [BIN, '--queue', queue.redis.url, ...args], {
      reject: false,
      timeout: CLI_TIMEOUT_MS,
      stripFinalNewline: false,
      env: { NO_COLOR: '1' },
    }),
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stdout: () => out, stderr: () => err };
}
function byId(doc: ResultsDoc): Record<string, ResultsDoc['results'][number]> {
  return Object.fromEntries(doc.results.map((r) => [r.id, r]));
}
/** The worker has started its watchdog: a /bin/sh child running the watchdog loop. */
function hasWatchdog(workerPid: number): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === workerPid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('grace_ticks'))
        return true;
    } catch {
      /* gone meanwhile */
    }
  }
  return false;
}
const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

describe('the same flags through the queue', () => {
  it('--output stream: a line is printed, prefixed [id], while its job still runs', async () => {
    const dir = temp();
    await worker(['-w', '2']);
    const gate = join(dir, 'gate');
    const file = writeJobs(dir, [
      { id: 'a', run: `echo one; while [ ! -f ${gate} ]; do sleep 0.05; done; echo two` },
      { id: 'b', run: 'echo bee' },
    ]);
    const p = producer(['--output', 'stream', file]);
    // `a` is held until the gate exists: its first line must be out before that.
    expect(await waitFor(() => p.stdout().includes('[a] one\n'), 30_000), p.stderr()).toBe(true);
    expect(p.stdout()).not.toContain('two');
    writeFileSync(gate, '');
    const r = await p.child;
    expect(r.exitCode, p.stderr()).toBe(0);
    expect(p.stdout().split('\n').sort()).toEqual(['', '[a] one', '[a] two', '[b] bee']);
  });

  it('--order completion: a later job that finishes first is printed first', async () => {
    const dir = temp();
    await worker(['-w', '2']);
    const gate = join(dir, 'gate');
    const file = writeJobs(dir, [
      { id: 'slow', run: `while [ ! -f ${gate} ]; do sleep 0.05; done; echo slow` },
      { id: 'fast', run: 'echo fast' },
    ]);
    const p = producer(['--order', 'completion', file]);
    expect(await waitFor(() => p.stdout() === 'fast\n', 30_000), p.stderr()).toBe(true);
    writeFileSync(gate, '');
    const r = await p.child;
    expect(r.exitCode, p.stderr()).toBe(0);
    expect(p.stdout()).toBe('fast\nslow\n');
  });

  it('--halt now: after the failing job’s retries, the running job is killed on the worker and not retried', async () => {
    const dir = temp();
    await worker(['-w', '2', '--kill-after', '1s']);
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      { id: 'long', run: `echo $$ >> ${dir}/long.pid; sleep 30`, retries: 3 },
      {
        id: 'bad',
        run: `while [ ! -s ${dir}/long.pid ]; do sleep 0.05; done; echo x >> ${dir}/bad.starts; exit 1`,
        retries: 1,
      },
    ]);
    const p = producer(['--halt', 'now', '--json', json, file]);
    const r = await p.child;
    expect(r.exitCode, p.stderr()).toBe(1);
    const res = byId(readJson(json));
    expect(res.bad).toMatchObject({ status: 'failed', attempts: 2 });
    expect(lines(join(dir, 'bad.starts'))).toHaveLength(2);
    // Killed by the halt, not retried though it had retries left.
    expect(res.long).toMatchObject({ status: 'cancelled', attempts: 1 });
    const longPids = lines(join(dir, 'long.pid'));
    expect(longPids).toHaveLength(1);
    expect(await waitFor(() => !pidAlive(Number(longPids[0])), 10_000)).toBe(true);
  });
});

describe('delivery', () => {
  it('a job whose worker dies twice fails: job stalled more than allowable limit', async () => {
    const dir = temp();
    const starts = join(dir, 'starts');
    // A third run (should the limit not hold) would succeed at once, and the test see it.
    const file = writeJobs(dir, [
      { id: 'poison', run: `echo $$ >> ${starts}; [ "$(wc -l < ${starts})" -ge 3 ] && exit 0; sleep 60` },
    ]);
    const lock = ['-w', '1', '--lock-duration', '4s'];
    // Should a run outlive its killed worker, it is not left behind.
    onCleanup(() => {
      for (const pid of lines(starts).map(Number)) if (pidAlive(pid)) process.kill(-pid, 'SIGKILL');
    });
    const a = await worker(lock);
    const json = join(dir, 'out.json');
    const p = producer(['--json', json, file]);
    expect(await waitFor(() => lines(starts).length === 1, 30_000), p.stderr()).toBe(true);
    // Its watchdog (started with its first job) is what kills the job's group once the worker is gone.
    expect(await waitFor(() => hasWatchdog(a.pid), 10_000)).toBe(true);
    a.child.kill('SIGKILL');
    await a.exited;
    // Its watchdog kills the job's group.
    expect(await waitFor(() => !pidAlive(Number(lines(starts)[0])), 10_000)).toBe(true);
    const b = await worker(lock);
    expect(await waitFor(() => lines(starts).length === 2, 40_000), p.stderr()).toBe(true);
    expect(await waitFor(() => hasWatchdog(b.pid), 10_000)).toBe(true);
    b.child.kill('SIGKILL');
    await b.exited;
    await worker(lock);
    const r = await p.child;
    expect(r.exitCode, p.stderr()).toBe(1);
    const [res] = readJson(json).results;
    expect(res!.status).toBe('failed');
    expect(res!.error!.message).toContain('job stalled more than allowable limit');
    expect(lines(starts)).toHaveLength(2);
  });
});

describe('stopping', () => {
  it('a worker’s third SIGTERM kills everything at once (the second only started the --kill-after grace)', async () => {
    const dir = temp();
    // The job ignores SIGTERM: after the second signal, only SIGKILL after the worker's 60 s --kill-after ends it.
    const file = writeJobs(dir, [{ id: 'stubborn', run: `trap '' TERM; echo $$ > ${dir}/pid; sleep 60` }]);
    const w = await worker(['-w', '1', '--kill-after', '60s']);
    const p = producer([file]);
    expect(await waitFor(() => lines(join(dir, 'pid')).length === 1, 30_000), p.stderr()).toBe(true);
    const pid = Number(lines(join(dir, 'pid'))[0]);
    w.child.kill('SIGTERM');
    expect(await waitFor(() => w.stderr().includes('SIGTERM: taking no more jobs'), 10_000)).toBe(true);
    w.child.kill('SIGTERM');
    expect(await waitFor(() => w.stderr().includes('SIGTERM: killing 1 running jobs'), 10_000)).toBe(true);
    expect(pidAlive(pid)).toBe(true); // it ignored the SIGTERM; 60 s of grace remain
    w.child.kill('SIGTERM');
    // Well inside the 60 s grace: the third signal did not wait for it.
    expect(await waitFor(() => !pidAlive(pid), 20_000)).toBe(true);
    expect(await w.exited).toEqual({ code: 143, signal: null });
    p.child.kill('SIGKILL');
  });

  /**
   * A silent worker: SIGSTOPped while it runs the job, it can neither kill it nor confirm. The producer's
   * --kill-after (1 s) + 15 s, then its jobs are reported cancelled; a second Ctrl-C does not wait at all.
   */
  async function stoppedWorkerRun(dir: string) {
    const w = await worker(['-w', '1']);
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [{ id: 'held', run: `echo $$ > ${dir}/pid; sleep 60` }]);
    const p = producer(['--kill-after', '1s', '--json', json, file]);
    expect(await waitFor(() => lines(join(dir, 'pid')).length === 1, 30_000), p.stderr()).toBe(true);
    w.child.kill('SIGSTOP');
    expect(await waitFor(() => readFileSync(`/proc/${w.pid}/stat`, 'utf8').includes(') T '), 10_000)).toBe(
      true,
    );
    return { w, p, json, pid: Number(lines(join(dir, 'pid'))[0]) };
  }

  it('a worker that does not confirm the kill is given up on: its job is reported cancelled; exit 130', async () => {
    const dir = temp();
    const { p, json } = await stoppedWorkerRun(dir);
    p.child.kill('SIGINT');
    const r = await p.child;
    expect(r.exitCode, p.stderr()).toBe(130);
    const [res] = readJson(json).results;
    expect(res!.status).toBe('cancelled');
    expect(res!.error!.message).toMatch(/^no worker confirmed that the job was killed within 16(\.0+)?s$/);
  });

  it('a second Ctrl-C on the producer stops waiting for the workers at once; exit 130', async () => {
    const dir = temp();
    const { w, p, json, pid } = await stoppedWorkerRun(dir);
    p.child.kill('SIGINT');
    // The first Ctrl-C was taken (the run key says kill) before the second is sent.
    const r0 = new Redis(queue.redis.url);
    onCleanup(() => void r0.disconnect());
    const killed = async () => {
      for (const k of await r0.keys('*'))
        if ((await r0.type(k)) === 'string' && (await r0.get(k)) === 'kill') return true;
      return false;
    };
    let told = false;
    const end = Date.now() + 10_000;
    while (!told && Date.now() < end) {
      told = await killed();
      if (!told) await new Promise((res) => setTimeout(res, 50));
    }
    expect(told).toBe(true);
    p.child.kill('SIGINT');
    const r = await p.child;
    expect(r.exitCode, p.stderr()).toBe(130);
    const [res] = readJson(json).results;
    expect(res!.status).toBe('cancelled');
    expect(res!.error!.message).toBe(
      'killed on its worker; not waiting for the confirmation (second Ctrl-C)',
    );
    // The producer did not wait for the (still stopped) worker: the job still runs there...
    expect(pidAlive(pid)).toBe(true);
    // ...and the worker finishes the kill once it runs again.
    w.child.kill('SIGCONT');
    expect(await waitFor(() => !pidAlive(pid), 20_000)).toBe(true);
  });
});
