/**
 * Issue 15: shell jobs start through the posix_spawn addon (native/spawn.c) or, where it cannot load, Node's
 * child_process; both must be the same program. Every comparison runs the same generated jobs once per path
 * (POOLRUN_SPAWN=native, POOLRUN_SPAWN=node) and expects the same results, byte for byte, but for what differs
 * between any two runs (pids, times) and what only the native path measures (usage).
 */
import { describe, expect, it } from 'vitest';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  packageCopy,
  pidAlive,
  pidStart,
  poolrun,
  poolrunAt,
  readJson,
  rng,
  useTempDirs,
  waitFor,
} from '../helpers.js';

const temp = useTempDirs();
const NODE_ONLY = process.env.POOLRUN_SPAWN === 'node';

interface Result {
  id: string;
  status: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutEncoding?: string;
  stderrEncoding?: string;
  error: { name: string; message: string; code?: string } | null;
  usage?: { userMs: number; systemMs: number; maxRssKiB: number | null } | null;
}

async function runOn(
  path: 'native' | 'node',
  dir: string,
  jobs: unknown[],
  args: string[] = [],
): Promise<{ code: number; stderr: string; results: Result[] }> {
  const file = join(dir, `jobs-${path}.json`);
  writeFileSync(file, JSON.stringify(jobs));
  const json = join(dir, `out-${path}.json`);
  const r = await poolrun(['-q', '--json', json, ...args, file], { env: { POOLRUN_SPAWN: path } });
  const results = existsSync(json) ? readJson<{ results: Result[] }>(json).results : [];
  return { code: r.code, stderr: r.stderr, results };
}

/** What both paths must agree on. */
function comparable(r: Result) {
  const { id, status, exitCode, signal, stdout, stderr, stdoutEncoding, stderrEncoding, error } = r;
  const e = error && { name: error.name, message: error.message, code: error.code };
  return { id, status, exitCode, signal, stdout, stderr, stdoutEncoding, stderrEncoding, error: e };
}

function script(dir: string, name: string, body: string, mode = 0o755): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  chmodSync(file, mode);
  return file;
}

/** Jobs of every shape a shell job takes, drawn from a seeded generator. */
function generateJobs(dir: string, seed: number, n: number): unknown[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  script(dir, 'parent', '#!/bin/sh\ncat /proc/$PPID/comm\n');
  script(
    dir,
    'leader',
    "#!/bin/sh\nset -- $(cut -d' ' -f1,5,6 /proc/$$/stat)\n[ $1 = $2 ] && [ $1 = $3 ] && echo leader\n",
  );
  script(dir, 'selfkill', '#!/bin/sh\nkill -$1 $$\n');
  script(dir, 'noshebang', 'echo no shebang "$@"\n');
  script(dir, 'notexec', '#!/bin/sh\necho never\n', 0o644);
  const bytes = () =>
    Array.from({ length: Math.floor(r() * 6) }, () => `\\${Math.floor(r() * 256).toString(8)}`).join('');
  const shapes: Array<(i: number) => Record<string, unknown>> = [
    // stdout/stderr bytes, valid UTF-8 or not, and an exit status
    () => ({ run: `printf '${bytes()}'; printf '${bytes()}' >&2; exit ${Math.floor(r() * 256)}` }),
    // a signal death, through the shell and direct (no /bin/sh: reported as sh would)
    // any signal number but SIGSTOP (19), aliases included (a job's TSTP/TTIN/TTOU are dropped: orphaned group)
    () => ({ run: `kill -${pick(Array.from({ length: 31 }, (_, k) => k + 1).filter((k) => k !== 19))} $$` }),
    () => ({ run: `./selfkill ${pick(['TERM', 'SEGV', 'ABRT', 'HUP'])}`, cwd: dir }),
    // the environment and folder a job sees, direct and through sh
    () => ({
      run: pick(['env -u POOLRUN_RUN_ID -u POOLRUN_SPAWN', 'env -u POOLRUN_RUN_ID -u POOLRUN_SPAWN;']),
      env: { A: pick(['1', '-rf', '--x=y', 'a b', 'é']), 'B.C': 'dropped by dash' },
      cwd: pick([dir, '/tmp', '/']),
    }),
    () => ({ run: pick(['pwd', 'pwd;', '/bin/pwd', '/bin/pwd -P']), cwd: pick([dir, '/tmp', '/']) }),
    // the parent of a plain command is the worker, not /bin/sh
    () => ({ run: pick(['./parent', './parent;']), cwd: dir }),
    // a session and process group of its own: pid = pgid = sid
    () => ({
      run: pick([
        `set -- $(cut -d' ' -f1,5,6 /proc/$$/stat); [ $1 = $2 ] && [ $1 = $3 ] && echo leader`,
        `./leader`,
      ]),
      cwd: dir,
    }),
    // argv forms
    (i) => ({ run: ['/bin/echo', `-n`, `arg ${i}`, '--x=y', ''] }),
    () => ({ run: ['printf', '%s|', pick(['-rf', 'a\nb', ' '])] }),
    // what cannot be run: a missing program or folder, a file that is not executable or has no #!
    () => ({ run: [pick(['no-such-program', '/no/such/program', './notexec', dir])], cwd: dir }),
    () => ({ run: pick(['no-such-program', './notexec', './noshebang x', 'no-such-program;']), cwd: dir }),
    () => ({ run: pick(['true', ['true']]), cwd: join(dir, 'missing-folder') }),
    () => ({ run: ['./noshebang', 'y'], cwd: dir }),
  ];
  // and every way a spawn fails, whatever was drawn
  const failures = [
    ...['no-such-program', '/no/such/program', './notexec', dir, './noshebang'].map((p) => ({
      run: [p],
      cwd: dir,
    })),
    ...['no-such-program', './notexec', './noshebang x', 'no-such-program;'].map((run) => ({
      run,
      cwd: dir,
    })),
    { run: ['true'], cwd: join(dir, 'missing-folder') },
    { run: 'true', cwd: join(dir, 'missing-folder') },
    { run: 'true', cwd: join(dir, 'notexec') },
  ];
  return [...Array.from({ length: n }, (_, i) => shapes[i % shapes.length]!(i)), ...failures].map((j, i) => ({
    id: `j${i}`,
    ...j,
  }));
}

