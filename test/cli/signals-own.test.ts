/**
 * Signals reach only our own: once a job's group leader has been reaped, its number is free for the kernel to hand
 * to anyone. The escalation (TERM, --kill-after, KILL), the kill at exit and the watchdog's sweep must then leave a
 * foreign process group that took the same number alone, and still kill what is left of the job's own group.
 *
 * Runs alone (npm test runs it after the rest): steering the machine-wide pid counter back makes every concurrent
 * test's processes take numbers that died a moment ago, and a stale-pid kill elsewhere would then hit a live process.
 *
 * A foreign group is made to take a finished job's number for real: as root, /proc/sys/kernel/ns_last_pid steers
 * the next pid the kernel hands out. Every check is by pid.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pidAlive, readJson, useTempDirs, waitFor } from '../helpers.js';
import { modes, readNumbers, startPoolrun, watchdogsOf, writeJobs } from './failure-helpers.js';
import { ProcessGroups } from '../../src/proc/groups.js';
import { readStat } from '../../src/proc/owner.js';
import { Watchdog } from '../../src/proc/watchdog.js';

const temp = useTempDirs();
const NS_LAST_PID = '/proc/sys/kernel/ns_last_pid';
const canSteer = (() => {
  try {
    writeFileSync(NS_LAST_PID, readFileSync(NS_LAST_PID, 'utf8'));
    return true;
  } catch {
    return false;
  }
})();

const foreign: ChildProcess[] = [];
afterEach(() => {
  for (const c of foreign.splice(0)) c.kill('SIGKILL');
});

/** A process in a session and group of its own, not a child of poolrun, without any run token. */
function foreignGroup(): ChildProcess {
  const env = { ...process.env };
  delete env.POOLRUN_RUN_ID;
  const c = spawn('sleep', ['120'], { detached: true, stdio: 'ignore', env });
  c.on('error', () => {});
  foreign.push(c);
  return c;
}

/** Whether any process (zombies included) still holds `pgid` as its pid or its process group. */
function numberHeld(pgid: number): boolean {
  if (existsSync(`/proc/${pgid}`)) return true;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) return true;
    } catch {
      /* gone */
    }
  }
  return false;
}

/**
 * A foreign group whose id is `pgid`, made once the number is free (the kernel's reaping of orphans here can take
 * a few seconds). Other processes on the machine may take the number first: tried again until it lands.
 */
async function foreignGroupAt(pgid: number): Promise<ChildProcess> {
  for (let i = 0; i < 200; i++) {
    // Another process may have taken the number between our write and our fork: wait for it to be free again.
    expect(await waitFor(() => !numberHeld(pgid), 30_000, 50)).toBe(true);
    // Then a few clock ticks (10 ms): a pid and its start time in ticks name a process, so a number reused in the
    // tick its leader started in is that leader to anyone (README, "Signals reach only our own"). Without ns_last_pid the kernel
    // reuses a number only after going through pid_max; here it is forced, so it is forced a tick later.
    await new Promise((r) => setTimeout(r, 40));
    // The counter is the whole machine's: put it back at once, so that processes of other tests, started
    // meanwhile, do not get the numbers of processes they have just seen die.
    const before = Number(readFileSync(NS_LAST_PID, 'utf8'));
    writeFileSync(NS_LAST_PID, String(pgid - 1));
    const c = foreignGroup();
    if (Number(readFileSync(NS_LAST_PID, 'utf8')) < before) writeFileSync(NS_LAST_PID, String(before));
    if (c.pid === pgid) return c;
    c.kill('SIGKILL');
  }
  throw new Error(`could not make a process with pid ${pgid}`);
}

/**
 * Job `leader`: starts a daemonised grandchild in its group (stdio closed, so the job ends while it runs), writes
 * both pids, then lives a little (so the watchdog has heard of its group) and exits. At its end poolrun TERMs the
 * group (the grandchild dies) and arms the KILL escalation. Job `keep` holds the run open meanwhile.
 */
