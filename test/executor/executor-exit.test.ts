/**
 * How a worker's end reaches the caller (BrokenWorkerError carries the real exit), and worker processes that
 * never outlive the program that started them.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { ProcessPoolExecutor, ThreadPoolExecutor, BrokenWorkerError, task } from '../../dist/index.js';
import { FIXTURES, ROOT, pidAlive, pidStart, poolrun, track, useTempDirs, waitFor } from '../helpers.js';
import type * as T from '../fixtures/tasks.mjs';

const tasks = join(FIXTURES, 'tasks.mjs');

describe('BrokenWorkerError carries the dead worker’s exit', () => {
  it('process mode: a call that runs process.exit(7) → workerExitCode 7, no signal, its worker slot', async () => {
    const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
    const err = await ex.submit(task(tasks, 'exitWorker'), 7).exception();
    expect(err).toBeInstanceOf(BrokenWorkerError);
    expect(err).toMatchObject({ workerExitCode: 7, signal: null, worker: 1 });
    await ex.shutdown();
  });

  it('process mode: a worker killed by SIGKILL → signal SIGKILL, workerExitCode null', async () => {
    const ex = new ProcessPoolExecutor({ maxWorkers: 1 });
    const err = await ex.submit(task(tasks, 'killSelf'), 'SIGKILL').exception();
    expect(err).toBeInstanceOf(BrokenWorkerError);
    expect(err).toMatchObject({ workerExitCode: null, signal: 'SIGKILL', worker: 1 });
    await ex.shutdown();
  });

  it('thread mode: a worker that exits with code 7 → workerExitCode 7', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const err = await ex.submit(task(tasks, 'exitWorker'), 7).exception();
    expect(err).toBeInstanceOf(BrokenWorkerError);
    expect(err).toMatchObject({ workerExitCode: 7, signal: null, worker: 1 });
    await ex.shutdown();
  });
});

/**
 * A small program using the library, run as a user would (`node app.mjs 2>&1 | cat`): it starts a pool, gets a
 * 30 s call and a `sleep 30` shell job (with a grandchild) running, writes every pid, then ends one way or another.
 */
const APP = `
import { ProcessPoolExecutor, ThreadPoolExecutor, task } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [how, mode, dir, tasks] = process.argv.slice(2);
const workers = new Set();
const Pool = mode === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
// A long grace: the jobs must be gone at once when the program ends, not after the watchdog's TERM and grace.
const ex = new Pool({
  maxWorkers: 2,
  killAfter: 60_000,
  onEvent: (e) => {
    if (e.event === 'started') workers.add(e.pid);
  },
});
// The call blocks its worker's event loop (a synchronous sleep): nothing in that worker runs until it returns.
if (mode === 'process') ex.submit(task(tasks, 'sleepMs'), 30_000);
// It ignores SIGTERM (and so does its child): only a SIGKILL ends it before the 60 s grace is over.
ex.submit({ run: \`trap '' TERM; sleep 30 & echo $! > \${dir}/child.pid; echo $$ > \${dir}/shell.pid; wait\` });
const want = mode === 'process' ? 2 : 1;
while (workers.size < want || !existsSync(join(dir, 'child.pid')) || !existsSync(join(dir, 'shell.pid')))
  await new Promise((r) => setTimeout(r, 20));
const read = (f) => Number(readFileSync(join(dir, f), 'utf8'));
const pids = { shell: read('shell.pid'), child: read('child.pid'), workers: mode === 'process' ? [...workers] : [] };
writeFileSync(join(dir, 'pids.json'), JSON.stringify(pids));
console.log('pids written');
if (how.startsWith('shutdown')) ex.shutdown({ wait: false, cancelFutures: true });
if (how.endsWith('exit')) process.exit(3);
if (how.endsWith('throw')) throw new Error('the app failed');
// Otherwise the program's code is done here: a normal end.
`;

interface AppPids {
  shell: number;
  child: number;
  workers: number[];
}

