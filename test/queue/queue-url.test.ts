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