function leaderJobs(dir: string, keepSeconds: number) {
  const pids = join(dir, 'pids');
  const jobs = [
    {
      id: 'leader',
      run: `sleep 60 </dev/null >/dev/null 2>&1 & echo $$ >> ${pids}; echo $! >> ${pids}; sleep 0.3`,
    },
    { id: 'keep', run: `echo $$ > ${join(dir, 'keep')}; sleep ${keepSeconds}` },
  ];
  return { pids, file: writeJobs(dir, jobs) };
}

async function leaderPids(pids: string): Promise<[number, number]> {
  expect(await waitFor(() => readNumbers(pids).length === 2, 20_000)).toBe(true);
  const [leader, grandchild] = readNumbers(pids) as [number, number];
  return [leader, grandchild];
}

describe.skipIf(!canSteer).each(modes)(
  'a reaped job group whose id a foreign group took (%s mode)',
  (mode) => {
    it('is not signalled by the KILL escalation nor the kill at exit; the job grandchild is still killed', async () => {
      const dir = temp();
      // --kill-after long enough for the foreign group to take the number before the escalation's KILL.
      const { pids, file } = leaderJobs(dir, 14);
      const run = startPoolrun([
        '-m',
        mode,
        '-w',
        '2',
        '--kill-after',
        '9s',
        '--json',
        join(dir, 'out.json'),
        file,
      ]);
      const [leader, grandchild] = await leaderPids(pids);
      // The job ends; poolrun TERMs what is left of its group.
      expect(await waitFor(() => !pidAlive(grandchild) && !pidAlive(leader), 10_000)).toBe(true);
      const other = await foreignGroupAt(leader);
      const r = await run;
      expect(r.exitCode).toBe(0);
      expect(readJson(join(dir, 'out.json')).results.map((x) => x.status)).toEqual([
        'succeeded',
        'succeeded',
      ]);
      expect(pidAlive(other.pid!)).toBe(true);
    }, 60_000);

    it("is not signalled by the watchdog's sweep when poolrun is SIGKILLed; the running job is", async () => {
      const dir = temp();
      const { pids, file } = leaderJobs(dir, 60);
      const run = startPoolrun(['-m', mode, '-w', '2', '--kill-after', '30s', file]);
      const [leader, grandchild] = await leaderPids(pids);
      expect(await waitFor(() => !pidAlive(grandchild) && !pidAlive(leader), 10_000)).toBe(true);
      const other = await foreignGroupAt(leader);
      const keep = readNumbers(join(dir, 'keep'))[0]!;
      expect(pidAlive(keep)).toBe(true);
      const dogs = watchdogsOf(run.pid!);
      expect(dogs).toHaveLength(1);
      run.kill('SIGKILL');
      await run;
      // The watchdog has swept (TERM; `keep` dies of it) and left.
      expect(await waitFor(() => !pidAlive(dogs[0]!), 20_000), 'the watchdog has left').toBe(true);
      expect(pidAlive(keep), 'the running job was killed').toBe(false);
      expect(pidAlive(other.pid!), 'the foreign group is alive').toBe(true);
    }, 60_000);
  },
);

