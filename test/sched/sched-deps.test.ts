/**
 * Issue 17 item 1: the job field `after`. Random DAGs with random failures, run for real (thread and process
 * mode): every dependent of a failure is cancelled naming it, everything else runs, and no job starts before
 * the jobs it runs after have finished (NDJSON event order). Bad `after` values: exit 2, located, nothing ran.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, rng, useTempDirs, writeJobs } from '../helpers.js';
import { startRedis, startWorker, type RedisServer, type WorkerProcess } from '../redis.js';
import { DepTracker } from '../../src/sched/deps.js';
import { AfterChecker, findCycles } from '../../src/jobs/after.js';
import type { Job } from '../../src/kinds/types.js';

const temp = useTempDirs();

interface Spec {
  /** Effective id. */
  id: string;
  /** Written id (undefined: the job is named by its position). */
  own: string | undefined;
  after: string[];
  fails: boolean;
}

/**
 * A random DAG of n jobs: edges only from a job to jobs earlier in a hidden topological order, then the jobs
 * are shuffled into input order (so a job file names later jobs too), some failing. Some jobs have no id of
 * their own and are named by their position.
 */
function randomDag(r: () => number, n: number, failRate: number): Spec[] {
  const topo = Array.from({ length: n }, (_, i) => i);
  const input = [...topo];
  for (let i = input.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [input[i], input[j]] = [input[j]!, input[i]!];
  }
  // Input position of each topological node, and its id.
  const pos = new Map<number, number>();
  input.forEach((t, p) => pos.set(t, p));
  const ids = topo.map((t) => (r() < 0.3 ? String(pos.get(t)! + 1) : `j${t}-${Math.floor(r() * 1000)}`));
  const specs: Spec[] = new Array<Spec>(n);
  for (const t of topo) {
    const after: string[] = [];
    for (let d = 0; d < t; d++) if (r() < 2.2 / (t + 1)) after.push(ids[d]!);
    const positional = ids[t] === String(pos.get(t)! + 1);
    specs[pos.get(t)!] = { id: ids[t]!, own: positional ? undefined : ids[t], after, fails: r() < failRate };
  }
  return specs;
}

/** What should become of each job: it runs when all it runs after succeeded. */
function expected(specs: Spec[]): Map<string, 'succeeded' | 'failed' | 'cancelled'> {
  const byId = new Map(specs.map((s) => [s.id, s]));
  const out = new Map<string, 'succeeded' | 'failed' | 'cancelled'>();
  const visit = (s: Spec): 'succeeded' | 'failed' | 'cancelled' => {
    const known = out.get(s.id);
    if (known) return known;
    const ok = s.after.every((a) => visit(byId.get(a)!) === 'succeeded');
    const st = !ok ? 'cancelled' : s.fails ? 'failed' : 'succeeded';
    out.set(s.id, st);
    return st;
  };
  specs.forEach(visit);
  return out;
}

