/**
 * map() over an iterable that throws (acceptance probe, issue: an uncaught error from map's filler crashed the
 * program): a synchronous iterable's error is thrown by map() itself (it takes its input eagerly, as Python's does);
 * an async iterable's (or one past `buffersize`) rejects the loop after the results of the items before it. Never an
 * unhandled rejection: each case runs in a real child program, which would die of one.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { FIXTURES, ROOT, track, useTempDirs } from '../helpers.js';

const APP = `
import { ProcessPoolExecutor, ThreadPoolExecutor, task } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
const [mode, tasks] = process.argv.slice(2);
const Pool = mode === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
const ex = new Pool({ maxWorkers: 2 });
const square = task(tasks, 'square');
let closed = 0;
function* bad(n) { for (let i = 1; ; i++) { if (i === n) throw new Error('sync source broke at ' + i); yield i; } }
async function* abad(n) { for (let i = 1; ; i++) { await null; if (i === n) throw new Error('async source broke at ' + i); yield i; } }
const nextThrows = { [Symbol.iterator]: () => ({ next() { throw new Error('next() threw'); } }) };
const anextThrows = { [Symbol.asyncIterator]: () => ({ next() { throw new Error('async next() threw'); } }) };
const anextRejects = { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('next() rejected')) }) };
function* counted() { try { for (let i = 1; i < 1000; i++) yield i; } finally { closed++; } }
async function* acounted() { try { for (let i = 1; i < 1000; i++) yield i; } finally { closed++; } }
const cases = {
  syncEager: () => ex.map(square, bad(3)),
  syncFirst: () => ex.map(square, bad(1)),
  syncNext: () => ex.map(square, nextThrows),
  syncBuffered: () => ex.map(square, bad(5), { buffersize: 2 }),
  syncBufferedEarly: () => ex.map(square, bad(2), { buffersize: 2 }),
  async: () => ex.map(square, abad(4)),
  asyncFirst: () => ex.map(square, abad(1)),
  asyncChunked: () => ex.map(square, abad(4), { chunksize: 2 }),
  asyncBuffered: () => ex.map(square, abad(4), { buffersize: 1 }),
  asyncNextThrows: () => ex.map(square, anextThrows),
  asyncNextRejects: () => ex.map(square, anextRejects),
};
const out = {};
for (const [name, make] of Object.entries(cases)) {
  const got = [];
  let where = 'none';
  let it;
  try { it = make(); } catch (e) { out[name] = { got, where: 'map()', message: e.message }; continue; }
  try { for await (const v of it) got.push(v); } catch (e) { out[name] = { got, where: 'loop', message: e.message }; continue; }
  out[name] = { got, where };
}
// A consumer that leaves early closes its source, sync or async, buffered or not.
for await (const v of ex.map(square, counted(), { buffersize: 2 })) if (v === 4) break;
for await (const v of ex.map(square, acounted(), { buffersize: 2 })) if (v === 4) break;
for await (const v of ex.map(square, acounted())) if (v === 4) break;
await new Promise((r) => setTimeout(r, 100));
out.closed = closed;
await ex.shutdown();
console.log(JSON.stringify(out));
`;

describe('map() over an iterable that throws', () => {
  const temp = useTempDirs();

  it.each(['thread', 'process'])(
    '%s pool: the error reaches map() or the loop, in order; never unhandled',
    async (mode) => {
      const dir = temp();
      const app = join(dir, 'app.mjs');
      writeFileSync(app, APP);
      const r = await track(
        execa(process.execPath, [app, mode, join(FIXTURES, 'tasks.mjs')], { reject: false, timeout: 60_000 }),
      );
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(out).toEqual({
        syncEager: { got: [], where: 'map()', message: 'sync source broke at 3' },
        syncFirst: { got: [], where: 'map()', message: 'sync source broke at 1' },
        syncNext: { got: [], where: 'map()', message: 'next() threw' },
        syncBuffered: { got: [1, 4, 9, 16], where: 'loop', message: 'sync source broke at 5' },
        syncBufferedEarly: { got: [], where: 'map()', message: 'sync source broke at 2' },
        async: { got: [1, 4, 9], where: 'loop', message: 'async source broke at 4' },
        asyncFirst: { got: [], where: 'loop', message: 'async source broke at 1' },
        asyncChunked: { got: [1, 4, 9], where: 'loop', message: 'async source broke at 4' },
        asyncBuffered: { got: [1, 4, 9], where: 'loop', message: 'async source broke at 4' },
        asyncNextThrows: { got: [], where: 'loop', message: 'async next() threw' },
        asyncNextRejects: { got: [], where: 'loop', message: 'next() rejected' },
        closed: 3,
      });
    },
  );
});

describe('map() over an async iterable yields as the source produces', () => {
  it('a result is yielded before the source ends (a source that waits for its consumer does not deadlock)', async () => {
    const { ThreadPoolExecutor, task } = await import('../../dist/index.js');
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    let seen: (() => void) | undefined;
    const consumerSaw1 = new Promise<void>((r) => (seen = r));
    async function* source() {
      yield 1;
      // The next item exists only once the consumer has the first result (a reply to it, say).
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 5_000)));
      const first = await Promise.race([consumerSaw1.then(() => 'seen' as const), late]);
      clearTimeout(timer);
      if (first === 'late') throw new Error('the first result was held back until the source ended');
      yield 2;
    }
    const got: number[] = [];
    for await (const v of ex.map(task(join(FIXTURES, 'tasks.mjs'), 'square'), source())) {
      got.push(v as number);
      seen!();
    }
    expect(got).toEqual([1, 4]);
    await ex.shutdown();
  });
});
