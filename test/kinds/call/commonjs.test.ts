/**
 * A CommonJS module's functions are found by name however it exports them: `exports.g = …` (Node's ESM import
 * names it), and `module.exports = { f }` (Node's import gives it only as `default.f`) — by --call, a job file's
 * `call`, the library's task() and its initializer, in thread and process mode. An ES module's default export is
 * not searched: `export default { f }` has no export named f.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessPoolExecutor, ThreadPoolExecutor, task } from '../../../dist/index.js';
import { poolrun, useTempDirs, writeJobs } from '../../helpers.js';

const temp = useTempDirs();

function modules(dir: string): void {
  writeFileSync(
    join(dir, 'cj.cjs'),
    'module.exports = { f: (x) => Number(x) + 1, twice(x) { return this.f(this.f(x)); } };\n',
  );
  writeFileSync(join(dir, 'named.cjs'), 'exports.g = (x) => Number(x) * 10;\n');
  writeFileSync(
    join(dir, 'init.cjs'),
    "module.exports = { init: (file) => require('node:fs').writeFileSync(file, 'ran') };\n",
  );
  writeFileSync(join(dir, 'es.mjs'), 'export default { f: (x) => x };\n');
}

describe.each(['thread', 'process'])('CommonJS modules (%s mode)', (mode) => {
  it('--call finds module.exports.f, exports.g, and a method that uses this', async () => {
    const dir = temp();
    modules(dir);
    for (const [target, out] of [
      ['./cj.cjs#f', '2\n'],
      ['./named.cjs#g', '10\n'],
      ['./cj.cjs#twice', '3\n'],
    ]) {
      const r = await poolrun(['--mode', mode, '--call', target!, '1'], { cwd: dir });
      expect(r.stderr, target).not.toContain('has no exported function');
      expect([r.code, r.stdout], target).toEqual([0, out]);
    }
  });

  it('a missing name lists what the CommonJS module exports; an ES default export is not searched', async () => {
    const dir = temp();
    modules(dir);
    const r = await poolrun(['--mode', mode, '--call', './cj.cjs#nope', '1'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has no exported function "nope" (it exports: f, twice)');
    const es = await poolrun(['--mode', mode, '--call', './es.mjs#f', '1'], { cwd: dir });
    expect(es.code).toBe(1);
    expect(es.stderr).toContain('has no exported function "f"');
  });

  it('a job file call finds them too', async () => {
    const dir = temp();
    modules(dir);
    const file = writeJobs(dir, [
      { id: 'c', call: { module: './cj.cjs', export: 'f', args: [41] } },
      { id: 'n', call: { module: './named.cjs', export: 'g', args: [4] } },
    ]);
    const json = join(dir, 'r.json');
    const r = await poolrun(['--mode', mode, '--json', json, file], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const { results } = JSON.parse(readFileSync(json, 'utf8')) as { results: Array<{ value: unknown }> };
    expect(results.map((x) => x.value)).toEqual([42, 40]);
  });

  it("the library's task()", async () => {
    const dir = temp();
    modules(dir);
    const marker = join(dir, 'lib-init-ran');
    const Pool = mode === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
    const ex = new Pool({
      maxWorkers: 1,
      initializer: task(join(dir, 'init.cjs'), 'init'),
      initargs: [marker],
    });
    try {
      expect(await ex.submit(task(join(dir, 'cj.cjs'), 'f'), 4).result()).toBe(5);
      expect(await ex.submit(task(join(dir, 'cj.cjs'), 'twice'), 4).result()).toBe(6);
      expect(await ex.submit(task(join(dir, 'named.cjs'), 'g'), 4).result()).toBe(40);
    } finally {
      await ex.shutdown();
    }
    expect(readFileSync(marker, 'utf8')).toBe('ran');
  });
});