describe.skipIf(NODE_ONLY)('the native spawn path', () => {
  // CI's first run sets POOLRUN_SPAWN=native: there it must really be native (every run fails otherwise, too).
  it('is built and loads: --version and --verbose name it', async () => {
    const v = await poolrun(['--version'], { env: { POOLRUN_SPAWN: 'native' } });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^\d+\.\d+\.\d+ \(spawn: native, posix_spawn addon\)\n$/);
    const r = await poolrun(['--verbose', '--each', 'echo {}', 'x'], { env: { POOLRUN_SPAWN: 'native' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^poolrun: spawn: native, posix_spawn addon$/m);
    const n = await poolrun(['-V'], { env: { POOLRUN_SPAWN: 'node' } });
    expect(n.stdout).toMatch(/\(spawn: node, child_process \(POOLRUN_SPAWN=node\)\)\n$/);
  });

  it.each(['thread', 'process'])(
    'gives the same results as child_process: bytes, statuses, signals, env, cwd, spawn errors (%s mode)',
    async (mode) => {
      const dir = temp();
      const jobs = generateJobs(dir, mode === 'thread' ? 15 : 1515, 48);
      const native = await runOn('native', dir, jobs, ['-m', mode, '-w', '1']);
      const node = await runOn('node', dir, jobs, ['-m', mode, '-w', '1']);
      expect(native.code).toBe(node.code);
      expect(native.stderr).toBe(node.stderr);
      expect(native.results.length).toBe(jobs.length);
      expect(native.results.map(comparable)).toEqual(node.results.map(comparable));
      // The comparison covers what it means to: signals, spawn errors, a direct child of the worker.
      const all = native.results;
      expect(all.some((x) => x.signal !== null)).toBe(true);
      expect(all.some((x) => x.error?.message.startsWith('command not found'))).toBe(true);
      expect(all.some((x) => x.error?.message.startsWith('permission denied'))).toBe(true);
      expect(all.some((x) => x.error?.message.startsWith('cwd does not exist'))).toBe(true);
      expect(all.filter((x) => x.stdout === 'leader\n').length).toBeGreaterThan(1);
      const parents = all.filter((x) => /^(node|poolrun|sh|dash)\n$/.test(x.stdout)).map((x) => x.stdout);
      expect(parents).toContain('sh\n'); // ./parent;
      expect(parents.filter((p) => p !== 'sh\n').length).toBeGreaterThan(0); // ./parent, without a shell
      for (const x of node.results) expect(x.usage).toBeNull();
      for (const x of all.filter((y) => y.error === null))
        expect(x.usage).toEqual({
          userMs: expect.any(Number) as number,
          systemMs: expect.any(Number) as number,
          maxRssKiB: expect.toSatisfy(
            (v: unknown) => v === null || (typeof v === 'number' && v > 0),
          ) as unknown,
        });
    },
  );

  it.each(['thread', 'process'])(
    "a timeout kills the job's whole group: grandchildren too, by pid and start time (%s mode)",
    async (mode) => {
      const dir = temp();
      const pids = join(dir, 'pids');
      const jobs = [
        {
          run: `sleep 300 & echo $! >> ${pids}; (sleep 300 & echo $! >> ${pids}; wait) & wait`,
          timeout: '2s',
        },
      ];
      const file = join(dir, 'jobs.json');
      writeFileSync(file, JSON.stringify(jobs));
      const run = poolrun(['-q', '-m', mode, '--kill-after', '1s', file], {
        env: { POOLRUN_SPAWN: 'native' },
      });
      expect(
        await waitFor(
          () => existsSync(pids) && readFileSync(pids, 'utf8').trim().split('\n').length === 2,
          20_000,
        ),
      ).toBe(true);
      const grandchildren = readFileSync(pids, 'utf8')
        .trim()
        .split('\n')
        .map(Number)
        .map((pid) => ({ pid, start: pidStart(pid) }));
      for (const g of grandchildren) expect(g.start).toBeDefined();
      const r = await run;
      expect(r.code).toBe(1); // timed out, and poolrun ended by itself (not killed by the test's ceiling)
      for (const g of grandchildren)
        expect(await waitFor(() => !pidAlive(g.pid, g.start), 10_000)).toBe(true);
    },
  );

  it.each(['thread', 'process'])(
    'usage: a job that fills 150 MB shows a peak of at least that; one that spins 400 ms of CPU, 300+ ms (%s mode)',
    async (mode) => {
      const dir = temp();
      const fill = `const b = Buffer.alloc(150 * 1024 * 1024, 1); process.stdout.write(String(b[b.length - 1]))`;
      const spin = `const s = process.cpuUsage(); while (process.cpuUsage(s).user < 400000);`;
      const jobs = [
        { id: 'fill', run: [process.execPath, '-e', fill] },
        { id: 'fill-sh', run: `${process.execPath} -e '${fill}'` },
        { id: 'spin', run: [process.execPath, '-e', spin] },
        { id: 'spin-sh', run: `${process.execPath} -e '${spin}'` },
      ];
      const { code, results } = await runOn('native', dir, jobs, ['-m', mode, '-w', '1']);
      expect(code).toBe(0);
      const by = new Map(results.map((x) => [x.id, x.usage]));
      for (const id of ['fill', 'fill-sh']) expect(by.get(id)?.maxRssKiB).toBeGreaterThanOrEqual(150 * 1024);
      for (const id of ['spin', 'spin-sh']) expect(by.get(id)?.userMs).toBeGreaterThanOrEqual(300);
    },
  );

  it('usage reaches every report: NDJSON finished events, JUnit properties, --report tooltips, "heaviest"', async () => {
    const dir = temp();
    const fill = `Buffer.alloc(150 * 1024 * 1024, 1)`;
    const file = join(dir, 'jobs.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'fill', run: `${process.execPath} -e '${fill}'` },
        { id: 'small', run: 'true' },
      ]),
    );
    const [junit, report] = [join(dir, 'j.xml'), join(dir, 'r.html')];
    const r = await poolrun(['--reporter', 'ndjson', '--junit', junit, '--report', report, file], {
      env: { POOLRUN_SPAWN: 'native' },
    });
    expect(r.code).toBe(0);
    const finished = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; id: string; usage?: Result['usage'] })
      .filter((e) => e.event === 'finished');
    const fillUsage = finished.find((e) => e.id === 'fill')?.usage;
    expect(fillUsage?.maxRssKiB).toBeGreaterThanOrEqual(150 * 1024);
    expect(finished.find((e) => e.id === 'small')?.usage).toMatchObject({
      userMs: expect.any(Number) as number,
    });
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain(`<property name="usage.maxRssKiB" value="${fillUsage!.maxRssKiB}"/>`);
    expect(xml).toContain(`<property name="usage.userMs" value="${fillUsage!.userMs}"/>`);
    expect(readFileSync(report, 'utf8')).toMatch(/CPU \d+m?s \(user \d+m?s, system \d+m?s\), peak 1\d\d MiB/);
    const plain = await poolrun(['--reporter', 'plain', file], { env: { POOLRUN_SPAWN: 'native' } });
    expect(plain.stderr).toMatch(
      /^ {2}slowest: .*\n {2}heaviest: fill CPU \d+m?s peak 1\d\d MiB, small CPU \d+ms$/m,
    );
    const node = await poolrun(['--reporter', 'plain', file], { env: { POOLRUN_SPAWN: 'node' } });
    expect(node.stderr).not.toMatch(/heaviest/);
  });

  it('usage is null where it is not measured: the node path, calls', async () => {
    const dir = temp();
    const mod = join(dir, 'm.mjs');
    writeFileSync(mod, 'export const f = (x) => x;\n');
    const jobs = [{ run: 'true' }, { call: { module: mod, export: 'f', args: [1] } }];
    const native = await runOn('native', dir, jobs);
    const node = await runOn('node', dir, jobs);
    expect(native.results.map((x) => x.usage === null)).toEqual([false, true]);
    expect(node.results.map((x) => x.usage)).toEqual([null, null]);
  });
});

