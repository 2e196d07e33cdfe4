/**
 * A call's child processes die with the call: when it times out or is cancelled (its worker is ended), not at the
 * end of the run. They are in no process group poolrun knows; they are found by their worker's tag
 * (POOLRUN_WORKER_TAG, proc/owner.ts), which they inherit. Each check runs while the run is still going on (a
 * shell job waits for a file the test writes afterwards), so the end-of-run sweep cannot be what ended them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProcessPoolExecutor, ThreadPoolExecutor, TimeoutError, task } from '../../../dist/index.js';
import { pidAlive, pidStart, poolrun, useTempDirs, waitFor, writeJobs } from '../../helpers.js';
import { modes, startPoolrun, waitForPids } from '../../cli/failure-helpers.js';

const temp = useTempDirs();

/**
 * Calls that start processes and then never return by themselves; each writes the pids it started to `pids`.
 * `exec sleep` keeps the shell's pid for the sleep, so every process of a tree is known.
 */
function callModule(dir: string): string {
  const file = join(dir, 'children.mjs');
  writeFileSync(
    file,
    `import { spawn, execSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
const forever = () => new Promise((r) => setTimeout(r, 1_000_000));
/** One child: sleep 1000. */
export async function sleeper(pids) {
  const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
  appendFileSync(pids, c.pid + '\\n');
  await forever();
}
/** A tree: sh -c 'sleep 1000 & exec sleep 1000' (a grandchild). */
export async function tree(pids) {
  spawn('sh', ['-c', 'sleep 1000 & echo $! >> "$1"; echo $$ >> "$1"; exec sleep 1000', 'sh', pids], { stdio: 'ignore' });
  await forever();
}
/** A child in a session of its own (setsid), with a child of its own, with a changed environment. */
export async function ownSession(pids) {
  spawn('sh', ['-c', 'sleep 1000 & echo $! >> "$1"; echo $$ >> "$1"; exec sleep 1000', 'sh', pids], {
    stdio: 'ignore',
    detached: true,
    env: { ...process.env, SOMETHING: 'else' },
  });
  await forever();
}
/** Starts a child, then ends its worker (a thread, or a process) under it. */
export function crash(pids) {
  const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
  appendFileSync(pids, c.pid + '\\n');
  process.exit(3);
}
/** Blocks its worker in execSync: a worker thread cannot be ended until the child is gone. */
export function blocked(pids) {
  execSync('echo $$ >> "$PIDS"; exec sleep 1000', { stdio: 'ignore', env: { ...process.env, PIDS: pids } });
}
`,
  );
  return file;
}

/** Processes per call above: sleeper 1, tree 2, ownSession 2, blocked 1. */
const CALLS = { sleeper: 1, tree: 2, ownSession: 2, blocked: 1 } as const;

/** The pids with their start times (a number alone may be reused by the time it is checked). */
function identify(pids: number[]): Array<[number, number | undefined]> {
  return pids.map((p) => [p, pidStart(p)]);
}

function living(procs: Array<[number, number | undefined]>): number[] {
  return procs.filter(([p, start]) => pidAlive(p, start)).map(([p]) => p);
}

async function allGone(procs: Array<[number, number | undefined]>): Promise<boolean> {
  return waitFor(() => living(procs).length === 0, 15_000, 50);
}

/**
 * A shell job that keeps the run going until `done` exists (ignoring SIGTERM if `ignoreTerm`); it creates
 * `${done}.started` first.
 */
function keeper(done: string, ignoreTerm = false) {
  return {
    id: 'keeper',
    run: `${ignoreTerm ? "trap '' TERM; " : ''}: > ${done}.started; while [ ! -e ${done} ]; do sleep 0.05; done`,
  };
}

