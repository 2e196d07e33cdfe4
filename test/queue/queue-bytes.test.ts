/**
 * What a job printed reaches the producer byte for byte: output that is not UTF-8 (random bytes, NUL, lone
 * continuation bytes, cut characters) is printed, and written to --json and NDJSON, exactly as a local run of the
 * same job file does; a call's value that JSON cannot hold as it is (BigInt, a cycle) gets the local run's JSON
 * form; and the producer bounds what a worker sends to its own --capture-limit.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BIN, readJson, rng, track, writeJobs } from '../helpers.js';
import { useQueue } from '../redis.js';
import { jobResult } from './result.js';

const queue = useQueue('poolrun-qbytes-');
const { temp, worker } = queue;

/** The CLI with stdout as bytes. */
async function run(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const r = await track(
    execa(process.execPath, [BIN, ...args], {
      reject: false,
      timeout: 120_000,
      encoding: 'buffer',
      stripFinalNewline: false,
      env: { NO_COLOR: '1' },
    }),
  );
  return { code: r.exitCode ?? -1, stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr).toString() };
}

/** A result without where and when it ran. */
function what(r: Record<string, unknown>): Record<string, unknown> {
  const {
    worker: _w,
    pid: _p,
    threadId: _t,
    startedAt: _s,
    durationMs: _d,
    host: _h,
    usage,
    time: _x,
    ...rest
  } = r;
  return { ...rest, usage: usage ? 'measured' : usage };
}

/** Random bytes of the kinds that break a decode-and-re-encode: invalid UTF-8, NUL, lone continuations, multibyte. */
function randomBytes(next: () => number, max: number): Buffer {
  const pieces: Buffer[] = [];
  const len = Math.floor(next() * max);
  let size = 0;
  while (size < len) {
    const k = Math.floor(next() * 8);
    const piece =
      k === 0
        ? Buffer.from([Math.floor(next() * 256)]) // any byte
        : k === 1
          ? Buffer.from([0])
          : k === 2
            ? Buffer.from([0x80 + Math.floor(next() * 64)]) // a lone continuation byte
            : k === 3
              ? Buffer.from(['é', '€', '😀', '☃'][Math.floor(next() * 4)]!) // valid multibyte
              : k === 4
                ? Buffer.from('😀').subarray(0, 1 + Math.floor(next() * 3)) // a character cut short
                : k === 5
                  ? Buffer.from('\n')
                  : Buffer.from('text ');
    pieces.push(piece);
    size += piece.length;
  }
  return Buffer.concat(pieces);
}