/** The addon itself (native/spawn.c), as src/proc/spawn-native.ts calls it. */
interface RawAddon {
  spawn(
    file: string,
    argv: string[],
    envp: string[],
    cwd: string | null,
    briefMs?: number,
  ):
    | [
        number,
        number,
        number,
        number,
        string?,
        [number, number, number, number, number, number]?,
        Buffer?,
        Buffer?,
      ]
    | number;
  reap(pid: number, waitMs: number): [number, number, number, number, number, number] | undefined;
}

describe.skipIf(NODE_ONLY)('the addon: what each spawn and reap tells the pool (issue 15, B1)', () => {
  const addon = createRequire(import.meta.url)(
    fileURLToPath(new URL('../../native/build/poolrun_spawn.node', import.meta.url)),
  ) as RawAddon;
  const ENV = ['PATH=/usr/bin:/bin'];
  /** Reads a pipe to its end (the fds are blocking), then closes it. */
  const drain = (fd: number): string => {
    const buf = Buffer.alloc(4096);
    let s = '';
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) s += buf.toString('utf8', 0, n);
    closeSync(fd);
    return s;
  };

  it('spawn gives the leader start time /proc shows; once both pipes are at end-of-file, one reap with a wait has the exit', () => {
    // A process closes its files a moment before it becomes a zombie: a reap without a wait often comes too soon.
    // 200 children, so that an addon not waiting would be caught here many times over.
    for (let i = 0; i < 200; i++) {
      const r = addon.spawn(
        '/bin/sh',
        ['sh', '-c', `echo $$ $(cut -d' ' -f22 /proc/$$/stat); exit ${i % 7}`],
        ENV,
        null,
      );
      if (typeof r === 'number') throw new Error(`spawn: errno ${-r}`);
      const [pid, out, err, , start] = r;
      const [ownPid, ownStart] = drain(out).trim().split(' ');
      drain(err);
      expect([pid, start]).toEqual([Number(ownPid), ownStart]);
      const x = addon.reap(pid, 1000);
      expect(x?.slice(0, 2)).toEqual([i % 7, 0]);
    }
  });

  it('spawn with briefMs: a job ended within it comes back whole; any other comes back untouched, its output all in its pipes', () => {
    const big = 200_000; // more than a pipe holds: the child blocks writing until someone reads
    const cases: Array<{ cmd: string; out: string; err: string; code: number; brief: boolean }> = [];
    for (let i = 0; i < 12; i++) {
      const code = i % 5;
      cases.push({ cmd: `exit ${code}`, out: '', err: '', code, brief: true });
      cases.push({
        cmd: `echo o${i}; echo e${i} >&2; exit ${code}`,
        out: `o${i}\n`,
        err: `e${i}\n`,
        code,
        brief: true,
      });
    }
    cases.push({ cmd: `head -c ${big} /dev/zero`, out: '\0'.repeat(big), err: '', code: 0, brief: false });
    cases.push({ cmd: 'sleep 0.3; echo slow', out: 'slow\n', err: '', code: 0, brief: false });
    cases.push({
      cmd: '(sleep 0.3; echo late) & echo early',
      out: 'early\nlate\n',
      err: '',
      code: 0,
      brief: false,
    });
    let finished = 0;
    for (const c of cases) {
      const r = addon.spawn('/bin/sh', ['sh', '-c', c.cmd], ENV, null, 20);
      if (typeof r === 'number') throw new Error(`spawn: errno ${-r}`);
      const [pid, out, err, , , exit, outData, errData] = r;
      if (exit) {
        finished++;
        expect([out, err]).toEqual([-1, -1]);
        expect([outData?.toString() ?? '', errData?.toString() ?? '', exit[0], exit[1]]).toEqual([
          c.out,
          c.err,
          c.code,
          0,
        ]);
        expect(c.brief).toBe(true);
      } else {
        // Nothing read, nothing reaped: the pipes give everything, and the exit is still there to reap.
        expect(c.brief ? 'a brief job not finished in 20 ms (a loaded machine?)' : 'untouched').toBeTruthy();
        expect([drain(out), drain(err)]).toEqual([c.out, c.err]);
        const x = addon.reap(pid, 1000)!;
        expect(x.slice(0, 2)).toEqual([c.code, 0]);
      }
    }
    // Every brief job may not have made it on a loaded machine; most must have, and no other did.
    expect(finished).toBeGreaterThan(12);
  });

  it('reap says whether the group is empty: a lone process, yes; one that leaves a background process in it, no', async () => {
    const cases = Array.from({ length: 20 }, (_, i) => i % 3 === 0);
    for (const leave of cases) {
      const cmd = leave ? 'sleep 30 </dev/null >/dev/null 2>&1 & echo $!' : 'true; echo';
      const r = addon.spawn('/bin/sh', ['sh', '-c', cmd], ENV, null);
      if (typeof r === 'number') throw new Error(`spawn: errno ${-r}`);
      const [pid, out, err] = r;
      const child = Number(drain(out).trim());
      drain(err);
      const x = addon.reap(pid, 1000)!;
      expect(x[5]).toBe(leave ? 0 : 1);
      if (leave) {
        const start = pidStart(child);
        process.kill(-pid, 'SIGKILL');
        expect(await waitFor(() => !pidAlive(child, start), 5000)).toBe(true);
      }
    }
  });
});

