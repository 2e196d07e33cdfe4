/**
 * Signals to poolrun, and poolrun's own death: no process of any job survives it. Every check is by pid.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive, pidStart, readJson, useTempDirs, waitFor } from '../helpers.js';
import {
  TREE_SIZE,
  modes,
  readNumbers,
  startPoolrun,
  survivors,
  treeJob,
  watchdogsOf,
  waitForPids,
  writeJobs,
} from './failure-helpers.js';

const temp = useTempDirs();

const KILL_AFTER_MS = 1000;

/**
 * A tree that ignores SIGTERM (treeJob's), beside a witness in the same process group that notes each SIGTERM
 * it gets in `terms` and lives on: the test waits for that note, not for a time, to know SIGTERM was sent.
 */
/** `terms.ready` appears once the subshell's trap is set: a TERM before it would end it, and no `terms` come. */
function stubbornJob(pids: string, terms: string): string {
  return `(trap 'echo term >> ${terms}' TERM; : > ${terms}.ready; while :; do sleep 0.05; done) & ${treeJob(pids, true)}`;
}

describe.each(modes)('signals (%s mode)', (mode) => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s with 20 running job trees: exit %i, results so far printed, no survivor within kill-after + 1s',
    async (signal, status) => {
      const dir = temp();
      const pids = join(dir, 'pids');
      const json = join(dir, 'out.json');
      const jobs = [
        { id: 'quick', run: 'echo done-before-the-signal' },
        ...Array.from({ length: 20 }, (_, i) => ({ id: `tree${i + 1}`, run: treeJob(pids) })),
        { id: 'never', run: `echo never >> ${join(dir, 'never')}` },
      ];
      const child = startPoolrun([
        '-m',
        mode,
        '-w',
        '20',
        '--kill-after',
        `${KILL_AFTER_MS}ms`,
        '--json',
        json,
        writeJobs(dir, jobs),
      ]);
      const all = await waitForPids(pids, 20 * TREE_SIZE);
      expect(survivors(all)).toHaveLength(20 * TREE_SIZE);

      const t0 = performance.now();
      child.kill(signal);
      // Watched from the moment of the signal, not from poolrun's exit.
      const gone = waitFor(() => survivors(all).length === 0, KILL_AFTER_MS + 1000);
      const r = await child;
      expect(r.exitCode).toBe(status);
      expect(await gone).toBe(true);
      expect(performance.now() - t0).toBeLessThan(KILL_AFTER_MS + 4000);

      expect(r.stdout).toContain('done-before-the-signal');
      expect(r.stderr).toContain(`poolrun: ${signal}: starting no more jobs`);
      expect(r.stderr).toMatch(/poolrun: 22 jobs: 1 succeeded, 21 cancelled/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const doc = readJson(json);
      const trees = doc.results.filter((x) => x.id.startsWith('tree'));
      expect(trees.map((x) => x.status)).toEqual(Array(20).fill('cancelled'));
      for (const t of trees) expect(t.signal).toBe('SIGTERM');
      expect(doc.results.find((x) => x.id === 'never')).toMatchObject({
        status: 'cancelled',
        startedAt: null,
      });
      expect(readNumbers(join(dir, 'never'))).toEqual([]);
    },
  );

  it('a job that ignores SIGTERM is SIGKILLed after --kill-after', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const terms = join(dir, 'terms');
    const json = join(dir, 'out.json');
    const child = startPoolrun([
      '-m',
      mode,
      '--kill-after',
      `${KILL_AFTER_MS}ms`,
      '--json',
      json,
      writeJobs(dir, [{ id: 'stubborn', run: stubbornJob(pids, terms) }]),
    ]);
    const all = await waitForPids(pids, TREE_SIZE);
    expect(await waitFor(() => existsSync(`${terms}.ready`), 20_000)).toBe(true);
    const t0 = performance.now();
    child.kill('SIGINT');
    // Still there after the SIGTERM reached the group: they ignore it.
    expect(await waitFor(() => existsSync(terms), 20_000)).toBe(true);
    expect(survivors(all)).toHaveLength(TREE_SIZE);
    const gone = waitFor(() => survivors(all).length === 0, KILL_AFTER_MS + 1000);
    const r = await child;
    const ms = performance.now() - t0;
    expect(r.exitCode).toBe(130);
    expect(await gone).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(KILL_AFTER_MS - 50);
    expect(ms).toBeLessThan(KILL_AFTER_MS + 4000);
    expect(readJson(json).results[0]).toMatchObject({ status: 'cancelled', signal: 'SIGKILL' });
  });

  it('a second SIGINT kills at once, without waiting for --kill-after', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const terms = join(dir, 'terms');
    const child = startPoolrun([
      '-m',
      mode,
      '--kill-after',
      '60s',
      writeJobs(dir, [{ id: 'stubborn', run: stubbornJob(pids, terms) }]),
    ]);
    const all = await waitForPids(pids, TREE_SIZE);
    expect(await waitFor(() => existsSync(`${terms}.ready`), 20_000)).toBe(true);
    child.kill('SIGINT');
    // The first SIGINT was handled (its SIGTERM reached the job) before the second is sent.
    expect(await waitFor(() => existsSync(terms), 20_000)).toBe(true);
    expect(survivors(all)).toHaveLength(TREE_SIZE);
    const t0 = performance.now();
    child.kill('SIGINT');
    const gone = waitFor(() => survivors(all).length === 0, 1000);
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(await gone).toBe(true);
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(r.stderr).toContain('SIGINT again: killing every running job now');
  });

  it("Ctrl-C at a terminal (SIGINT to poolrun's whole process group): a graceful stop, not crashed workers", async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const json = join(dir, 'out.json');
    const child = startPoolrun(
      [
        '-m',
        mode,
        '-w',
        '4',
        '--kill-after',
        `${KILL_AFTER_MS}ms`,
        '--json',
        json,
        writeJobs(
          dir,
          Array.from({ length: 4 }, () => treeJob(pids)),
        ),
      ],
      { detached: true },
    );
    const all = await waitForPids(pids, 4 * TREE_SIZE);
    process.kill(-child.pid!, 'SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(await waitFor(() => survivors(all).length === 0, KILL_AFTER_MS + 1000)).toBe(true);
    // Worker processes got the SIGINT too; had they died of it, the jobs would read as failed (crashed worker).
    expect(readJson(json).results.map((x) => x.status)).toEqual(Array(4).fill('cancelled'));
  });
});