/** The failed jobs a job (transitively) runs after. */
function failedAncestors(specs: Spec[], id: string, want: Map<string, string>): Set<string> {
  const byId = new Map(specs.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const found = new Set<string>();
  const stack = [...byId.get(id)!.after];
  while (stack.length) {
    const a = stack.pop()!;
    if (seen.has(a)) continue;
    seen.add(a);
    if (want.get(a) === 'failed') found.add(a);
    stack.push(...byId.get(a)!.after);
  }
  return found;
}

function asJob(s: Spec, index: number): Job {
  const job: Job = { id: s.id, index, kind: 'run', run: 'true' };
  if (s.after.length) job.after = s.after;
  return job;
}

describe('DepTracker (pure): random DAGs, random outcomes, jobs finishing in random order', () => {
  it('a job is ready only after all it runs after succeeded; a failure cancels exactly its descendants', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const specs = randomDag(r, 2 + Math.floor(r() * 30), r() * 0.4);
      const want = expected(specs);
      const t = new DepTracker();
      const status = new Map<string, string>();
      const ready: Job[] = [];
      const reasons = new Map<string, string>();
      const take = (outs: ReturnType<DepTracker['add']>) => {
        for (const o of outs) {
          if (o.ready) ready.push(o.job);
          else {
            status.set(o.job.id, 'cancelled');
            reasons.set(o.job.id, o.error.message);
            take(t.finished(o.job.index, 'cancelled', o.job.id));
          }
        }
      };
      // Interleave reading and finishing, finishing ready jobs in a random order.
      const jobs = specs.map(asJob);
      let next = 0;
      while (next < jobs.length || ready.length) {
        if (next < jobs.length && (r() < 0.5 || !ready.length)) take(t.add(jobs[next++]!));
        else {
          const k = Math.floor(r() * ready.length);
          const job = ready.splice(k, 1)[0]!;
          const s = specs[job.index]!;
          for (const a of s.after)
            expect(status.get(a), `seed ${seed}: ${s.id} after ${a}`).toBe('succeeded');
          const st = s.fails ? 'failed' : 'succeeded';
          status.set(job.id, st);
          take(t.finished(job.index, st, job.id));
        }
      }
      expect(t.held, `seed ${seed}`).toBe(0);
      for (const s of specs) {
        expect(status.get(s.id), `seed ${seed}: ${s.id}`).toBe(want.get(s.id));
        if (want.get(s.id) === 'cancelled') {
          const msg = reasons.get(s.id)!;
          const roots = failedAncestors(specs, s.id, want);
          expect(
            [...roots].some((f) => msg.includes(`"${f}"`)),
            `seed ${seed}: ${msg}`,
          ).toBe(true);
        }
      }
    }
  });

  it('the parse-time check finds every cycle of random graphs, naming its ids in order, and no other', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const n = 2 + Math.floor(r() * 12);
      const edges = new Map<number, Array<{ to: number; item: number | undefined }>>();
      for (let i = 0; i < n; i++) {
        const out: Array<{ to: number; item: number | undefined }> = [];
        for (let j = 0; j < n; j++) if (j !== i && r() < 1.3 / n) out.push({ to: j, item: out.length });
        edges.set(i, out);
      }
      const cycles = findCycles(edges);
      // Kahn: the graph has a cycle exactly when a topological sort cannot take every node.
      const indeg = new Array<number>(n).fill(0);
      for (const out of edges.values()) for (const e of out) indeg[e.to]!++;
      const queue = [...indeg.keys()].filter((i) => indeg[i] === 0);
      let taken = 0;
      while (queue.length) {
        const i = queue.pop()!;
        taken++;
        for (const e of edges.get(i)!) if (--indeg[e.to]! === 0) queue.push(e.to);
      }
      expect(cycles.length > 0, `seed ${seed}`).toBe(taken < n);
      for (const c of cycles) {
        // Each step is an edge, and the last comes back to the first.
        for (let k = 0; k < c.length; k++) {
          const to = c[(k + 1) % c.length]!.index;
          expect(edges.get(c[k]!.index)!.some((e) => e.to === to && e.item === c[k]!.item)).toBe(true);
        }
        expect(Math.min(...c.map((x) => x.index))).toBe(c[0]!.index);
      }
    }
  });

  it('a stream may only name earlier jobs; positions name jobs without an id of their own', () => {
    const c = new AfterChecker('earlier');
    expect(c.add(0, '1', undefined, { run: 'x' })).toEqual([]);
    expect(c.add(1, 'b', 'b', { id: 'b', run: 'x', after: 1 })).toEqual([]);
    expect(c.add(2, '3', undefined, { run: 'x', after: ['b', '4'] })[0]).toMatchObject({
      index: 2,
      item: 1,
      message: expect.stringContaining('unknown id "4"') as unknown,
    });
    expect(c.add(3, '4', undefined, { run: 'x', after: '4' })[0]!.message).toMatch(/after itself/);
  });
});