describe.skipIf(!canSteer).each(modes)(
  'a running job whose leader is gone and whose group is empty (%s mode)',
  (mode) => {
    // The leader exits at once; a grandchild in a session of its own keeps the job's stdout open, so the job
    // runs on while its group id is free: a foreign group takes it.
    const jobFor = (dir: string) =>
      writeJobs(dir, [{ id: 'j', run: `echo $$ > ${join(dir, 'pid')}; setsid sleep 8 & exit 0` }]);

    it('its timeout (TERM, then KILL) does not reach the foreign group', async () => {
      const dir = temp();
      const run = startPoolrun(['-m', mode, '--timeout', '2s', '--kill-after', '1s', jobFor(dir)]);
      expect(await waitFor(() => readNumbers(join(dir, 'pid')).length === 1, 20_000)).toBe(true);
      const other = await foreignGroupAt(readNumbers(join(dir, 'pid'))[0]!);
      await run;
      expect(pidAlive(other.pid!)).toBe(true);
    }, 60_000);

    it('poolrun SIGKILLed: neither its workers nor the watchdog signal the foreign group', async () => {
      const dir = temp();
      const run = startPoolrun(['-m', mode, '--kill-after', '1s', jobFor(dir)]);
      expect(await waitFor(() => readNumbers(join(dir, 'pid')).length === 1, 20_000)).toBe(true);
      const other = await foreignGroupAt(readNumbers(join(dir, 'pid'))[0]!);
      const dogs = watchdogsOf(run.pid!);
      run.kill('SIGKILL');
      await run;
      expect(await waitFor(() => dogs.every((p) => !pidAlive(p)), 20_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 500)); // a worker process leaves on disconnect
      expect(pidAlive(other.pid!)).toBe(true);
    }, 60_000);
  },
);

describe.each(modes)('a job group whose leader is gone (%s mode)', (mode) => {
  it.each([
    ['inherits the run token', {}],
    ['sets POOLRUN_RUN_ID itself', { POOLRUN_RUN_ID: 'not-the-run' }],
  ])(
    'its TERM-ignoring grandchild is killed on timeout, when the job %s',
    async (_what, env) => {
      const dir = temp();
      const pid = join(dir, 'pid');
      // The leader exits at once; the grandchild keeps the job's stdout open, so the job runs until its timeout.
      const run = `sh -c "trap '' TERM; exec sleep 40" & echo $! > ${pid}; exit 0`;
      const json = join(dir, 'out.json');
      const r = startPoolrun([
        '-m',
        mode,
        '--timeout',
        '1s',
        '--kill-after',
        '500ms',
        '--json',
        json,
        writeJobs(dir, [{ id: 'g', run, env }]),
      ]);
      expect(await waitFor(() => readNumbers(pid).length === 1, 20_000)).toBe(true);
      const grandchild = readNumbers(pid)[0]!;
      // The job was not done (its output open) when its limit came: timed out, whatever its leader's exit
      // status (0, kept in the result); and nothing of it is left.
      const done = await r;
      expect(done.exitCode).toBe(1);
      expect(readJson(json).results[0]).toMatchObject({ status: 'timed-out', exitCode: 0 });
      expect(readJson(json).results[0]!.durationMs).toBeLessThan(30_000);
      expect(await waitFor(() => !pidAlive(grandchild), 5000)).toBe(true);
    },
    60_000,
  );
});

describe.each(modes)('a job group whose leader is gone, poolrun SIGKILLed (%s mode)', (mode) => {
  it('the watchdog kills the whole group: a member with the run token makes it ours, env -i members die with it', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    // Both keep the job's stdout open, so the job runs on after its leader has exited.
    const run = `sleep 60 & echo $! >> ${pids}; env -i sleep 60 & echo $! >> ${pids}; exit 0`;
    const child = startPoolrun(['-m', mode, '--kill-after', '1s', writeJobs(dir, [{ run }])]);
    expect(await waitFor(() => readNumbers(pids).length === 2, 20_000)).toBe(true);
    const members = readNumbers(pids);
    await new Promise((r) => setTimeout(r, 300)); // registered with the watchdog
    child.kill('SIGKILL');
    await child;
    expect(await waitFor(() => members.every((p) => !pidAlive(p)), 10_000)).toBe(true);
  }, 60_000);
});