describe('choosing the spawn path', () => {
  it('a bad POOLRUN_SPAWN is a usage error naming it, and nothing runs', async () => {
    const dir = temp();
    for (const value of ['Native', 'posix', '-rf', 'node ', '1']) {
      const r = await poolrun(['--each', `touch ${dir}/ran-{}`, 'x'], { env: { POOLRUN_SPAWN: value } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `poolrun: POOLRUN_SPAWN must be native or node, not ${JSON.stringify(value)}`,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(dir, 'ran-x'))).toBe(false);
  });

  it('installed under a path with a space and a %: the addon still loads (a path, not a URL)', async () => {
    const dir = join(temp(), 'my tools 100%');
    mkdirSync(dir);
    const bin = packageCopy(dir);
    const v = await poolrunAt(bin, ['--version'], { env: { POOLRUN_SPAWN: '' } });
    expect(v.stdout).toMatch(/\(spawn: native/);
    const r = await poolrunAt(bin, ['-q', '--each', 'echo {}', 'ok'], { env: { POOLRUN_SPAWN: 'native' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ok\n');
  });

  it('without the addon (not built at install): child_process, said so; POOLRUN_SPAWN=native is exit 2', async () => {
    const dir = temp();
    const bin = packageCopy(dir);
    // An install where the addon was not built: no native/build.
    rmSync(join(dir, 'poolrun-package', 'native'), { recursive: true, force: true });
    const env = { POOLRUN_SPAWN: '' };
    const v = await poolrunAt(bin, ['--version'], { env });
    expect(v.stdout).toMatch(
      /\(spawn: node, child_process \(the addon cannot be loaded: .*poolrun_spawn\.node is missing\)\)\n$/,
    );
    const out = join(dir, 'out');
    const r = await poolrunAt(bin, ['--verbose', '--each', `echo {} > ${out}`, 'ok'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^poolrun: spawn: node, child_process \(the addon cannot be loaded/m);
    expect(readFileSync(out, 'utf8')).toBe('ok\n');
    const forced = await poolrunAt(bin, ['--each', `echo {} > ${out}-forced`, 'x'], {
      env: { POOLRUN_SPAWN: 'native' },
    });
    expect(forced.code).toBe(2);
    expect(forced.stderr).toMatch(
      /^poolrun: POOLRUN_SPAWN=native, but the spawn addon cannot be loaded: .*is missing$/m,
    );
    expect(existsSync(`${out}-forced`)).toBe(false);
  });
});
