/**
 * A call ends the same way in thread and process mode: a timed-out call shows the timeout (no exit status, no
 * signal: those were its worker's, ended by poolrun, a thread with code 1, a process by SIGKILL), and a returned
 * Buffer is a Buffer (`{"type":"Buffer","data":[…]}` in JSON) though a thread's structured clone makes it a
 * Uint8Array.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessPoolExecutor, ThreadPoolExecutor, task } from '../../../dist/index.js';
import { poolrun, useTempDirs } from '../../helpers.js';

const temp = useTempDirs();

const TASKS = `
export const slow = () => new Promise((r) => setTimeout(r, 60_000));
export const buf = () => Buffer.from('hi');
export const nested = () => { const b = Buffer.from('x'); return { list: [b, new Uint8Array([7])], same: b, s: 'k' }; };
`;

const BUF = { type: 'Buffer', data: [104, 105] };
const NESTED = {
  list: [{ type: 'Buffer', data: [120] }, { 0: 7 }],
  same: { type: 'Buffer', data: [120] },
  s: 'k',
};

describe.each(['thread', 'process'])('a call in %s mode', (mode) => {
  it('timed out: status timed-out with its reason, no exit status or signal', async () => {
    const dir = temp();
    writeFileSync(join(dir, 't.mjs'), TASKS);
    const json = join(dir, 'r.json');
    const r = await poolrun(
      ['--mode', mode, '--timeout', '300ms', '--json', json, '--call', './t.mjs#slow', '1'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(1);
    const [x] = (JSON.parse(readFileSync(json, 'utf8')) as { results: Array<Record<string, unknown>> })
      .results;
    expect(x).toMatchObject({
      status: 'timed-out',
      exitCode: null,
      signal: null,
      error: { name: 'TimeoutError', message: 'timed out after 300ms; its worker was ended' },
    });
    expect(r.stderr).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} timed-out 1 \(worker 1, \d+(ms|\.\d+s), timed out after 300ms; its worker was ended\)$/m,
    );
  });

  it('a returned Buffer is a Buffer, in --call output, --json and the library', async () => {
    const dir = temp();
    const mod = join(dir, 't.mjs');
    writeFileSync(mod, TASKS);
    const json = join(dir, 'r.json');
    const r = await poolrun(['--mode', mode, '--json', json, '--call', './t.mjs#buf', '1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(BUF);
    expect(
      (JSON.parse(readFileSync(json, 'utf8')) as { results: Array<{ value: unknown }> }).results[0]!.value,
    ).toEqual(BUF);
    const n = await poolrun(['--mode', mode, '--call', './t.mjs#nested', '1'], { cwd: dir });
    expect(JSON.parse(n.stdout)).toEqual(NESTED);

    const ex =
      mode === 'thread'
        ? new ThreadPoolExecutor({ maxWorkers: 1 })
        : new ProcessPoolExecutor({ maxWorkers: 1 });
    try {
      const v = await ex.submit(task<() => Buffer>(mod, 'buf')).result();
      expect(Buffer.isBuffer(v)).toBe(true);
      expect(v.toString()).toBe('hi');
    } finally {
      await ex.shutdown();
    }
  });
});

describe("a call's errors that poolrun makes carry no stack of poolrun's", () => {
  it.each(['thread', 'process'])(
    'a missing export; a cwd that is missing or a file (%s mode)',
    async (mode) => {
      const dir = temp();
      writeFileSync(join(dir, 't.mjs'), TASKS);
      writeFileSync(join(dir, 'afile'), 'x');
      const jobs = join(dir, 'jobs.json');
      writeFileSync(
        jobs,
        JSON.stringify([
          { id: 'missing', call: { module: './t.mjs', export: 'zz' } },
          { id: 'nocwd', cwd: 'nope', call: { module: './t.mjs', export: 'buf' } },
          { id: 'filecwd', cwd: 'afile', call: { module: './t.mjs', export: 'buf' } },
        ]),
      );
      const json = join(dir, 'r.json');
      const r = await poolrun(['--mode', mode, '--json', json, jobs], { cwd: dir });
      expect(r.code).toBe(1);
      const { results } = JSON.parse(readFileSync(json, 'utf8')) as {
        results: Array<{ id: string; error: Record<string, unknown> }>;
      };
      for (const x of results) expect(x.error, x.id).not.toHaveProperty('stack');
      expect(results[0]!.error.message).toContain('has no exported function "zz"');
      if (mode === 'process') {
        expect(results[1]!.error.message).toBe(
          `cwd does not exist or is not a directory: ${join(dir, 'nope')}`,
        );
        expect(results[2]!.error.message).toBe(
          `cwd does not exist or is not a directory: ${join(dir, 'afile')}`,
        );
      } else expect(results[1]!.error.message).toContain('cwd is not supported for call jobs in thread mode');
    },
  );
});
