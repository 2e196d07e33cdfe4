import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, FIXTURES, poolrun, readJson, tempDir, track, waitFor } from '../../helpers.js';

const tasks = join(FIXTURES, 'tasks.mjs');

describe.each(['thread', 'process'])('poolrun --call (%s mode)', (mode) => {
  it('a module not found is named alone (not poolrun’s own file as its importer); one that imports a missing one names itself', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'hasdep.mjs'), 'import "./missing-dep.mjs";\nexport const f = () => 1;\n');
      const json = join(t.dir, 'r.json');
      // From a job file: the module is looked for when the call runs (`--call` checks its file first: exit 2).
      const jobs = join(t.dir, 'jobs.json');
      writeFileSync(
        jobs,
        JSON.stringify([{ call: { module: join(t.dir, 'nomod.mjs'), export: 'f', args: [1] } }]),
      );
      const r = await poolrun(['-m', mode, '--json', json, jobs]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Cannot find module '${join(t.dir, 'nomod.mjs')}')`);
      expect(readJson(json).results[0]!.error!.message).toBe(
        `Cannot find module '${join(t.dir, 'nomod.mjs')}'`,
      );
      expect(r.stderr).not.toMatch(/imported from .*(dist|bundle)/);
      const d = await poolrun(['-m', mode, '--call', `${join(t.dir, 'hasdep.mjs')}#f`, '1']);
      expect(d.stderr).toContain(
        `Cannot find module '${join(t.dir, 'missing-dep.mjs')}' imported from ${join(t.dir, 'hasdep.mjs')}`,
      );
    } finally {
      t.cleanup();
    }
  });

  it('a job file module may be a node: or data: URL, imported as it is (README)', async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, 'jobs.json');
      writeFileSync(
        file,
        JSON.stringify([
          { call: { module: 'node:path', export: 'basename', args: ['/a/b.txt'] } },
          { call: { module: 'data:text/javascript,export default (x) => x * 2', args: [21] } },
        ]),
      );
      const r = await poolrun(['-q', '-m', mode, file]);
      expect([r.code, r.stdout], r.stderr).toEqual([0, '"b.txt"\n42\n']);
    } finally {
      t.cleanup();
    }
  });

  it('--call MODULE#square 1..10 prints one JSON value per line, in input order', async () => {
    const args = Array.from({ length: 10 }, (_, i) => String(i + 1));
    const r = await poolrun(['-q', '-m', mode, '-w', '4', '--call', `${tasks}#square`, ...args]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(args.map((a) => `${Number(a) ** 2}\n`).join(''));
  });

  it('the seed say_hi for 9 guests: values on stdout, greetings on stderr, several workers', async () => {
    const guests = Array.from({ length: 9 }, (_, i) => `guest${i + 1}`);
    const meet = tempDir();
    const r = await poolrun(['-q', '-m', mode, '-w', '10', '--call', `${tasks}#sayHiMeeting`, ...guests], {
      env: { TEST_MEET_DIR: meet.dir },
    });
    meet.cleanup();
    expect(r.code).toBe(0);
    const values = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: string; pid: number; threadId: number });
    expect(values.map((v) => v.line.split(' ')[1])).toEqual(guests);
    const where = new Set(values.map((v) => (mode === 'thread' ? v.threadId : v.pid)));
    expect(where.size).toBeGreaterThan(1);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('hi ')),
    ).toHaveLength(9);
  });

  it('arguments are JSON where they parse, strings otherwise', async () => {
    const r = await poolrun(['-q', '-m', mode, '--call', `${tasks}#add`, '[1,2]', 'x']);
    // add(a, b) gets one argument per item: the array, or the string.
    expect(r.stdout).toBe('"1,2undefined"\n"xundefined"\n');
  });

  it('an argument with a number past a double (1e999: Infinity) is exit 2 at its place; nothing runs', async () => {
    const r = await poolrun(['-q', '-m', mode, '--call', `${tasks}#add`, '1', '{"a":[2,-1e999]}']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--call: argument 2.a[1]: a number beyond what a double holds');
  });

  it('without arguments it reads one per stdin line as it arrives (-0: per NUL item); empty lines make no call', async () => {
    const r = await poolrun(['-q', '-m', mode, '-w', '2', '--call', `${tasks}#square`], {
      input: '1\n2\n\n3\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1\n4\n9\n');
    const z = await poolrun(['-q', '-m', mode, '-0', '--call', `${tasks}#add`], {
      input: Buffer.from('a b\nc\0{"x":1}\0'),
    });
    expect(z.code).toBe(0);
    expect(z.stdout).toBe('"a b\\ncundefined"\n"[object Object]undefined"\n');
    // CRLF lines and a byte-order mark, as a job file takes them (a Windows-made list).
    const crlf = await poolrun(['-q', '-m', mode, '--call', `${tasks}#shout`], {
      input: Buffer.from('\ufeffabc\r\n"xy"\r\n', 'utf8'),
    });
    expect(crlf).toMatchObject({ code: 0, stdout: '3\n2\n' });
    const format = await poolrun(['-m', mode, '--format', 'jsonl', '--call', `${tasks}#square`], {
      input: '1\n',
    });
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/^poolrun: --format is for job files; --call reads one argument per line/);
    const none = await poolrun(['-q', '-m', mode, '--call', `${tasks}#square`], { input: '' });
    expect(none).toMatchObject({ code: 0, stdout: '' });
  });

  it('a stdin line past a double or not UTF-8 is exit 2 at its line: nothing runs if it came with the first lines read', async () => {
    const inf = await poolrun(['-q', '-m', mode, '--call', `${tasks}#square`], {
      input: '1\n2\n[1e999]\n4\n',
    });
    expect(inf).toMatchObject({ code: 2, stdout: '' });
    expect(inf.stderr).toBe(
      'poolrun: <stdin>:3: value[0]: a number beyond what a double holds (JSON.parse makes it Infinity, which a result cannot show): write it as a string\n',
    );
    const bytes = await poolrun(['-q', '-m', mode, '--call', `${tasks}#shout`], {
      input: Buffer.from([0x61, 0x0a, 0x62, 0xff, 0x0a]),
    });
    expect(bytes).toMatchObject({ code: 2, stdout: '' });
    expect(bytes.stderr).toMatch(/^poolrun: <stdin>:2: not UTF-8[^\n]*\n$/);
  });

  it('a bad stdin line after calls were submitted stops the run there: what ran is printed, nothing after it', async () => {
    const child = track(
      execa(process.execPath, [BIN, '-q', '-m', mode, '--call', `${tasks}#square`], { reject: false }),
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.write('1\n2\n');
    // Both calls are done (their values printed) before the bad line is written: they were submitted.
    expect(await waitFor(() => out === '1\n4\n', 30_000), out).toBe(true);
    child.stdin.end('{"a":1,"a":2}\n5\n');
    const r = await child;
    expect(r.exitCode).toBe(2);
    expect(out).toBe('1\n4\n');
    expect(r.stderr).toContain(
      '<stdin>:3:8: duplicate key "a" (first at <stdin>:3:2; JSON would silently keep only the last) (input is read as it arrives: 2 jobs before it had been submitted; the run was stopped)',
    );
  });

  it('a return value nested past 1000 levels, or one whose getter throws, fails its call alike in both modes; the run ends', async () => {
    // Acceptance probe: in thread mode a value nested 4000 deep was posted but could not be read by the main
    // thread (its message was lost: the run waited for good), 200000 deep took minutes.
    const t = tempDir();
    try {
      writeFileSync(
        join(t.dir, 'deep.mjs'),
        'export function f(n) { let o = 1; for (let i = 0; i < n; i++) o = n % 2 ? { a: o } : [o]; return o; }\n' +
          "export function g() { return { get boom() { throw new Error('getter boom'); } }; }\n",
      );
      const json = join(t.dir, 'r.json');
      const call = (target: string, ...args: string[]) =>
        poolrun([
          '-q',
          '-m',
          mode,
          '--json',
          json,
          '--call',
          `${join(t.dir, 'deep.mjs')}#${target}`,
          ...args,
        ]);
      const r = await call('f', '1000', '1001', '5000', '200000');
      expect(r.code, r.stderr).toBe(1);
      const results = readJson(json).results;
      expect(results.map((x) => x.status)).toEqual(['succeeded', 'failed', 'failed', 'failed']);
      for (const x of results.slice(1))
        expect(x.error).toMatchObject({
          name: 'DataCloneError',
          message: 'the return value cannot be sent to the main thread: it is nested deeper than 1000 levels',
        });
      expect(r.stdout.split('\n')[0]).toMatch(/^(\[){1000}1(\]){1000}$/);
      const g = await call('g', '1', '2');
      expect(g.code).toBe(1);
      // The worker lives on: both calls fail the same way, neither as a crash.
      for (const x of readJson(json).results) {
        expect(x.error?.name).toBe('DataCloneError');
        expect(x.error?.message).toContain('getter boom');
      }
    } finally {
      t.cleanup();
    }
  });

  it('a call that crashes its worker fails alone; the other 20 succeed; exit 1', async () => {
    const dir = tempDir();
    try {
      const jobs = [
        ...Array.from({ length: 10 }, (_, i) => ({
          id: `a${i}`,
          call: { module: tasks, export: 'sleepAsync', args: [30] },
        })),
        { id: 'crash', call: { module: tasks, export: 'exitWorker', args: [3] } },
        ...Array.from({ length: 10 }, (_, i) => ({
          id: `b${i}`,
          call: { module: tasks, export: 'square', args: [i] },
        })),
      ];
      const file = join(dir.dir, 'jobs.json');
      writeFileSync(file, JSON.stringify(jobs));
      const json = join(dir.dir, 'out.json');
      const r = await poolrun(['-m', mode, '-w', '3', '--json', json, file]);
      expect(r.code).toBe(1);
      const doc = readJson(json);
      expect(doc.summary).toMatchObject({ total: 21, succeeded: 20, failed: 1 });
      const crash = doc.results.find((x) => x.id === 'crash')!;
      expect(crash.status).toBe('failed');
      expect(crash.error?.name).toBe('BrokenWorkerError');
      expect(crash.error?.message).toMatch(/worker \d+ \(pid \d+\) died while running this job: exit code 3/);
      expect(r.stderr).toMatch(/failed crash .*died while running this job/);
    } finally {
      dir.cleanup();
    }
  });
});

describe('--call usage errors', () => {
  it('a target without an export name is a usage error', async () => {
    const r = await poolrun(['--call', `${tasks}#`, '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--call: expected MODULE#EXPORT/);
  });
});