describe('worker processes and jobs never outlive the program', () => {
  const temp = useTempDirs();

  async function runApp(how: string, mode: 'process' | 'thread'): Promise<void> {
    const dir = temp();
    const app = join(dir, 'app.mjs');
    writeFileSync(app, APP);
    const sh = `${JSON.stringify(process.execPath)} ${app} ${how} ${mode} ${dir} ${tasks} 2>&1 | cat`;
    const child = track(execa('/bin/sh', ['-c', sh], { reject: false, detached: true }), true);
    let pids: AppPids | undefined;
    const starts = new Map<number, number | undefined>();
    try {
      // The app writes its pids within seconds; then it must end, and `| cat` with it.
      expect(await waitFor(() => existsSync(join(dir, 'pids.json')), 20_000)).toBe(true);
      pids = JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as AppPids;
      for (const p of [pids.shell, pids.child, ...pids.workers]) starts.set(p, pidStart(p));
      expect(pids.workers).toHaveLength(mode === 'process' ? 2 : 0);
      const ended = await Promise.race([
        child.then((r) => r),
        new Promise<undefined>((r) => setTimeout(r, 10_000)),
      ]);
      expect(ended, 'app | cat returned').toBeDefined();
      expect(ended!.stdout).toContain('pids written');
      const all = [pids.shell, pids.child, ...pids.workers];
      expect(await waitFor(() => all.every((p) => !pidAlive(p)), 10_000)).toBe(true);
    } finally {
      if (pids)
        for (const p of [pids.shell, pids.child, ...pids.workers]) {
          // Only the process it was: a number seen dead may be another's by now.
          const start = starts.get(p);
          if (start === undefined || !pidAlive(p, start)) continue;
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            /* gone, as it should be */
          }
        }
    }
  }

  it.each([
    ['process.exit()', 'exit'],
    ['an uncaught error', 'throw'],
    ['shutdown({wait: false, cancelFutures: true}), then a normal end', 'shutdown'],
    ['shutdown({wait: false, cancelFutures: true}), then process.exit()', 'shutdown-exit'],
    ['shutdown({wait: false, cancelFutures: true}), then an uncaught error', 'shutdown-throw'],
  ])(
    'process pool, the app ends by %s: app | cat returns; workers, call and shell job are gone',
    async (_n, how) => {
      await runApp(how, 'process');
    },
  );

  it.each([
    ['process.exit()', 'exit'],
    ['shutdown({wait: false, cancelFutures: true}), then a normal end', 'shutdown'],
  ])('thread pool, the app ends by %s: its shell job and the job’s child are gone', async (_n, how) => {
    await runApp(how, 'thread');
  });
});

/**
 * shutdown({wait: false, cancelFutures: true}) with a job and a call running (acceptance probe: a program awaiting
 * a running future got exit 13, "unsettled top-level await", and its job was killed). As in Python, only pending
 * futures are cancelled: a program that still awaits a running one (result(), map(), asCompleted(), wait()) gets
 * it; one whose code is done exits at once, its workers and jobs killed.
 */
const AWAITING_APP = `
import { ProcessPoolExecutor, ThreadPoolExecutor, task, asCompleted, wait } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [how, mode, dir, tasks, secs] = process.argv.slice(2);
const workers = new Set();
let started = 0;
const Pool = mode === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
const ex = new Pool({ maxWorkers: 2, onEvent: (e) => e.event === 'started' && (started++, workers.add(e.pid)) });
const sleepMs = task(tasks, 'sleepMs');
const job = ex.submit({ run: \`echo $$ > \${dir}/shell.pid; sleep \${secs}; echo done > \${dir}/done.flag\` });
const calls = ex.map(sleepMs, [Number(secs) * 1000]);
const pending = ex.submit({ run: \`echo never > \${dir}/never.flag\` });
// Both the job and map()'s call have started (a call still pending is cancelled by shutdown, as in Python).
while (!job.running() || !existsSync(join(dir, 'shell.pid')) || started < 2 || workers.size < (mode === 'process' ? 2 : 1))
  await new Promise((r) => setTimeout(r, 20));
writeFileSync(join(dir, 'pids.json'), JSON.stringify({ shell: Number(readFileSync(join(dir, 'shell.pid'), 'utf8')), workers: mode === 'process' ? [...workers] : [] }));
await ex.shutdown({ wait: false, cancelFutures: true });
console.log('pending cancelled', pending.cancelled(), 'job running', job.running());
if (how === 'result') {
  console.log('job', (await job.result()).status);
  for await (const v of calls) console.log('call', v);
} else if (how === 'asCompleted') {
  for await (const f of asCompleted([job])) console.log('job', (await f.result()).status);
  for await (const v of calls) console.log('call', v);
} else if (how === 'wait') {
  const { notDone } = await wait([job]);
  console.log('job', notDone.size === 0 ? (await job.result()).status : 'not done');
  for await (const v of calls) console.log('call', v);
} else if (how === 'shutdown' || how === 'dispose') {
  // A second, waiting shutdown (Python's shutdown(wait=True) after shutdown(wait=False)) joins and returns.
  if (how === 'shutdown') await ex.shutdown();
  else await ex[Symbol.asyncDispose]();
  console.log('job', job.done() ? (await job.result()).status : 'not done');
  for await (const v of calls) console.log('call', v);
}
// 'none': the program's code is done here, its job and call still running.
`;