describe('ProcessGroups with a foreign group under a registered number', () => {
  function registeredForeign() {
    const other = foreignGroup();
    const groups = new ProcessGroups();
    // Registered as a job's group whose leader was a child of another process (the worker that ran it): the
    // leader was reaped before the registry looked, and the number went to `other`.
    groups.add(other.pid!, process.ppid);
    return { other, groups };
  }

  it.each([
    ['release', (g: ProcessGroups, p: number) => g.release(p, 100)],
    ['terminate', (g: ProcessGroups, p: number) => g.terminate(p, 100)],
    ['kill', (g: ProcessGroups, p: number) => g.kill(p)],
    ['killAll', (g: ProcessGroups) => g.killAll()],
    ['close', (g: ProcessGroups) => g.close()],
  ] as const)('%s leaves it alone, escalation included', async (_name, act) => {
    const { other, groups } = registeredForeign();
    act(groups, other.pid!);
    await new Promise((r) => setTimeout(r, 300));
    groups.killAll();
    expect(pidAlive(other.pid!)).toBe(true);
  });

  it.skipIf(!canSteer)(
    'a real job leader reaped, its number taken: release and the escalation leave it',
    async () => {
      const groups = new ProcessGroups();
      const job = spawn('/bin/sh', ['-c', 'exit 0'], { detached: true, stdio: 'ignore' });
      groups.add(job.pid!, process.pid);
      const start = Number(readStat(job.pid!)?.start ?? 0);
      await new Promise((r) => job.on('exit', r));
      // A leader is known by its start time, in clock ticks (10 ms): a number taken within the same tick would
      // look like the same process. Only this test's steering can reuse a pid that fast; let two ticks pass.
      await waitFor(() => uptimeTicks() > start + 2, 5_000);
      const other = await foreignGroupAt(job.pid!);
      groups.terminate(job.pid!, 100);
      await new Promise((r) => setTimeout(r, 300));
      groups.release(job.pid!, 100);
      await new Promise((r) => setTimeout(r, 300));
      groups.close();
      expect(pidAlive(other.pid!)).toBe(true);
    },
  );

  it('a live job group is still killed, leader and grandchild, by terminate then KILL', async () => {
    const dir = temp();
    const pids = join(dir, 'pids');
    const groups = new ProcessGroups();
    const env = { ...process.env, POOLRUN_RUN_ID: groups.token };
    const job = spawn(
      '/bin/sh',
      ['-c', `trap '' TERM; sh -c "trap '' TERM; exec sleep 60" & echo $$ $! > ${pids}; exec sleep 60`],
      { detached: true, stdio: 'ignore', env },
    );
    groups.add(job.pid!, process.pid);
    expect(await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8').includes('\n'), 5000)).toBe(
      true,
    );
    const [leader, grandchild] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number];
    groups.terminate(job.pid!, 200);
    expect(await waitFor(() => !pidAlive(leader) && !pidAlive(grandchild), 5000)).toBe(true);
    groups.close();
  });
});

/**
 * Command names (/proc/PID/stat field 2, the first 15 bytes of the file name) that try to pass for more fields:
 * spaces, parentheses, newlines, digits. Generated from a seed, so a failure can be replayed.
 */
function hostileNames(count: number, seed = 13): string[] {
  const parts = [' ', ')', '(', ') ', '\n', ') R 1 ', '1', ' 0', 'Z', '-', '\t', ') (', 'x'];
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  const names = new Set<string>([') 1 1 1 1 1 1 1', 'a)\n) S 1 2 3', '(', ')', ' ', '\n']);
  while (names.size < count) {
    let n = '';
    const len = 1 + (next() % 6);
    for (let i = 0; i < len; i++) n += parts[next() % parts.length];
    names.add(n);
  }
  return [...names];
}

const copies: string[] = [];
afterEach(() => {
  // A failed test leaves them running: end them (by pid) before their folder goes.
  for (const pid of runningFrom(copies.splice(0))) process.kill(pid, 'SIGKILL');
});

/** Copies of `sleep` under hostile names in `dir` (a name is made unique by its position). */
function hostileSleeps(dir: string, count: number): string[] {
  return hostileNames(count).map((name, i) => {
    const path = join(dir, `${name}${i}`);
    copyFileSync('/bin/sleep', path);
    chmodSync(path, 0o755);
    copies.push(path);
    return path;
  });
}