/** Runs a DAG through the CLI; returns its NDJSON events. */
async function runDag(specs: Spec[], args: string[], cwd: string) {
  const jobs = specs.map((s) => {
    const j: Record<string, unknown> = { run: s.fails ? 'sleep 0.02; exit 3' : 'sleep 0.01' };
    if (s.own !== undefined) j.id = s.own;
    if (s.after.length) j.after = s.after.length === 1 ? s.after[0] : s.after;
    return j;
  });
  const file = writeJobs(cwd, jobs);
  const r = await poolrun(['--reporter', 'ndjson', ...args, file], { cwd });
  const events = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown> & { event: string; id: string });
  return { r, events };
}

describe('after, end to end: random DAGs with random failures', () => {
  it.each([
    ['thread', 11],
    ['process', 23],
  ])(
    '%s mode: dependents of a failure cancelled naming it, the rest ran, starts after dependencies',
    async (mode, base) => {
      for (let seed = base; seed < base + 4; seed++) {
        const r = rng(seed);
        const specs = randomDag(r, 6 + Math.floor(r() * 10), 0.25);
        const want = expected(specs);
        const workers = String(1 + Math.floor(r() * 4));
        const { r: res, events } = await runDag(specs, ['-m', mode, '-w', workers], temp());
        const tag = `seed ${seed}: ${JSON.stringify(specs)}\n${res.stderr}`;
        const finished = new Map(events.filter((e) => e.event === 'finished').map((e) => [e.id, e]));
        expect(finished.size, tag).toBe(specs.length);
        for (const s of specs) {
          const f = finished.get(s.id)!;
          expect(f.status, `${tag}\n${s.id}`).toBe(want.get(s.id));
          if (want.get(s.id) === 'cancelled') {
            const msg = (f.error as { message: string }).message;
            const roots = failedAncestors(specs, s.id, want);
            expect(
              [...roots].some((x) => msg.includes(`"${x}"`)),
              `${tag}\n${msg}`,
            ).toBe(true);
            expect(events.some((e) => e.event === 'started' && e.id === s.id)).toBe(false);
          }
          // Its first start comes after the end of each job it runs after.
          const start = events.findIndex((e) => e.event === 'started' && e.id === s.id);
          for (const a of s.after) {
            const end = events.findIndex((e) => e.event === 'finished' && e.id === a);
            if (start !== -1) expect(end, `${tag}\n${s.id} started before ${a} finished`).toBeLessThan(start);
          }
        }
        const anyFailed = [...want.values()].some((v) => v !== 'succeeded');
        expect(res.code, tag).toBe(anyFailed ? 1 : 0);
        // Results in input order: the finished events' ids, sorted by index, are the specs' ids.
        const summary = events.at(-1)!;
        expect(summary.event).toBe('summary');
      }
    },
  );

  it('output stays in input order, whatever order dependencies impose', async () => {
    const cwd = temp();
    const file = writeJobs(cwd, [
      { id: 'late', after: 'early', run: 'echo late' },
      { run: 'echo middle' },
      { id: 'early', run: 'sleep 0.2; echo early' },
    ]);
    const r = await poolrun(['-q', '-w', '3', file], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('late\nmiddle\nearly\n');
  });

  it('a timed-out job cancels its dependents too, naming it; jobs outside the chain run', async () => {
    const cwd = temp();
    const file = writeJobs(cwd, [
      { id: 'slow', run: 'sleep 5', timeout: '200ms' },
      { id: 'next', after: 'slow', run: 'touch next' },
      { id: 'free', run: 'touch free' },
      { id: 'last', after: ['free', 'next'], run: 'touch last' },
    ]);
    const out = join(cwd, 'out.json');
    const r = await poolrun(['-q', '--json', out, file], { cwd });
    expect(r.code).toBe(1);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      results: Array<{ id: string; status: string; error: { message: string } | null }>;
    };
    const by = new Map(doc.results.map((x) => [x.id, x]));
    expect(by.get('slow')!.status).toBe('timed-out');
    expect(by.get('next')!.status).toBe('cancelled');
    expect(by.get('next')!.error!.message).toMatch(/"slow", which timed out/);
    expect(by.get('last')!.error!.message).toMatch(/"next".*"slow" timed out/);
    expect(existsSync(join(cwd, 'free'))).toBe(true);
    expect(existsSync(join(cwd, 'next'))).toBe(false);
    expect(existsSync(join(cwd, 'last'))).toBe(false);
    expect(doc.results.map((x) => x.id)).toEqual(['slow', 'next', 'free', 'last']);
  });
});

