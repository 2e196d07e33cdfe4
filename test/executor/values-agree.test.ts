/**
 * Acceptance probes of the library, both pools:
 * - a typed array or DataView that crosses to or from a worker process has a buffer of its own, as a thread's
 *   clone gives one made with its own (Node's IPC made it a view into the whole message: `.buffer` held poolrun's protocol bytes);
 * - map() raises a task's own timeout as the task's error, as Python's map raises what a call raised (it was
 *   rewritten as map's own deadline, "not ready within undefinedms").
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessPoolExecutor, ThreadPoolExecutor, TimeoutError, task } from '../../dist/index.js';
import { useTempDirs } from '../helpers.js';

const temp = useTempDirs('all');

const MODULE = `
export function f64() { return new Float64Array([1.5, 2.5]); }
export function nested() {
  return { u8: new Uint8Array([1, 2, 3]), list: [new Int32Array([-7]), new DataView(new ArrayBuffer(4))], map: new Map([['b', Buffer.from('hi')]]) };
}
export function readBuffer(a) { return Array.from(new Float64Array(a.buffer)); }
export function hang() { for (;;) {} }
`;

describe.each([
  ['thread', (o: object) => new ThreadPoolExecutor(o)],
  ['process', (o: object) => new ProcessPoolExecutor(o)],
] as const)('%s pool', (_mode, make) => {
  it('typed arrays and DataViews come and go with buffers of their own', async () => {
    const mod = join(temp(), 'values.mjs');
    writeFileSync(mod, MODULE);
    const ex = make({ maxWorkers: 1 });
    try {
      const whole = (v: ArrayBufferView) => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
      const a = (await ex.submit(task(mod, 'f64')).result()) as Float64Array;
      expect(whole(a)).toBe(true);
      expect(Array.from(new Float64Array(a.buffer))).toEqual([1.5, 2.5]);
      const n = (await ex.submit(task(mod, 'nested')).result()) as {
        u8: Uint8Array;
        list: [Int32Array, DataView];
        map: Map<string, Buffer>;
      };
      // (A Buffer from Node's pool is a view into it: a thread's clone copies that view as it is.)
      expect([n.u8, ...n.list].map(whole)).toEqual([true, true, true]);
      expect(Array.from(new Uint8Array(n.u8.buffer))).toEqual([1, 2, 3]);
      expect(Buffer.from(n.map.get('b')!).toString()).toBe('hi');
      expect(await ex.submit(task(mod, 'readBuffer'), new Float64Array([1.5, 2.5])).result()).toEqual([
        1.5, 2.5,
      ]);
    } finally {
      await ex.shutdown();
    }
  });

  it("map() raises a task's own timeout as the task's error, not as its own deadline", async () => {
    const mod = join(temp(), 'values.mjs');
    writeFileSync(mod, MODULE);
    const ex = make({ maxWorkers: 1 });
    try {
      const hang = task(mod, 'hang', { timeout: 200 });
      for (const opts of [{}, { timeout: 30_000 }]) {
        let error: unknown;
        try {
          for await (const _ of ex.map(hang, [1], opts)) void _;
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(TimeoutError);
        expect((error as Error).message).toBe('timed out after 200ms; its worker was ended');
      }
    } finally {
      await ex.shutdown({ kill: true });
    }
  });
});