describe('queue output bytes and values as a local run has them', () => {
  it('generated outputs of random bytes: same stdout bytes, --json and NDJSON finished events as a local run', async () => {
    const dir = temp();
    const next = rng(20261204);
    const jobs = [];
    for (let i = 0; i < 40; i++) {
      // Some jobs print only UTF-8, so that both forms (text and base64) are compared.
      const out = i % 5 === 0 ? Buffer.from(`plain ${i} é😀\n`) : randomBytes(next, 2500);
      const err = i % 3 === 0 ? Buffer.alloc(0) : randomBytes(next, 300);
      writeFileSync(join(dir, `o${i}`), out);
      writeFileSync(join(dir, `e${i}`), err);
      jobs.push({ id: `b${i}`, run: `cat o${i}; cat e${i} >&2`, cwd: '.' });
    }
    const file = writeJobs(dir, jobs);
    await worker(['-w', '2']);
    await worker(['-w', '2', '-m', 'process']);

    // Under the default limit: printed output, --json and NDJSON alike.
    const lj = join(dir, 'l.json');
    const qj = join(dir, 'q.json');
    const local = await run(['-w', '3', '--json', lj, file]);
    const queued = await run(['--queue', queue.redis.url, '--json', qj, file]);
    expect(queued.code).toBe(0);
    expect(local.code).toBe(0);
    expect(queued.stdout.equals(local.stdout)).toBe(true);
    const l = readJson(lj).results.map((r) => what(r as never));
    const q = readJson(qj).results.map((r) => what(r as never));
    expect(q).toEqual(l);
    expect(l.filter((r) => r.stdoutEncoding === 'base64').length).toBeGreaterThan(10);
    expect(l.filter((r) => r.stdoutEncoding === undefined).length).toBeGreaterThan(5);
    // Decoding gives back the exact bytes.
    readJson(qj).results.forEach((r, i) => {
      const enc = (r as { stdoutEncoding?: string }).stdoutEncoding;
      expect(
        Buffer.from(r.stdout, enc === 'base64' ? 'base64' : 'utf8').equals(readFileSync(join(dir, `o${i}`))),
      ).toBe(true);
    });

    const finished = (out: Buffer) =>
      out
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((e) => e.event === 'finished')
        .map(what)
        .sort((a, b) => (a.index as number) - (b.index as number));
    const ln = await run(['-w', '3', '--reporter', 'ndjson', file]);
    const qn = await run(['--queue', queue.redis.url, '--reporter', 'ndjson', file]);
    expect(finished(qn.stdout)).toEqual(finished(ln.stdout));
    expect(finished(qn.stdout)).toHaveLength(40);

    // A small --capture-limit (1K) cuts many outputs, some in the middle of a character: the same --json.
    await run(['-w', '3', '--capture-limit', '1K', '--json', lj, file]);
    await run(['--queue', queue.redis.url, '--capture-limit', '1K', '--json', qj, file]);
    const lc = readJson(lj).results.map((r) => what(r as never));
    const qc = readJson(qj).results.map((r) => what(r as never));
    expect(qc).toEqual(lc);
    expect(lc.filter((r) => r.stdoutTruncated === true).length).toBeGreaterThan(10);
  }, 240_000);

  it('a call returning a BigInt or a cyclic object: the status, exit status, stdout and value of a local run', async () => {
    const dir = temp();
    writeFileSync(
      join(dir, 'tasks.mjs'),
      [
        'export function bigint(){ return 10n }',
        'export function nested(){ return { n: 2n, list: [1n, "x"] } }',
        'export function cyc(){ const a = {}; a.a = a; return a }',
        'export function plain(){ return { ok: [1, "é"] } }',
      ].join('\n'),
    );
    const file = writeJobs(
      dir,
      ['bigint', 'nested', 'cyc', 'plain'].map((e) => ({
        id: e,
        call: { module: './tasks.mjs', export: e },
      })),
    );
    await worker(['-w', '2']);
    const lj = join(dir, 'l.json');
    const qj = join(dir, 'q.json');
    const local = await run(['--json', lj, file]);
    const queued = await run(['--queue', queue.redis.url, '--json', qj, file]);
    expect(local.code).toBe(0);
    expect(queued.code).toBe(0);
    expect(queued.stdout.toString()).toBe(local.stdout.toString());
    const l = readJson(lj).results.map((r) => what(r as never));
    expect(readJson(qj).results.map((r) => what(r as never))).toEqual(l);
    expect(l.map((r) => r.value)).toEqual([
      '10',
      { n: '2', list: ['1', 'x'] },
      '[not representable in JSON: Converting circular structure to JSON]',
      { ok: [1, 'é'] },
    ]);
  }, 120_000);

  it('a value nested 1000 deep travels as locally, 1001 fails as locally; a call error is stored masked in Redis', async () => {
    // Acceptance probe: a value nested 256 deep succeeded locally but was "a result this poolrun cannot read"
    // through the queue; a call's error quoting a URL's password was stored unmasked (BullMQ's events stream
    // keeps it past --queue-ttl).
    const dir = temp();
    writeFileSync(
      join(dir, 'tasks.mjs'),
      [
        'export function nest(n) { let x = "leaf"; for (let i = 0; i < n; i++) x = [x]; return x; }',
        "export function boom() { throw new Error('kaboom https://user:pw-s3cret@example.com/x?token=tok-s3cret'); }",
      ].join('\n'),
    );
    const file = writeJobs(dir, [
      ...[255, 256, 1000, 1001].map((n) => ({
        id: `n${n}`,
        call: { module: './tasks.mjs', export: 'nest', args: [n] },
      })),
      // Retried: its first attempt's error travels in BullMQ's progress (and event stream) too.
      { id: 'boom', call: { module: './tasks.mjs', export: 'boom' }, retries: 1 },
    ]);
    await worker(['-w', '2']);
    const lj = join(dir, 'l.json');
    const qj = join(dir, 'q.json');
    const local = await run(['-q', '--json', lj, file]);
    const queued = await run(['-q', '--queue', queue.redis.url, '--json', qj, file]);
    expect(local.code).toBe(1);
    expect(queued.code, queued.stderr).toBe(1);
    expect(queued.stdout.toString()).toBe(local.stdout.toString());
    const statuses = (f: string) => readJson(f).results.map((r) => [r.id, r.status, r.error?.name ?? null]);
    expect(statuses(qj)).toEqual(statuses(lj));
    expect(
      statuses(lj)
        .slice(0, 4)
        .map((x) => x[1]),
    ).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed']);
    const client = new Redis(queue.redis.url);
    try {
      const dump: string[] = [];
      for (const k of await client.keys('*')) {
        const type = await client.type(k);
        if (type === 'hash') dump.push(JSON.stringify(await client.hgetall(k)));
        else if (type === 'string') dump.push((await client.get(k)) ?? '');
        else if (type === 'stream') dump.push(JSON.stringify(await client.xrange(k, '-', '+')));
      }
      const all = dump.join('\n');
      expect(all).toContain('kaboom');
      expect(all).not.toContain('pw-s3cret');
      expect(all).not.toContain('tok-s3cret');
    } finally {
      client.disconnect();
    }
  }, 120_000);

  it('the producer bounds what a worker sends: 30 MB of stdout is cut to its --capture-limit; bad base64 fails the job', async () => {
    const dir = temp();
    const file = writeJobs(
      dir,
      ['big', 'bin', 'badb64', 'badenc', 'bigtext'].map((id) => ({ id, run: 'true' })),
    );
    const base = (id: string, index: number) => jobResult(id, index);
    const big = Buffer.alloc(30 * 1024 * 1024, 0xff);
    const client = new Redis(queue.redis.url);
    // This test's own BullMQ worker stands in for a hostile (or buggy) `poolrun worker`.
    const fake = new Worker(
      'poolrun',
      async (job) => {
        const id = (job.data as { job: { id: string } }).job.id;
        const r = base(id, 0);
        if (id === 'big') {
          const stored = { ...r, stdout: big.toString('base64'), stdoutEncoding: 'base64' };
          await client.set(`bull:poolrun:poolrun-result:${job.id!}`, JSON.stringify(stored), 'PX', 60_000);
          return { v: 1, stored: true };
        }
        if (id === 'bigtext') {
          const stored = { ...r, stderr: 'é'.repeat(3 * 1024 * 1024) };
          await client.set(`bull:poolrun:poolrun-result:${job.id!}`, JSON.stringify(stored), 'PX', 60_000);
          return { v: 1, stored: true };
        }
        if (id === 'bin') return { v: 1, result: { ...r, stdout: '/wA=', stdoutEncoding: 'base64' } };
        if (id === 'badb64')
          return { v: 1, result: { ...r, stdout: 'not base64!', stdoutEncoding: 'base64' } };
        return { v: 1, result: { ...r, stdout: 'aGk=', stdoutEncoding: 'hex' } };
      },
      { connection: new Redis(queue.redis.url, { maxRetriesPerRequest: null }), prefix: 'bull' },
    );
    queue.onCleanup(async () => {
      await fake.close();
      client.disconnect();
    });
    const json = join(dir, 'out.json');
    const r = await run(['--queue', queue.redis.url, '--capture-limit', '1K', '--json', json, file]);
    expect(r.stderr).not.toMatch(/internal error|TypeError| {4}at /);
    expect(r.code).toBe(1);
    // Printed: 1 KiB of the 30 MB, then the two bytes of `bin`.
    expect([r.stdout.length, r.stderr]).toEqual([1026, expect.any(String)]);
    expect(r.stdout.equals(Buffer.concat([big.subarray(0, 1024), Buffer.from([0xff, 0])]))).toBe(true);
    const doc = readJson(json);
    const [b, bin, badb64, badenc, bigtext] = doc.results as Array<Record<string, unknown>>;
    expect(b).toMatchObject({ status: 'succeeded', stdoutTruncated: true, stdoutEncoding: 'base64' });
    expect(Buffer.from(b!.stdout as string, 'base64').equals(big.subarray(0, 1024))).toBe(true);
    expect(bin).toMatchObject({ status: 'succeeded', stdout: '/wA=', stdoutEncoding: 'base64' });
    expect(bin!.stdoutTruncated).toBeUndefined();
    for (const x of [badb64, badenc])
      expect(x).toMatchObject({ status: 'failed', error: { name: 'QueueError' } });
    expect(bigtext).toMatchObject({ status: 'succeeded', stderrTruncated: true, stderr: 'é'.repeat(512) });
  }, 120_000);
});
