/**
 * An error thrown in a worker reaches the caller with what Python's pickling would carry: its name, message,
 * `code` and its other plain own properties (errno, syscall, path, a task's own fields), in both pools alike;
 * a return value that cannot be sent is a DataCloneError in both.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessPoolExecutor, RemoteError, ThreadPoolExecutor, task } from '../../dist/index.js';
import { useTempDirs } from '../helpers.js';

const temp = useTempDirs();

const MODULE = `import { readFileSync } from 'node:fs';
export function readMissing() { return readFileSync('/nonexistent/poolrun-x'); }
export function custom() {
  const e = new Error('mine'); e.code = 'E_MINE'; e.extra = 42; e.flag = true; e.none = null; e.obj = { a: 1 };
  e.fn = () => 1; e.long = 'x'.repeat(5000);
  throw e;
}
export function unsendable() { return () => 1; }
export function throwPlain() { throw { code: 'E_PLAIN', status: 404, ok: false, obj: { a: 1 } }; }
export function throwArray() { throw [1, 2]; }
export function throwProxy() { throw new Proxy({}, { ownKeys() { throw new Error('no keys'); } }); }
export function depthOf(v) { let n = 0; while (Array.isArray(v)) { v = v[0]; n++; } return n; }
/** Chains of 900 arrays, each ending in the next chain's head: shallow to a walk that meets a head first. */
export function dag(k) {
  const heads = []; let next = null;
  for (let c = k - 1; c >= 0; c--) { let v = next === null ? [] : [next]; for (let i = 1; i < 900; i++) v = [v]; heads.unshift(v); next = v; }
  return heads;
}
export function withCause() {
  class MyErr extends Error { name = 'MyErr'; }
  throw new MyErr('boom', { cause: new TypeError('root', { cause: 'a string' }) });
}
export function causeLoop() { const e = new Error('self'); e.cause = e; throw e; }
/** \`code\` (a number, a boolean) set after more own properties than travel: it travels all the same. */
export function codeLast(n, code) {
  const e = new Error('many'); for (let i = 0; i < n; i++) e['p' + i] = i; e.code = code; throw e;
}
`;

describe.each([
  ['ThreadPoolExecutor', ThreadPoolExecutor],
  ['ProcessPoolExecutor', ProcessPoolExecutor],
] as const)('%s: what a thrown error carries', (_name, Pool) => {
  it("its cause, and the cause's cause, as errors (Python's __cause__); a loop of causes is cut", async () => {
    const mod = join(temp(), 'errs.mjs');
    writeFileSync(mod, MODULE);
    const ex = new Pool({ maxWorkers: 1 });
    try {
      const e = await ex.submit(task(mod, 'withCause')).exception();
      expect(e).toMatchObject({ name: 'MyErr', message: 'boom' });
      const cause = (e as Error).cause as Error;
      expect(cause).toBeInstanceOf(RemoteError);
      expect(cause).toMatchObject({ name: 'TypeError', message: 'root' });
      expect(cause.cause).toMatchObject({ name: 'Error', message: 'a string' });
      const loop = await ex.submit(task(mod, 'causeLoop')).exception();
      let depth = 0;
      for (let c: unknown = loop; c instanceof Error; c = c.cause) depth++;
      expect(depth).toBe(9);
    } finally {
      await ex.shutdown();
    }
  });

  it('code and plain own properties; not objects, functions or poolrun fields', async () => {
    const mod = join(temp(), 'errs.mjs');
    writeFileSync(mod, MODULE);
    const ex = new Pool({ maxWorkers: 1 });
    try {
      const fsErr = (await ex.submit(task(mod, 'readMissing')).exception()) as RemoteError &
        Record<string, unknown>;
      expect(fsErr).toBeInstanceOf(RemoteError);
      expect(fsErr.code).toBe('ENOENT');
      expect(fsErr).toMatchObject({ syscall: 'open', path: '/nonexistent/poolrun-x', errno: -2 });
      const mine = (await ex.submit(task(mod, 'custom')).exception()) as RemoteError &
        Record<string, unknown>;
      expect(mine.message).toBe('mine');
      expect(mine).toMatchObject({ code: 'E_MINE', extra: 42, flag: true, none: null });
      expect(mine.long).toBe('x'.repeat(1000));
      expect('obj' in mine || 'fn' in mine).toBe(false);
      expect(Object.keys(mine).sort()).toEqual(['code', 'extra', 'flag', 'long', 'name', 'none']);
      for (const n of [0, 19, 20, 25])
        for (const code of ['S', 42, true, null]) {
          const e = (await ex.submit(task(mod, 'codeLast'), n, code).exception()) as RemoteError &
            Record<string, unknown>;
          expect(e.code, `${n} properties, then code ${String(code)}`).toBe(code);
          // At most 20 other properties, the first ones.
          expect(Object.keys(e).filter((k) => /^p\d+$/.test(k))).toHaveLength(Math.min(n, 20));
        }
      // An argument nested past 1000 levels is refused on this side (a thread could not have read it).
      let deep: unknown = 1;
      for (let i = 0; i < 5000; i++) deep = [deep];
      let atLimit: unknown = 1;
      for (let i = 0; i < 1000; i++) atLimit = [atLimit];
      expect(await ex.submit(task(mod, 'depthOf'), atLimit).result()).toBe(1000);
      // A value whose depth only shows in the order the clone walks it is refused too, not a dead worker.
      const dag = await ex.submit(task(mod, 'dag'), 5).exception();
      expect(dag).toMatchObject({ name: 'DataCloneError' });
      expect((dag as Error).message).toContain('nested deeper than 1000 levels');
      const tooDeep = await ex.submit(task(mod, 'custom'), deep).exception();
      expect(tooDeep).toMatchObject({ name: 'UsageError' });
      expect((tooDeep as Error).message).toContain('nested deeper than 1000 levels');
      // A thrown object that is not an Error: its JSON as the message, its plain properties as an Error's.
      const plain = (await ex.submit(task(mod, 'throwPlain')).exception()) as RemoteError &
        Record<string, unknown>;
      expect(plain).toBeInstanceOf(RemoteError);
      expect(plain).toMatchObject({ code: 'E_PLAIN', status: 404, ok: false });
      expect(plain.message).toBe('{"code":"E_PLAIN","status":404,"ok":false,"obj":{"a":1}}');
      expect('obj' in plain).toBe(false);
      // An array is a value, not an object with properties; a Proxy that throws says what its text says.
      const arr = (await ex.submit(task(mod, 'throwArray')).exception()) as RemoteError;
      expect([arr.message, Object.keys(arr).sort()]).toEqual(['[1,2]', ['name']]);
      const proxy = (await ex.submit(task(mod, 'throwProxy')).exception()) as RemoteError;
      expect(proxy).toBeInstanceOf(RemoteError);
      expect(proxy.message).not.toMatch(/no keys/);
      const clone = await ex.submit(task(mod, 'unsendable')).exception();
      expect(clone).toMatchObject({ name: 'DataCloneError' });
      expect((clone as Error).message).toMatch(/cannot be sent to the main thread/);
    } finally {
      await ex.shutdown();
    }
  });
});