describe('bad after values: exit 2 before anything runs, located', () => {
  /** A cycle of random length among other jobs, in a JSON file and a JSONL file. */
  it('cycles of random length, unknown ids and self-references, in JSON and JSONL files', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const r = rng(seed);
      const len = 2 + Math.floor(r() * 4);
      const cwd = temp();
      const names = Array.from({ length: len }, (_, i) => `c${i}`);
      const jobs: Array<Record<string, unknown>> = [{ id: 'first', run: 'touch ran' }];
      for (let i = 0; i < len; i++)
        jobs.push({ id: names[i], after: [names[(i + 1) % len]], run: 'touch ran' });
      jobs.push({ id: 'lost', after: 'nobody', run: 'touch ran' });
      jobs.push({ id: 'me', after: ['first', 'me'], run: 'touch ran' });
      const json = join(cwd, 'jobs.json');
      writeFileSync(json, `[\n${jobs.map((j) => `  ${JSON.stringify(j)}`).join(',\n')}\n]\n`);
      const jsonl = join(cwd, 'jobs.jsonl');
      writeFileSync(jsonl, `${jobs.map((j) => JSON.stringify(j)).join('\n')}\n`);
      for (const [file, firstLine] of [
        [json, 3],
        [jsonl, 2],
      ] as const) {
        const res = await poolrun(['-q', file], { cwd });
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).not.toMatch(/\n\s+at /);
        const cycle = [...names, names[0]].map((n) => `"${n}"`).join(' → ');
        // The cycle, whole, at the `after` of its first job (line:column of the value).
        const col = (line: string) => line.indexOf('"after"') + '"after":'.length + 1;
        const lines = readFileSync(file, 'utf8').split('\n');
        const at = (n: number) => `${file}:${n}:${col(lines[n - 1]!) + (file === json ? 1 : 0)}`;
        expect(res.stderr).toContain(`${at(firstLine)}: jobs[1].after[0]: dependency cycle: ${cycle}`);
        expect(res.stderr).toMatch(new RegExp(`jobs\\[${len + 1}\\]\\.after: unknown id "nobody"`));
        expect(res.stderr).toMatch(
          new RegExp(`jobs\\[${len + 2}\\]\\.after\\[1\\]: a job cannot run after itself`),
        );
        expect(existsSync(join(cwd, 'ran'))).toBe(false);
      }
    }
  });

  it('from a stream, a job may name only jobs read before it', async () => {
    const cwd = temp();
    const lines = [
      JSON.stringify({ id: 'a', run: 'echo a' }),
      JSON.stringify({ id: 'b', after: 'a', run: 'echo b' }),
      JSON.stringify({ after: ['b', 'd'], run: 'echo c' }),
      JSON.stringify({ id: 'd', run: 'echo d' }),
    ];
    const r = await poolrun(['-q', '-'], { cwd, input: `${lines.join('\n')}\n` });
    // (execa's `input` is a pipe: a stream, not a file)
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /<stdin>:3:\d+: jobs\[2\]\.after\[1\]: unknown id "d".*only run after jobs read before it/,
    );
  });

  it.each([
    [{ run: 'x', after: '' }, 'after'],
    [{ run: 'x', after: [] as unknown[] }, ''],
    [{ run: 'x', after: [true] }, 'after[0]'],
    [{ run: 'x', after: { id: 'a' } }, 'after'],
    [{ run: 'x', after: 1.5 }, 'after'],
    [{ run: 'x', after: ['a\u0000b'] }, 'after[0]'],
  ])('after %j: exit 2 naming jobs[1].%s', async (job, path) => {
    const cwd = temp();
    const file = writeJobs(cwd, [{ id: 'a', run: 'touch ran' }, job]);
    const r = await poolrun(['-q', file], { cwd });
    if (path === '') {
      // An empty list: nothing to wait for.
      expect(r.code, r.stderr).toBe(1);
      return;
    }
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`jobs\\.json:\\d+:\\d+: jobs\\[1\\]\\.${path.replace(/[[\]]/g, '\\$&')}: `),
    );
    expect(existsSync(join(cwd, 'ran'))).toBe(false);
  });
});

