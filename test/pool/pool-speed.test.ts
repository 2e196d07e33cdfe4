/**
 * The fast paths keep the slow paths' behaviour: calls sent ahead to a busy worker can still be cancelled
 * before they start, and a shell job sees the environment its worker has, even after a call changed it.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ThreadPoolExecutor, ProcessPoolExecutor, task, type Future } from '../../dist/index.js';
import { poolrun, readJson, useTempDirs, waitFor } from '../helpers.js';

const temp = useTempDirs();

const TASKS = `
import { appendFileSync } from 'node:fs';
export function mark(file, n) { appendFileSync(file, n + '\\n'); return n; }
export function square(n) { return n * n; }
// Blocks the worker's thread: no message reaches it until this returns.
export function block(ms) { const end = Date.now() + ms; while (Date.now() < end); return ms; }
// The same, once it has said (in \`file\`) that it runs.
export function blockSaying(file, ms) { appendFileSync(file, 'running\\n'); return block(ms); }
export function setEnv(name, value) { process.env[name] = value; }
export function crash() { process.exit(3); }
export function fail() { throw new Error('boom'); }
`;

describe.each([
  ['thread', (n: number) => new ThreadPoolExecutor({ maxWorkers: n })],
  ['process', (n: number) => new ProcessPoolExecutor({ maxWorkers: n })],
] as const)('calls sent ahead (%s mode)', (_mode, make) => {
  it('are cancelled before they start, even behind a call that blocks its worker', async () => {
    const dir = temp();
    const mod = join(dir, 'tasks.mjs');
    writeFileSync(mod, TASKS);
    const marks = join(dir, 'marks.txt');
    const ex = make(1);
    try {
      // Quick calls first: the worker is now known to be fast and is sent calls ahead.
      const warm: unknown[] = [];
      for await (const v of ex.map(
        task(mod, 'square'),
        Array.from({ length: 50 }, (_, i) => i),
      ))
        warm.push(v);
      expect(warm).toHaveLength(50);

      const running = join(dir, 'running');
      // Long enough to be seen running on a loaded machine; the test waits for its end anyway.
      const blocker = ex.submit(task(mod, 'blockSaying'), running, 3000);
      const after: Future<unknown>[] = [];
      for (let i = 0; i < 20; i++) after.push(ex.submit(task(mod, 'mark'), marks, i));
      // The blocker runs, the marks wait behind it.
      expect(await waitFor(() => existsSync(running), 20_000)).toBe(true);
      const cancelled = after.map((f) => f.cancel());
      expect(cancelled).toEqual(Array(20).fill(true));
      expect(await blocker.result()).toBe(3000);
      // A call submitted now still runs: the worker is not stuck on the skipped ones.
      expect(await ex.submit(task(mod, 'mark'), marks, 99).result()).toBe(99);
      expect(after.every((f) => f.cancelled())).toBe(true);
      expect(readFileSync(marks, 'utf8')).toBe('99\n');
    } finally {
      await ex.shutdown({ wait: true });
    }
  });

  it('go back to the queue when their worker dies or is ended for a timeout; only the culprit fails', async () => {
    const dir = temp();
    const mod = join(dir, 'tasks.mjs');
    writeFileSync(mod, TASKS);
    const ex = make(1);
    try {
      for await (const _ of ex.map(
        task(mod, 'square'),
        Array.from({ length: 50 }, (_, i) => i),
      ))
        void _;
      const hung = ex.submit(task(mod, 'block', { timeout: 300 }), 10_000);
      const afterHung = Array.from({ length: 20 }, (_, i) => ex.submit(task(mod, 'square'), i));
      await expect(hung.result()).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(await Promise.all(afterHung.map((f) => f.result()))).toEqual(
        Array.from({ length: 20 }, (_, i) => i * i),
      );
      for await (const _ of ex.map(
        task(mod, 'square'),
        Array.from({ length: 50 }, (_, i) => i),
      ))
        void _;
      const crashed = ex.submit(task(mod, 'crash'));
      const afterCrash = Array.from({ length: 20 }, (_, i) => ex.submit(task(mod, 'square'), i));
      await expect(crashed.result()).rejects.toMatchObject({ name: 'BrokenWorkerError' });
      expect(await Promise.all(afterCrash.map((f) => f.result()))).toEqual(
        Array.from({ length: 20 }, (_, i) => i * i),
      );
    } finally {
      await ex.shutdown({ wait: true });
    }
  });

  it('run every call exactly once when nothing is cancelled', async () => {
    const dir = temp();
    const mod = join(dir, 'tasks.mjs');
    writeFileSync(mod, TASKS);
    const marks = join(dir, 'marks.txt');
    const ex = make(2);
    try {
      const futures: Future<unknown>[] = [];
      for (let i = 0; i < 2000; i++) futures.push(ex.submit(task(mod, 'mark'), marks, i));
      const blocker = ex.submit(task(mod, 'block'), 200);
      futures.splice(1000, 0, blocker);
      const values = await Promise.all(futures.map((f) => f.result()));
      expect(values).toEqual([
        ...Array.from({ length: 1000 }, (_, i) => i),
        200,
        ...Array.from({ length: 1000 }, (_, i) => 1000 + i),
      ]);
      const lines = readFileSync(marks, 'utf8').trim().split('\n').map(Number);
      expect(lines).toHaveLength(2000);
      expect(new Set(lines).size).toBe(2000);
    } finally {
      await ex.shutdown({ wait: true });
    }
  });
});

describe('--halt soon with calls sent ahead', () => {
  it.each(['thread', 'process'])(
    '%s mode: every job is reported once, the failure stops the rest',
    async (mode) => {
      const dir = temp();
      const mod = join(dir, 'tasks.mjs');
      writeFileSync(mod, TASKS);
      const file = join(dir, 'jobs.jsonl');
      const jobs = Array.from({ length: 600 }, (_, i) =>
        JSON.stringify({ call: { module: mod, export: i === 300 ? 'fail' : 'square', args: [i] } }),
      );
      writeFileSync(file, jobs.join('\n') + '\n');
      const json = join(dir, 'out.json');
      const r = await poolrun([
        '-q',
        '-w',
        '2',
        '-m',
        mode,
        '--output',
        'none',
        '--halt',
        'soon',
        '--json',
        json,
        file,
      ]);
      expect(r.code).toBe(1);
      const doc = readJson(json);
      expect(doc.results.map((x) => x.index)).toEqual(Array.from({ length: 600 }, (_, i) => i));
      const { total, succeeded, failed, cancelled } = doc.summary;
      expect(total).toBe(600);
      expect(failed).toBe(1);
      expect(succeeded + failed + cancelled).toBe(600);
      expect(cancelled).toBeGreaterThan(0);
      expect(doc.results[300]!.status).toBe('failed');
    },
  );
});

describe('shell jobs and the environment', () => {
  it.each(['thread', 'process'])(
    '%s mode: a shell job sees what an earlier call set in its worker, and its own env on top',
    async (mode) => {
      const dir = temp();
      const mod = join(dir, 'tasks.mjs');
      writeFileSync(mod, TASKS);
      const file = join(dir, 'jobs.json');
      writeFileSync(
        file,
        JSON.stringify([
          { run: 'echo "before=$POOLRUN_TEST_VAR"' },
          { call: { module: mod, export: 'setEnv', args: ['POOLRUN_TEST_VAR', 'from-call'] } },
          { run: 'echo "after=$POOLRUN_TEST_VAR"' },
          { run: 'echo "own=$POOLRUN_TEST_VAR"', env: { POOLRUN_TEST_VAR: 'from-job' } },
        ]),
      );
      const r = await poolrun(['-q', '-w', '1', '-m', mode, file]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('before=\nafter=from-call\nown=from-job\n');
    },
  );
});
