/**
 * A --queue URL (or $POOLRUN_QUEUE) whose user or password has a `%` that does not decode is refused as any bad
 * URL is: exit 2 naming where it came from, the secret not shown, never an internal error (the Redis client
 * percent-decodes both and threw a URIError: "internal error: URI malformed", exit 70).
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { BIN, poolrun, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();

const SECRET = 'Zq7SECRET';
const URLS = [
  `redis://:${SECRET}%W9@127.0.0.1:1`,
  `redis://:%${SECRET}@127.0.0.1:1/0`,
  `redis://u%ZZ:${SECRET}@127.0.0.1:1`,
  `rediss://user:${SECRET}%@127.0.0.1:1`,
  `redis://%E0%A4%A:${SECRET}@127.0.0.1:1`,
  `redis://:${SECRET}%C3%28@127.0.0.1:1`,
];

describe('a Redis URL whose user or password does not percent-decode', () => {
  it.each(URLS)(
    '%s: exit 2 from the producer and the worker, naming the option, the secret not shown',
    async (url) => {
      const dir = temp();
      const file = writeJobs(dir, ['echo never']);
      const p = await poolrun(['--queue', url, file]);
      expect(p.code, p.stderr).toBe(2);
      expect(p.stderr).toMatch(/^poolrun: --queue: expected a Redis URL/);
      const w = await execa(process.execPath, [BIN, 'worker'], {
        reject: false,
        env: { POOLRUN_QUEUE: url },
        timeout: 30_000,
      });
      expect(w.exitCode, String(w.stderr)).toBe(2);
      expect(String(w.stderr)).toMatch(/POOLRUN_QUEUE: expected a Redis URL/);
      for (const out of [p.stdout, p.stderr, String(w.stdout), String(w.stderr)]) {
        expect(out).not.toContain(SECRET);
        expect(out).not.toMatch(/internal error/);
      }
    },
  );
});

describe('a queue given by POOLRUN_QUEUE is a queue as --queue is', () => {
  // No Redis listens at port 1: each is refused before anything connects.
  const url = 'redis://127.0.0.1:1/0';
  it.each([
    [['--pipe', '-N', '2', 'wc', '-l'], /--pipe .* cannot be used with --queue/],
    [['--timeout', '200%', 'echo', ':::', 'a'], /--timeout 200%: .* with --queue give a duration/],
    [['-w', 'auto', 'echo', ':::', 'a'], /--workers auto is for a local pool/],
  ])('%j: exit 2 from the variable as from the flag', async (args, message) => {
    for (const how of ['flag', 'env'] as const) {
      const r = await poolrun(how === 'flag' ? ['--queue', url, ...args] : args, {
        input: '1\n2\n3\n4\n',
        ...(how === 'env' ? { env: { POOLRUN_QUEUE: url } } : {}),
      });
      expect([how, r.code, r.stderr]).toEqual([how, 2, expect.stringMatching(message)]);
    }
  });

  it('--queue-ttl takes up to a year (a Redis expiry, not a timer); past it, a message that says so', async () => {
    const dir = temp();
    const file = writeJobs(dir, ['echo never']);
    for (const ttl of ['30d', '8760h', '365d']) {
      // Accepted: the run goes on to connect, and fails there (nothing listens), not on the option.
      const r = await poolrun(['--queue', url, '--queue-ttl', ttl, '--queue-timeout', '1s', file]);
      expect(r.stderr).not.toMatch(/--queue-ttl/);
    }
    const r = await poolrun(['--queue', url, '--queue-ttl', '366d', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--queue-ttl: expected a duration from 1s to 365 days .* got "366d"/);
  });
});