describe('shutdown({wait: false, cancelFutures: true}) with work running', () => {
  const temp = useTempDirs();

  async function runAwaiting(how: string, mode: 'process' | 'thread', secs: number) {
    const dir = temp();
    const app = join(dir, 'app.mjs');
    writeFileSync(app, AWAITING_APP);
    const child = track(
      execa(process.execPath, [app, how, mode, dir, tasks, String(secs)], {
        reject: false,
        timeout: 60_000,
      }),
    );
    const r = await child;
    const pids = JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as AppPids;
    const all = [pids.shell, ...pids.workers];
    expect(await waitFor(() => all.every((p) => !pidAlive(p)), 10_000)).toBe(true);
    expect(existsSync(join(dir, 'never.flag'))).toBe(false);
    return { ...r, done: existsSync(join(dir, 'done.flag')) };
  }

  it.each([
    ['process', 'result'],
    ['process', 'asCompleted'],
    ['process', 'wait'],
    ['thread', 'result'],
    ['process', 'shutdown'],
    ['thread', 'shutdown'],
    ['thread', 'dispose'],
  ] as const)(
    '%s pool, the program awaits the running futures (%s, then map()): they finish and resolve',
    async (mode, how) => {
      const r = await runAwaiting(how, mode, 1);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout.split('\n')).toEqual([
        'pending cancelled true job running true',
        'job succeeded',
        'call 1000',
      ]);
      expect(r.done).toBe(true);
    },
  );

  it.each(['process', 'thread'] as const)(
    '%s pool, the program’s code is done without awaiting: it exits at once; workers and job are gone',
    async (mode) => {
      const r = await runAwaiting('none', mode, 30);
      expect(r.timedOut).toBe(false);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('pending cancelled true job running true');
      expect(r.done).toBe(false);
    },
  );
});

/**
 * A future finished by user code (setResult()/setException() are not in the .d.ts, yet callable from JavaScript)
 * before its work ends (acceptance probe: the executor's own settling threw an uncaught InvalidStateError and the
 * program exited 1). What the user set stands; the executor's result is dropped with a PoolrunWarning.
 */
describe('a future settled by other code than its executor', () => {
  const temp = useTempDirs();

  it.each(['process', 'thread'])('%s pool: the program goes on; a PoolrunWarning says so', async (mode) => {
    const dir = temp();
    const app = join(dir, 'app.mjs');
    writeFileSync(
      app,
      `
import { ProcessPoolExecutor, ThreadPoolExecutor, task } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
const Pool = process.argv[2] === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
const ex = new Pool({ maxWorkers: 1 });
const call = ex.submit(task(process.argv[3], 'square'), 3);
call.setResult(99);
const failing = ex.submit(task(process.argv[3], 'fail'), 'boom');
failing.setResult('mine');
const job = ex.submit({ run: 'echo hi' });
job.setException(new Error('set by me'));
// Runs until the file exists: a sleep of 300 ms could end between two polls on a loaded machine (CI once), and
// the loop then waited for good.
const go = process.argv[4];
const running = ex.submit(task(process.argv[3], 'untilFile'), go, 'late');
while (!running.running()) await new Promise((r) => setTimeout(r, 10));
running.setResult(-1);
(await import('node:fs')).writeFileSync(go, '');
console.log(await call.result(), await failing.result(), (await job.exception()).message, await running.result());
await ex.shutdown();
console.log('shut down');
`,
    );
    const r = await track(
      execa(process.execPath, [app, mode, tasks, join(dir, 'go')], { reject: false, timeout: 50_000 }),
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('99 mine set by me -1\nshut down');
    expect(r.stderr).not.toContain('InvalidStateError');
    expect(r.stderr.match(/PoolrunWarning: job \S+ \S+, but its future was already finished/g)).toHaveLength(
      4,
    );
  });
});

/**
 * A call that leaves a child process running (its handle kept, as `spawn` without `detached` and `unref` does)
 * holds its worker's event loop: a thread asked to leave stayed, so `shutdown()` never resolved and a CLI run
 * never ended after its last job (fresh-eyes probe: idle for 9 minutes). A worker asked to leave is ended after
 * a second, as a worker process always was, and the child is ended with it.
 */
describe.each([
  ['thread', ThreadPoolExecutor],
  ['process', ProcessPoolExecutor],
] as const)('%s pool: a call that leaves a child running', (_mode, Pool) => {
  const tempDir = useTempDirs();
  it('shutdown() resolves and the child is gone', async () => {
    const ex = new Pool({ maxWorkers: 1 });
    const { pid } = await ex.submit(task<typeof T.leaveChild>(tasks, 'leaveChild')).result();
    const start = pidStart(pid);
    expect(start).toBeDefined();
    let done = false;
    const shut = ex.shutdown().then(() => (done = true));
    expect(await waitFor(() => done, 20_000)).toBe(true);
    await shut;
    expect(await waitFor(() => !pidAlive(pid, start), 10_000)).toBe(true);
  }, 40_000);

  it('the CLI run ends by itself, and the child is gone', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.json');
    const r = await poolrun(['-m', _mode, '--json', out, '--call', `${tasks}#leaveChild`, '1']);
    expect(r.code, r.stderr).toBe(0);
    const pid = (JSON.parse(readFileSync(out, 'utf8')) as { results: { value: { pid: number } }[] })
      .results[0]!.value.pid;
    expect(await waitFor(() => !pidAlive(pid), 10_000)).toBe(true);
  }, 40_000);
});