/** The pids whose executable is one of `paths`. */
function runningFrom(paths: string[]): number[] {
  const wanted = new Set(paths);
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (wanted.has(readlinkSync(`/proc/${name}/exe`))) out.push(Number(name));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

describe('hostile command names', () => {
  it('readStat reads the group and the parent of processes whose names imitate stat fields', () => {
    const dir = temp();
    const paths = hostileSleeps(dir, 40);
    const children = paths.map((p) => {
      const c = spawn(p, ['30'], { detached: true, stdio: 'ignore' });
      foreign.push(c);
      return c;
    });
    for (const c of children) {
      const st = readStat(c.pid!);
      expect(st).toMatchObject({ pgrp: c.pid, ppid: process.pid });
      expect(st!.start).toMatch(/^\d+$/);
    }
  });

  describe.each(modes)('%s mode', (mode) => {
    // env -i: the leader carries no run token, so only its start time (read through its name) makes it ours.
    const jobsFor = (dir: string, paths: string[]) =>
      writeJobs(
        dir,
        paths.map((p) => ({ run: ['env', '-i', p, '60'] })),
      );

    it('a job leader with such a name and no run token is killed on timeout', async () => {
      const dir = temp();
      const paths = hostileSleeps(dir, 8);
      const json = join(dir, 'out.json');
      const r = await startPoolrun([
        '-m',
        mode,
        '-w',
        '8',
        '--timeout',
        '1s',
        '--json',
        json,
        jobsFor(dir, paths),
      ]);
      expect(r.exitCode).toBe(1);
      expect(readJson(json).results.map((x) => x.status)).toEqual(Array(8).fill('timed-out'));
      expect(await waitFor(() => runningFrom(paths).length === 0, 5000)).toBe(true);
    }, 60_000);

    it("… and by the watchdog's sweep when poolrun is SIGKILLed", async () => {
      const dir = temp();
      const paths = hostileSleeps(dir, 8);
      const run = startPoolrun(['-m', mode, '-w', '8', '--kill-after', '1s', jobsFor(dir, paths)]);
      // Registered with the watchdog (batches every 20 ms) once they have run a moment.
      expect(await waitFor(() => runningFrom(paths).length === 8, 20_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      run.kill('SIGKILL');
      await run;
      expect(await waitFor(() => runningFrom(paths).length === 0, 10_000)).toBe(true);
    }, 60_000);
  });
});

describe('the watchdog helper on its own', () => {
  it('sweeps only registered groups that still hold their leader (same start time); removed ones are left', async () => {
    const groups = Array.from({ length: 6 }, () => foreignGroup());
    const [kept, removed, wrongStart, noStart, keptToo, removedLast] = groups.map((c) => c.pid!) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const start = (pid: number) => readStat(pid)!.start;
    const wd = new Watchdog({ killAfterMs: 200 });
    wd.add(kept, start(kept));
    wd.add(removed, start(removed));
    wd.add(wrongStart, String(Number(start(wrongStart)) + 1));
    wd.add(noStart);
    wd.add(keptToo, start(keptToo));
    wd.add(removedLast, start(removedLast));
    await new Promise((r) => setTimeout(r, 100)); // the batch is written
    wd.remove(removed);
    wd.remove(removedLast);
    const helper = (wd as unknown as { child: ChildProcess }).child;
    // poolrun dies: the helper's stdin ends without a goodbye.
    helper.stdin!.end();
    expect(await waitFor(() => !pidAlive(kept) && !pidAlive(keptToo), 5000)).toBe(true);
    expect(await waitFor(() => !pidAlive(helper.pid!), 5000)).toBe(true);
    for (const pid of [removed, wrongStart, noStart, removedLast]) expect(pidAlive(pid)).toBe(true);
  });
});

/** Clock ticks since boot (USER_HZ is 100 on Linux), the unit of /proc/PID/stat's start time. */
function uptimeTicks(): number {
  return Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100);
}
