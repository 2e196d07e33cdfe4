/**
 * Nothing a run started outlives it, whatever started it: a process a shell job moved out of its group (setsid), a
 * child process a call started, a worker process blocked in a call — when the run ends, and when poolrun or a
 * library program is killed. Every such process carries the run's token (POOLRUN_RUN_ID), which is how they are
 * found (proc/owner.ts killTokenCarriers at the end; the watchdog's sweep when poolrun dies).
 */
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, pidAlive, poolrun, track, useTempDirs, waitFor } from '../helpers.js';
import { childPids } from '../worker-procs.js';
import { modes, readNumbers, startPoolrun, waitForPids, writeJobs } from './failure-helpers.js';

const temp = useTempDirs();

/** A module of calls that start a `sleep` of their own (not detached) and write its pid to `file`. */
function callModule(dir: string): string {
  const file = join(dir, 'calls.mjs');
  writeFileSync(
    file,
    `import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
export function startChild(pids) {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  appendFileSync(pids, c.pid + '\\n');
  c.unref();
  return c.pid;
}
export async function startChildAndWait(pids) {
  startChild(pids);
  await new Promise((r) => setTimeout(r, 60_000));
}
export function startChildAndBlock(pids) {
  startChild(pids);
  const end = Date.now() + 60_000;
  while (Date.now() < end) {}
}
`,
  );
  return file;
}

async function gone(pids: number[]): Promise<boolean> {
  return waitFor(() => pids.every((p) => !pidAlive(p)), 15_000, 50);
}

describe.each(modes)('%s mode: nothing a run started outlives it', (mode) => {
  it('a process a shell job moved out of its group (setsid) is killed when the run ends', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const r = await poolrun([
      '-m',
      mode,
      '-q',
      '--each',
      `setsid sleep 60 </dev/null >/dev/null 2>&1 & echo $! >> ${pids}; echo {}`,
      'x',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [pid] = readNumbers(pids);
    expect(pid).toBeGreaterThan(0);
    expect(await gone([pid!]), `pid ${pid} still runs after poolrun ended`).toBe(true);
  });

  it('a child process a call started is killed when the run ends', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const mod = callModule(dir);
    const r = await poolrun(['-m', mode, '-q', '--call', `${mod}#startChild`, pids]);
    expect(r.code, r.stderr).toBe(0);
    const [pid] = readNumbers(pids);
    expect(pid).toBeGreaterThan(0);
    expect(await gone([pid!]), `pid ${pid} still runs after poolrun ended`).toBe(true);
  });

  it('poolrun SIGKILLed during a call: the call child (and a worker process blocked in it) are killed', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const mod = callModule(dir);
    // Two calls: one waits, one blocks its worker (a worker process cannot hear its parent go while blocked).
    const jobs = writeJobs(dir, [
      { call: { module: mod, export: 'startChildAndWait', args: [pids] } },
      { call: { module: mod, export: 'startChildAndBlock', args: [pids] } },
    ]);
    const run = startPoolrun(['-m', mode, '-w', '2', '-q', jobs]);
    const children = await waitForPids(pids, 2);
    const workers = mode === 'process' ? workerProcesses(run.pid!) : [];
    run.kill('SIGKILL');
    await run;
    expect(
      await gone([...children, ...workers]),
      `still running: ${[...children, ...workers].join(' ')}`,
    ).toBe(true);
  });
});

describe('the library: a program killed by a signal', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGKILL'] as const)(
    '%s to a program whose process pool runs a blocking call: its worker and the call child go with it',
    async (signal) => {
      const dir = temp();
      const pids = join(dir, 'pids');
      const mod = callModule(dir);
      const app = join(dir, 'app.mjs');
      writeFileSync(
        app,
        `import { ProcessPoolExecutor, task } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
ex.submit(task(${JSON.stringify(mod)}, 'startChildAndBlock'), ${JSON.stringify(pids)});
`,
      );
      const child = track(execa(process.execPath, [app], { reject: false, env: { NO_COLOR: '1' } }));
      const [callChild] = await waitForPids(pids, 1);
      const workers = workerProcesses(child.pid!);
      expect(workers.length).toBe(1);
      child.kill(signal);
      await child;
      expect(
        await gone([callChild!, ...workers]),
        `still running: ${[callChild, ...workers].join(' ')}`,
      ).toBe(true);
    },
  );
});

/** The Node worker processes whose parent is `pid` (not the watchdog's /bin/sh). */
function workerProcesses(pid: number): number[] {
  return childPids(pid).filter((p) => {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      return cmd.startsWith(process.execPath) && !cmd.includes('poolrun-watchdog');
    } catch {
      return false; // gone meanwhile
    }
  });
}
