/** The suite's own guarantees: what the programs under test inherit, and that nothing a test started outlives it. */
import { describe, expect, it } from 'vitest';
import { pidAlive, poolrun, useTempDirs, waitFor } from '../helpers.js';
import { startPoolrun } from './failure-helpers.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const temp = useTempDirs('all');

describe('hermetic runs', () => {
  it('a job sees none of the variables that change poolrun (CI runs the suite with GITHUB_ACTIONS and FORCE_COLOR set)', async () => {
    const r = await poolrun(['-q', '--each', 'test -n {} && env'], { input: 'x\n' });
    expect(r.code).toBe(0);
    const names = r.stdout.split('\n').map((l) => l.slice(0, l.indexOf('=')));
    expect(names).toContain('PATH');
    for (const leak of ['GITHUB_ACTIONS', 'CI', 'FORCE_COLOR', 'TERM', 'COLORTERM'])
      expect(names).not.toContain(leak);
    // poolrun gives every job these four; any other POOLRUN_ name came from the caller.
    // POOLRUN_SPAWN is let through on purpose (CI runs the suite once per spawn path), to nested runs too.
    const own = /^POOLRUN_(JOB_ID|JOB_INDEX|WORKER|RUN_ID|SPAWN)$/;
    expect(names.filter((n) => n.startsWith('POOLRUN_') && !own.test(n))).toEqual([]);
  });
});

describe('nothing a test started outlives it', () => {
  const dir = temp();
  const pidFile = join(dir, 'poolrun.pid');
  it('(a test that leaves a poolrun running)', async () => {
    const child = startPoolrun(['-q', '--each', 'sleep 30; : {}'], {});
    child.stdin?.end('x\n');
    require_(child.pid);
    await waitFor(() => pidAlive(child.pid!), 5_000);
    (await import('node:fs')).writeFileSync(pidFile, String(child.pid));
  });
  it('is killed after that test, by pid', async () => {
    expect(existsSync(pidFile)).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(await waitFor(() => !pidAlive(pid), 10_000)).toBe(true);
  });
});

function require_(pid: number | undefined): asserts pid is number {
  if (pid === undefined) throw new Error('no pid');
}
