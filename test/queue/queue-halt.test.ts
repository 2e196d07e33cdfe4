/**
 * --halt, --fail-fast and --deadline through the queue stop what starts as a local run does (contract §8): once a
 * job's failure halts the run, no job that had not started by then starts, on any worker; after the deadline no
 * job starts. And every queue result has a `host` key, null for a job that ran nowhere. A real redis-server, two
 * real workers, the CLI as producer; each case is compared with the same job file run locally.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  BIN,
  CLI_TIMEOUT_MS,
  poolrun,
  readJson,
  rng,
  track,
  waitFor,
  writeJobs,
  type ResultsDoc,
} from '../helpers.js';
import { useQueue } from '../redis.js';

const queue = useQueue('poolrun-queue-halt-');
const { temp, worker, onCleanup } = queue;
/** Results carry `host` in queue mode. */
const hostOf = (r: object) => (r as { host?: string | null }).host;
const statuses = (doc: ResultsDoc) => Object.fromEntries(doc.results.map((r) => [r.id, r.status]));

/** Pool slots in all: two workers of 2 each through the queue, -w 4 locally. */
const SLOTS = 4;
const JOBS = 16;

/**
 * Job `fail` fails once the SLOTS-1 jobs after it are running (each touches its marker first), so that what runs
 * when it fails is known: the jobs before it have ended (they held no slot), the SLOTS-1 after it run, and every
 * later job waits for a slot. Those running ones outlast the failure by seconds (a halt `now` kills them).
 */
function haltJobs(dir: string, fail: number) {
  const running = Array.from({ length: SLOTS - 1 }, (_, k) => fail + 1 + k);
  const ready = running.map((i) => `[ -e ${dir}/m${i} ]`).join(' && ');
  return Array.from({ length: JOBS }, (_, i) => {
    const id = `j${i}`;
    if (i === fail) return { id, run: `until ${ready}; do sleep 0.05; done; touch ${dir}/done; exit 4` };
    if (running.includes(i))
      return { id, run: `touch ${dir}/m${i}; until [ -e ${dir}/done ]; do sleep 0.05; done; sleep 3` };
    return { id, run: `echo ${i}` };
  });
}

function expected(fail: number, now: boolean): Record<string, string> {
  return Object.fromEntries(
    Array.from({ length: JOBS }, (_, i) => {
      const status =
        i < fail
          ? 'succeeded'
          : i === fail
            ? 'failed'
            : i < fail + SLOTS
              ? now
                ? 'cancelled'
                : 'succeeded'
              : 'cancelled';
      return [`j${i}`, status];
    }),
  );
}

describe('--halt and --deadline through the queue', () => {
  it('no job that had not started when the failing job ended starts, on any worker: statuses as in a local run (generated positions)', async () => {
    await worker(['-w', '2', '--kill-after', '1s']);
    await worker(['-w', '2', '--kill-after', '1s']);
    // poolrun's spellings and GNU parallel's; the failing job's position is drawn (seeded: replayable).
    const spellings = [
      ['--halt', 'now'],
      ['--fail-fast'],
      ['--halt', 'now,fail=1'],
      ['--halt', 'soon'],
      ['--halt', '2'],
      ['--halt', 'soon,fail=1'],
    ];
    const seed = 0x5eed_4a17;
    const next = rng(seed);
    const base = temp();
    for (const [n, halt] of spellings.entries()) {
      const fail = Math.floor(next() * (JOBS - SLOTS));
      const now = ['now', 'now,fail=1', '2'].includes(halt[1] ?? '');
      const want = expected(fail, now);
      const docs: Record<string, ResultsDoc> = {};
      for (const where of ['queue', 'local'] as const) {
        const dir = join(base, `${n}-${where}`);
        mkdirSync(dir);
        const file = writeJobs(dir, haltJobs(dir, fail));
        const json = join(dir, 'out.json');
        const how = where === 'queue' ? ['--queue', queue.redis.url] : ['-w', String(SLOTS)];
        const r = await poolrun([...how, '-q', '--kill-after', '1s', ...halt, '--json', json, file]);
        const what = `seed ${seed}, case ${n}: ${where} ${halt.join(' ')}, failing job j${fail}\n${r.stderr}`;
        expect(r.code, what).toBe(1);
        docs[where] = readJson(json);
        expect(statuses(docs[where]), what).toEqual(want);
      }
      expect(statuses(docs.queue!)).toEqual(statuses(docs.local!));
      // Every queue result says where it ran: the worker's host, or null for a job that never started.
      for (const res of docs.queue!.results)
        expect(hostOf(res), res.id).toBe(res.startedAt === null ? null : hostname());
    }
  }, 240_000);

  it('--deadline: no job starts after it, even while the producer cannot act (stopped)', async () => {
    const dir = temp();
    await worker(['-w', '1']);
    const late = join(dir, 'late');
    const past = join(dir, 'past');
    const starts = join(dir, 'starts');
    // A job that starts once `past` exists says so.
    const jobs = Array.from({ length: 40 }, (_, i) => ({
      id: `j${i}`,
      run: `echo ${i} >> ${starts}; [ -e ${past} ] && echo ${i} >> ${late}; sleep 0.2`,
    }));
    const file = writeJobs(dir, jobs);
    const json = join(dir, 'out.json');
    const child = track(
      execa(
        process.execPath,
        [BIN, '--queue', queue.redis.url, '-q', '--deadline', '2s', '--json', json, file],
        {
          reject: false,
          timeout: CLI_TIMEOUT_MS,
          env: { NO_COLOR: '1' },
        },
      ),
    );
    onCleanup(() => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    });
    expect(await waitFor(() => existsSync(starts), 30_000)).toBe(true);
    // The run (and its deadline) began before its first job started.
    const t0 = Date.now();
    // The producer's own deadline timer cannot fire: only what the workers know can stop them.
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 3500 - Date.now())));
    // Well past the deadline.
    const before = readFileSync(starts, 'utf8').trim().split('\n').length;
    expect(before).toBeLessThan(jobs.length);
    writeFileSync(past, '');
    await new Promise((r) => setTimeout(r, 2000));
    expect(existsSync(late) ? readFileSync(late, 'utf8') : '').toBe('');
    child.kill('SIGCONT');
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(124);
  }, 90_000);
});

describe('queue results always have a host key', () => {
  it('a job cancelled by `after` (its dependency failed) has host null; the others name the worker host', async () => {
    const dir = temp();
    await worker(['-w', '2']);
    const file = writeJobs(dir, [
      { id: 'bad', run: 'exit 3' },
      { id: 'dep', run: 'echo dep', after: 'bad' },
      { id: 'ok', run: 'echo ok' },
    ]);
    const json = join(dir, 'out.json');
    const r = await poolrun(['--queue', queue.redis.url, '-q', '--json', json, file]);
    expect(r.code, r.stderr).toBe(1);
    const doc = readJson(json);
    const byId = Object.fromEntries(doc.results.map((x) => [x.id, x]));
    expect(byId.dep).toMatchObject({ status: 'cancelled' });
    for (const res of doc.results) expect(res, res.id).toHaveProperty('host');
    expect(hostOf(byId.dep!)).toBeNull();
    expect(hostOf(byId.bad!)).toBe(hostname());
    expect(hostOf(byId.ok!)).toBe(hostname());
  });
});