describe('after with --dry-run, --resume, --report and --queue', () => {
  it('--dry-run prints jobs in start order, each that waits after a line naming what it waits for', async () => {
    const cwd = temp();
    const file = writeJobs(cwd, [
      { id: 'deploy', after: ['test', 'pkg'], run: 'echo deploy' },
      { id: 'test', after: 'build', run: 'echo test' },
      { id: 'build', run: 'echo build' },
      { id: 'pkg', after: 'build', run: 'echo pkg' },
    ]);
    const r = await poolrun(['--dry-run', file], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'echo build',
        '# "test" waits for "build"',
        'echo test',
        '# "pkg" waits for "build"',
        'echo pkg',
        '# "deploy" waits for "test", "pkg"',
        'echo deploy',
        '',
      ].join('\n'),
    );
  });

  it('--resume: a dependency done in an earlier run counts as succeeded', async () => {
    const cwd = temp();
    const log = join(cwd, 'log');
    const file = writeJobs(cwd, [
      { id: 'build', run: 'echo x >> builds' },
      { id: 'test', after: 'build', run: 'test -e ok' },
      { id: 'ship', after: 'test', run: 'touch shipped' },
    ]);
    const first = await poolrun(['-q', '--joblog', log, file], { cwd });
    expect(first.code).toBe(1);
    expect(existsSync(join(cwd, 'shipped'))).toBe(false);
    writeFileSync(join(cwd, 'ok'), '');
    const second = await poolrun(['-q', '--joblog', log, '--resume-failed', file], { cwd });
    expect(second.code, second.stderr).toBe(0);
    expect(readFileSync(join(cwd, 'builds'), 'utf8')).toBe('x\n');
    expect(existsSync(join(cwd, 'shipped'))).toBe(true);
  });

  it('--resume: a dependency the joblog records as failed does not count as succeeded', async () => {
    const cwd = temp();
    const log = join(cwd, 'log');
    const file = writeJobs(cwd, [
      { id: 'build', run: 'echo building; exit 1' },
      { id: 'test', after: 'build', run: 'touch tested' },
      { id: 'ship', after: 'test', run: 'touch shipped' },
      { id: 'other', run: 'true' },
    ]);
    expect((await poolrun(['-q', '--joblog', log, file], { cwd })).code).toBe(1);
    const out = join(cwd, 'r.json');
    const second = await poolrun(['-q', '--resume', '--joblog', log, '--json', out, file], { cwd });
    expect(second.code, second.stderr).toBe(1);
    expect(existsSync(join(cwd, 'tested'))).toBe(false);
    expect(existsSync(join(cwd, 'shipped'))).toBe(false);
    const { results } = JSON.parse(readFileSync(out, 'utf8')) as {
      results: Array<{ id: string; status: string; error: { message: string } }>;
    };
    const by = new Map(results.map((x) => [x.id, x]));
    expect(by.get('test')!.status).toBe('cancelled');
    expect(by.get('test')!.error.message).toBe('not run: it runs after "build", which failed');
    expect(by.get('ship')!.error.message).toMatch(/"test".*"build" failed/);
    // Its dry run says so too, and runs nothing.
    const dry = await poolrun(['--dry-run', '--resume', '--joblog', log, file], { cwd });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('# "test" not run: it runs after "build", which failed\n');
    expect(dry.stdout).not.toContain('touch tested');
    // --resume-failed runs it again, and then its dependents.
    const third = await poolrun(['-q', '--resume-failed', '--joblog', log, file], { cwd });
    expect(third.code).toBe(1);
    expect(existsSync(join(cwd, 'tested'))).toBe(false);
  });

  it('--dry-run --resume-failed: a job done earlier is not waited for', async () => {
    const cwd = temp();
    const log = join(cwd, 'log');
    const file = writeJobs(cwd, [
      { id: 'build', run: 'true' },
      { id: 'lint', run: 'test -e ok' },
      { id: 'test', after: ['build', 'lint'], run: 'echo test' },
    ]);
    expect((await poolrun(['-q', '--joblog', log, file], { cwd })).code).toBe(1);
    const dry = await poolrun(['--dry-run', '--resume-failed', '--joblog', log, file], { cwd });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(['test -e ok', '# "test" waits for "lint"', 'echo test', ''].join('\n'));
  });

  it('--report: a bar of a job that waited says how long and for which jobs', async () => {
    const { reportData, attempts } = await import('../browser.js');
    const cwd = temp();
    const file = writeJobs(cwd, [
      { id: 'a', run: 'sleep 0.3' },
      { id: 'b', after: 'a', run: 'true' },
    ]);
    const html = join(cwd, 'r.html');
    const r = await poolrun(['-q', '--report', html, file], { cwd });
    expect(r.code).toBe(0);
    const b = attempts(reportData(html)).find((x) => x.id === 'b')!;
    // Its first line (a shell job on the native spawn path adds its CPU and memory on the next).
    expect(b.note).toMatch(/^waited \d+(ms|\.\d+s) for "a"(\n|$)/);
  });

  it('a failure under --halt soon: held dependents end cancelled, exit 1', async () => {
    const cwd = temp();
    const file = writeJobs(cwd, [
      // a fails once c is running: c is let finish (--halt soon), b is never started.
      { id: 'a', run: 'until [ -e c-started ]; do sleep 0.01; done; exit 1' },
      { id: 'b', after: 'a', run: 'touch b' },
      { id: 'c', run: 'touch c-started; sleep 0.3' },
    ]);
    const out = join(cwd, 'o.json');
    const r = await poolrun(['-q', '-w', '2', '--halt', 'soon', '--json', out, file], { cwd });
    expect(r.code).toBe(1);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ id: string; status: string }> };
    expect(doc.results.map((x) => [x.id, x.status])).toEqual([
      ['a', 'failed'],
      ['b', 'cancelled'],
      ['c', 'succeeded'],
    ]);
  });

  it('--halt soon after a timeout: its dependents carry the dependency error in --json, JUnit, NDJSON and the summary', async () => {
    const cwd = temp();
    const file = writeJobs(cwd, [
      { id: 'slow', run: 'sleep 5', timeout: '0.3s' },
      { id: 'dep', after: 'slow', run: 'touch dep' },
      { id: 'dep2', after: 'dep', run: 'touch dep2' },
      { id: 'c', run: 'sleep 0.6' },
    ]);
    const out = join(cwd, 'o.json');
    const xml = join(cwd, 'j.xml');
    const r = await poolrun(['-w', '2', '--halt', 'soon', '--json', out, '--junit', xml, file], { cwd });
    expect(r.code).toBe(1);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      results: Array<{ id: string; status: string; error: { message: string } | null }>;
    };
    const by = new Map(doc.results.map((x) => [x.id, x]));
    expect(by.get('dep')!.status).toBe('cancelled');
    expect(by.get('dep')!.error?.message).toBe('not run: it runs after "slow", which timed out');
    expect(by.get('dep2')!.error?.message).toMatch(/"dep".*"slow" timed out/);
    const junit = readFileSync(xml, 'utf8');
    expect(junit).toContain(
      '<skipped message="cancelled: not run: it runs after &quot;slow&quot;, which timed out"/>',
    );
    expect(r.stderr).toContain('cancelled dep (not run: it runs after "slow", which timed out)');
    const nd = await poolrun(['-w', '2', '--halt', 'soon', '--reporter', 'ndjson', file], { cwd });
    const events = nd.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; id?: string; error?: { message: string } | null });
    const fin = events.find((e) => e.event === 'finished' && e.id === 'dep');
    expect(fin?.error?.message ?? JSON.stringify(fin)).toBe('not run: it runs after "slow", which timed out');
  });

  it('thousands of jobs, each after the one before (a chain longer than the read window) in a file', async () => {
    const cwd = temp();
    const n = 1300;
    // Each names the next one in the file: every job waits for a job not read yet.
    const jobs = Array.from({ length: n }, (_, i) =>
      i === n - 1 ? { id: `j${i}`, run: 'true' } : { id: `j${i}`, after: `j${i + 1}`, run: 'true' },
    );
    const file = join(cwd, 'chain.jsonl');
    writeFileSync(file, jobs.map((j) => JSON.stringify(j)).join('\n'));
    const r = await poolrun(['-q', '-w', '4', file], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
  });
});