describe('poolrun killed with SIGKILL: the watchdog kills what it left', () => {
  it.each(modes)(
    '%s mode: every job tree is gone within kill-after + 1s, TERM-ignoring and setsid ones too',
    async (mode) => {
      const dir = temp();
      const pids = join(dir, 'pids');
      const escaped = join(dir, 'escaped');
      const jobs = [
        ...Array.from({ length: 3 }, () => treeJob(pids)),
        treeJob(pids, true),
        // Leaves its process group and session: only the run's token in its environment gives it away.
        `setsid sleep 60 & echo $! >> ${escaped}; sleep 60`,
      ];
      const child = startPoolrun([
        '-m',
        mode,
        '-w',
        '5',
        '--kill-after',
        `${KILL_AFTER_MS}ms`,
        writeJobs(dir, jobs),
      ]);
      const all = [...(await waitForPids(pids, 4 * TREE_SIZE)), ...(await waitForPids(escaped, 1))];
      expect(survivors(all)).toHaveLength(all.length);
      child.kill('SIGKILL');
      await child;
      expect(await waitFor(() => survivors(all).length === 0, KILL_AFTER_MS + 1000)).toBe(true);
    },
  );
});

describe('the watchdog', () => {
  it.each(modes)(
    '%s mode: a process without the run token (env -i) is killed by its process group',
    async (mode) => {
      const dir = temp();
      const pids = join(dir, 'pids');
      // Only the watchdog's registry of groups can find this sleep: its environment is empty.
      const job = `env -i /bin/sh -c 'echo $$ >> ${pids}; exec sleep 60'; sleep 60`;
      const child = startPoolrun(['-m', mode, '--kill-after', `${KILL_AFTER_MS}ms`, writeJobs(dir, [job])]);
      const [pid] = await waitForPids(pids, 1);
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain('POOLRUN_RUN_ID');
      // Registrations reach the helper in batches, within 20 ms.
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      await child;
      expect(await waitFor(() => survivors([pid!]).length === 0, KILL_AFTER_MS + 1000)).toBe(true);
    },
  );

  it('is one small process per run, and leaves when the run ends normally', async () => {
    const dir = temp();
    const child = startPoolrun(['-q', writeJobs(dir, ['sleep 1', 'sleep 1'])]);
    let helpers: number[] = [];
    await waitFor(() => (helpers = watchdogsOf(child.pid!)).length > 0, 20_000);
    expect(helpers).toHaveLength(1);
    const helperStart = pidStart(helpers[0]!);
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(await waitFor(() => !pidAlive(helpers[0]!, helperStart), 2000)).toBe(true);
  });
});
