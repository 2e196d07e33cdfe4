/**
 * The CLI's lean heap for long runs (cli/lean-heap.ts): one V8 flag, set once, only after the run has lasted a
 * while (a short run keeps Node's code cache for the built-in modules it loads). Its effect on memory is shown by
 * bench/b3-jsonl-stdin.mjs, not here: no test asserts a size or a time.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { LEAN_HEAP_FLAG, leanHeapLater } from '../../src/cli/lean-heap.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('leanHeapLater', () => {
  it('sets the flag once, after the delay, never before; a second call while it waits adds nothing', async () => {
    const set: string[] = [];
    const cancel = leanHeapLater(150, (f) => set.push(f));
    const again = leanHeapLater(10, (f) => set.push(`again ${f}`));
    await sleep(50);
    expect(set).toEqual([]);
    let waited = 0;
    while (set.length === 0 && waited < 10_000) {
      await sleep(25);
      waited += 25;
    }
    await sleep(100);
    expect(set).toEqual([LEAN_HEAP_FLAG]);
    again();
    cancel();
  });

  it('a run that ends first cancels it: the flag is never set', async () => {
    const set: string[] = [];
    const cancel = leanHeapLater(100, (f) => set.push(f));
    cancel();
    await sleep(300);
    expect(set).toEqual([]);
  });

  it("is a flag this Node's V8 knows (setFlagsFromString ignores unknown ones silently)", () => {
    const name = LEAN_HEAP_FLAG.replace(/=.*/, '');
    const opts = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
    expect(opts).toContain(`${name} `);
    // And V8 takes the value: node refuses a flag it cannot parse, at start.
    const r = spawnSync(process.execPath, [LEAN_HEAP_FLAG, '-e', '0'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});
