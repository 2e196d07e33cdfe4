/**
 * What a call leaves behind, and sources that never wait (acceptance probe of the library):
 * - a promise a call leaves rejected with no handler is a warning on stderr and its worker goes on; the worker
 *   died of it, and the next call on it failed with a BrokenWorkerError naming the other call's error (10 of 10
 *   runs in a process pool);
 * - map() over an async iterable that yields without waiting lets the program run (timers, results) while it reads:
 *   a 10 ms timer fired after 2.3 s, and an endless source never gave a result;
 * - result(), exception(), wait() and asCompleted() refuse an unknown option (a misspelt `timout` waited for good);
 * - wait() and asCompleted() take futures of different result types (type-checked by `npm run check`).
 * Each case runs in a real child program: what it prints on stderr is part of what is checked.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { FIXTURES, ROOT, track, useTempDirs } from '../helpers.js';
import { pools } from './pools.js';
import { asCompleted, task, wait, type Future, type JobResult } from '../../dist/index.js';

const temp = useTempDirs();
const INDEX = JSON.stringify(join(ROOT, 'dist', 'index.js'));

async function runApp(dir: string, code: string, args: string[]) {
  const app = join(dir, 'app.mjs');
  writeFileSync(app, code);
  return track(
    execa(process.execPath, [app, ...args], { cwd: dir, reject: false, timeout: 40_000, all: false }),
  );
}

const LEAKY = `
export function leaky() { Promise.reject(new Error('leaked rejection ' + process.pid)); return 'leaky ok'; }
export function leakyNonError() { Promise.reject({ weird: true, toString() { throw new Error('no'); } }); return 'odd ok'; }
export function pure(x) { return x * x; }
`;

describe.each(['thread', 'process'])('%s pool', (mode) => {
  it('a rejection a call leaves unhandled is a warning; the next call on the same worker succeeds, 20 rounds', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'leak.mjs'), LEAKY);
    const res = await runApp(
      dir,
      `import { ProcessPoolExecutor, ThreadPoolExecutor, task } from ${INDEX};
const Pool = process.argv[2] === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
const ex = new Pool({ maxWorkers: 1 });
const out = [];
for (let i = 0; i < 20; i++) {
  const a = ex.submit(task('./leak.mjs', i % 5 === 4 ? 'leakyNonError' : 'leaky'));
  const b = ex.submit(task('./leak.mjs', 'pure'), i);
  for (const f of [a, b]) { try { out.push(await f.result()); } catch (e) { out.push(e.name + ': ' + e.message); } }
}
await ex.shutdown();
console.log(JSON.stringify(out));`,
      [mode],
    );
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as unknown[];
    for (let i = 0; i < 20; i++) {
      expect(out[2 * i]).toBe(i % 5 === 4 ? 'odd ok' : 'leaky ok');
      expect(out[2 * i + 1], JSON.stringify(out)).toBe(i * i);
    }
    const warnings = res.stderr.split('\n').filter((l) => l.includes('rejected with no handler'));
    expect(warnings.length, res.stderr).toBe(20);
    expect(warnings[0]).toMatch(
      /^poolrun: warning: a call left a promise rejected with no handler \(worker 1 goes on\): Error: leaked rejection \d+$/,
    );
    // One worker did all of it: the pid in every message is the same (process pool), none died.
    if (mode === 'process')
      expect(new Set(warnings.filter((w) => /\d+$/.test(w)).map((w) => /(\d+)$/.exec(w)![1])).size).toBe(1);
  });

  it('map() over an endless async source that never waits: timers run, a result comes, break ends it', async () => {
    const dir = temp();
    const res = await runApp(
      dir,
      `import { ProcessPoolExecutor, ThreadPoolExecutor, task } from ${INDEX};
const Pool = process.argv[2] === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
const ex = new Pool({ maxWorkers: 2 });
let pulled = 0;
let timerAt;
async function* endless() { for (let i = 1; ; i++) { pulled++; yield i; } }
setTimeout(() => { timerAt = pulled; }, 10);
let first;
for await (const v of ex.map(task(${JSON.stringify(join(FIXTURES, 'tasks.mjs'))}, 'square'), endless())) { first = v; break; }
await ex.shutdown({ cancelFutures: true });
console.log(JSON.stringify({ first, timerAt }));`,
      [mode],
    );
    expect(res.exitCode, res.stderr).toBe(0);
    const { first, timerAt } = JSON.parse(res.stdout) as { first: number; timerAt?: number };
    expect(first).toBe(1);
    // The timer fired while the source was being read (before: only after the source had ended, i.e. never).
    expect(timerAt).toBeTypeOf('number');
  });
});

describe('options of the waits', () => {
  it('an unknown option is a UsageError, not a wait for good; null options too', async () => {
    const ex = pools.thread({ maxWorkers: 1 });
    try {
      const f = ex.submit(task(join(FIXTURES, 'tasks.mjs'), 'square'), 3);
      const bad = { timout: 10 } as unknown as { timeout: number };
      await expect(f.result(bad)).rejects.toThrow(/result\(\): unknown option "timout"/);
      await expect(f.exception(bad)).rejects.toThrow(/exception\(\): unknown option "timout"/);
      await expect(wait([f], bad)).rejects.toThrow(/wait\(\): unknown option "timout"/);
      await expect(asCompleted([f], bad).next()).rejects.toThrow(/asCompleted\(\): unknown option "timout"/);
      await expect(wait([f], null as unknown as object)).rejects.toMatchObject({ name: 'UsageError' });
      expect(await f.result({ timeout: 5000 })).toBe(9);
    } finally {
      await ex.shutdown();
    }
  });

  it('wait() and asCompleted() take futures of different result types', async () => {
    const ex = pools.thread({ maxWorkers: 2 });
    try {
      const a: Future<number> = ex.submit(
        task<(n: number) => number>(join(FIXTURES, 'tasks.mjs'), 'square'),
        4,
      );
      const b: Future<JobResult> = ex.submit('echo hi');
      // Compiled by `npm run check` (tsc): a mixed list was TS2345 before.
      const { done, notDone } = await wait([a, b]);
      expect(done.size + notDone.size).toBe(2);
      const seen: Array<Future<number> | Future<JobResult>> = [];
      for await (const f of asCompleted([a, b])) seen.push(f);
      expect(new Set(seen)).toEqual(new Set([a, b]));
      expect(await a.result()).toBe(16);
    } finally {
      await ex.shutdown();
    }
  });
});