describe.each(modes)('%s mode: a call’s child processes die with the call', (mode) => {
  it('timeout: every process the call started (children, grandchildren, own session) is gone while the run goes on', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const done = join(dir, 'done');
    const mod = callModule(dir);
    const jobs = writeJobs(dir, [
      ...Object.keys(CALLS).map((name) => ({
        id: name,
        timeout: '1s',
        call: { module: mod, export: name, args: [pids] },
      })),
      keeper(done),
    ]);
    const doc = join(dir, 'results.json');
    const run = startPoolrun(['-m', mode, '-w', '6', '-q', '--json', doc, jobs]);
    const want = Object.values(CALLS).reduce((a, b) => a + b, 0);
    const procs = identify(await waitForPids(pids, want));
    const ended = await allGone(procs);
    const still = living(procs);
    const running = run.exitCode === null;
    writeFileSync(done, '');
    const r = await run;
    expect(running, `the run ended early: ${String(r.stderr)}`).toBe(true);
    expect(ended, `still running after the calls timed out: ${still.join(' ')}`).toBe(true);
    expect(r.exitCode, String(r.stderr)).toBe(1);
    const { results } = JSON.parse(readFileSync(doc, 'utf8')) as {
      results: Array<{ id: string; status: string }>;
    };
    for (const name of Object.keys(CALLS))
      expect(results.find((x) => x.id === name)?.status, name).toBe('timed-out');
    expect(results.find((x) => x.id === 'keeper')?.status).toBe('succeeded');
  });

  it('a call whose worker dies under it: its child is gone while the run goes on', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const done = join(dir, 'done');
    const mod = callModule(dir);
    const jobs = writeJobs(dir, [
      { id: 'crash', call: { module: mod, export: 'crash', args: [pids] } },
      keeper(done),
    ]);
    const run = startPoolrun(['-m', mode, '-w', '2', '-q', jobs]);
    const procs = identify(await waitForPids(pids, 1));
    const ended = await allGone(procs);
    const still = living(procs);
    const running = run.exitCode === null;
    writeFileSync(done, '');
    const r = await run;
    expect(running, `the run ended early: ${String(r.stderr)}`).toBe(true);
    expect(ended, `still running after its worker died: ${still.join(' ')}`).toBe(true);
    expect(r.exitCode).toBe(1);
  });

  it('cancel (SIGINT): the call’s children get SIGTERM with the other jobs, while the run waits for a job', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const done = join(dir, 'done');
    const mod = callModule(dir);
    // The keeper ignores SIGTERM, so the run waits for it (up to --kill-after) after the signal.
    const jobs = writeJobs(dir, [
      { id: 'tree', call: { module: mod, export: 'tree', args: [pids] } },
      keeper(done, true),
    ]);
    const run = startPoolrun(['-m', mode, '-w', '2', '-q', '--kill-after', '60s', jobs]);
    const procs = identify(await waitForPids(pids, CALLS.tree));
    // The keeper is running (it has started its loop) before the signal.
    expect(await waitFor(() => existsSync(`${done}.started`), 40_000, 50)).toBe(true);
    run.kill('SIGINT');
    const ended = await allGone(procs);
    const still = living(procs);
    const running = run.exitCode === null;
    writeFileSync(done, '');
    const r = await run;
    expect(running, `the run ended early: ${String(r.stderr)}`).toBe(true);
    expect(ended, `still running after the call was cancelled: ${still.join(' ')}`).toBe(true);
    expect(r.exitCode).toBe(130);
  });
});

describe.each(modes)('%s mode: the mark on what a call starts', (mode) => {
  it('a call’s child carries POOLRUN_WORKER_TAG; a shell job after it on the same worker does not', async () => {
    const dir = temp();
    const mod = join(dir, 'env.mjs');
    writeFileSync(
      mod,
      `import { execSync } from 'node:child_process';
export const childSees = () => execSync('echo "[$POOLRUN_WORKER_TAG]"').toString().trim();
`,
    );
    const doc = join(dir, 'results.json');
    const jobs = writeJobs(dir, [
      { id: 'call', call: { module: mod, export: 'childSees' } },
      { id: 'shell', run: 'echo "[$POOLRUN_WORKER_TAG]"', after: ['call'] },
    ]);
    const r = await poolrun(['-m', mode, '-w', '1', '-q', '--json', doc, jobs]);
    expect(r.code, r.stderr).toBe(0);
    const { results } = JSON.parse(readFileSync(doc, 'utf8')) as {
      results: Array<{ id: string; value: unknown; stdout: string }>;
    };
    expect(results[0]!.value).toMatch(/^\[[0-9a-f]{16}:\d+\.\d+\]$/);
    expect(results[1]!.stdout).toBe('[]\n');
  });
});

describe.each([
  ['ThreadPoolExecutor', ThreadPoolExecutor],
  ['ProcessPoolExecutor', ProcessPoolExecutor],
] as const)('the library, %s: a task that times out', (_name, Executor) => {
  it('its child processes are gone once its future has failed, before the executor shuts down', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const mod = callModule(dir);
    const ex = new Executor({ maxWorkers: 2 });
    try {
      const futures = (['sleeper', 'tree'] as const).map((name) =>
        ex.submit(task(mod, name, { timeout: 1000 }), pids),
      );
      const procs = identify(await waitForPids(pids, CALLS.sleeper + CALLS.tree));
      for (const f of futures) await expect(f.result()).rejects.toBeInstanceOf(TimeoutError);
      const ended = await allGone(procs);
      expect(ended, `still running: ${living(procs).join(' ')}`).toBe(true);
    } finally {
      await ex.shutdown({ wait: true, cancelFutures: true });
    }
  });
});