describe('after with --queue (a producer sends a job once its dependencies succeeded)', () => {
  let redis: RedisServer | undefined;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await redis?.stop();
  });

  it('a chain runs in order on the workers; the dependents of a failure are cancelled naming it', async () => {
    workers.push(await startWorker(redis!.url, ['-w', '4']));
    const cwd = temp();
    const log = join(cwd, 'log');
    const file = writeJobs(cwd, [
      { id: 'c', after: 'b', run: `echo c >> ${log}` },
      { id: 'a', run: `sleep 0.3; echo a >> ${log}` },
      { id: 'b', after: 'a', run: `sleep 0.1; echo b >> ${log}` },
      { id: 'bad', run: 'exit 4' },
      { id: 'never', after: ['a', 'bad'], run: `touch ${join(cwd, 'never-ran')}` },
    ]);
    const out = join(cwd, 'o.json');
    const r = await poolrun(['-q', '--queue', redis!.url, '--json', out, file], { cwd });
    expect(r.code, r.stderr).toBe(1);
    expect(readFileSync(log, 'utf8')).toBe('a\nb\nc\n');
    expect(existsSync(join(cwd, 'never-ran'))).toBe(false);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      results: Array<{ id: string; status: string; error: { message: string } | null }>;
    };
    expect(doc.results.map((x) => [x.id, x.status])).toEqual([
      ['c', 'succeeded'],
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['bad', 'failed'],
      ['never', 'cancelled'],
    ]);
    expect(doc.results[4]!.error!.message).toMatch(/"bad", which failed/);
  });

  it('--delay holds the producer too: starts on the workers at least DUR apart', async () => {
    if (!workers.length) workers.push(await startWorker(redis!.url, ['-w', '4']));
    const cwd = temp();
    const file = writeJobs(cwd, ['true', 'true', 'true']);
    const r = await poolrun(['--reporter', 'ndjson', '--queue', redis!.url, '--delay', '200ms', file], {
      cwd,
    });
    expect(r.code, r.stderr).toBe(0);
    const starts = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; time: string })
      .filter((e) => e.event === 'started')
      .map((e) => Date.parse(e.time));
    expect(starts).toHaveLength(3);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(200);
  });
});
