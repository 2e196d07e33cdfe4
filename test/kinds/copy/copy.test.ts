import { afterEach, describe, expect, it } from 'vitest';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  BIN,
  packageCopy,
  poolrun,
  poolrunAt,
  readJson,
  tempDir,
  type ResultsDoc,
  writeJobs,
} from '../../helpers.js';

const modes = ['thread', 'process'] as const;
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
function temp(): string {
  const t = tempDir();
  // Copies of read-only folders are read-only: a non-root user must open them up before removing them.
  cleanups.push(() => {
    spawnSync('chmod', ['-R', 'u+rwX', t.dir]);
    t.cleanup();
  });
  return t.dir;
}
const jobFile = writeJobs;
type Result = ResultsDoc['results'][number] & { bytes?: number };
function byId(doc: ResultsDoc): Record<string, Result> {
  return Object.fromEntries(doc.results.map((r) => [r.id, r]));
}
const OLD = new Date('2021-03-04T05:06:07Z');

/** src/ with a file, a read-only file, a nested folder (read-only), a relative symlink and an empty folder. */
function makeTree(root: string): void {
  mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'a.txt'), 'alpha\n');
  writeFileSync(join(root, 'script.sh'), '#!/bin/sh\necho hi\n', { mode: 0o750 });
  writeFileSync(join(root, 'sub', 'b.bin'), Buffer.alloc(200_000, 7));
  writeFileSync(join(root, 'sub', 'deeper', 'c.txt'), 'gamma\n', { mode: 0o444 });
  symlinkSync('../a.txt', join(root, 'sub', 'link-to-a'));
  for (const p of ['a.txt', 'script.sh', 'sub/b.bin', 'sub/deeper/c.txt', 'sub/deeper', 'empty'])
    utimesSync(join(root, p), OLD, OLD);
  chmodSync(join(root, 'sub', 'deeper'), 0o555);
  utimesSync(join(root, 'sub'), OLD, OLD);
}

function expectSameTree(src: string, dst: string): void {
  const a = readdirSync(src).sort();
  expect(readdirSync(dst).sort()).toEqual(a);
  for (const name of a) {
    const s = lstatSync(join(src, name));
    const d = lstatSync(join(dst, name));
    expect(d.mode, name).toBe(s.mode);
    if (s.isSymbolicLink()) {
      expect(readlinkSync(join(dst, name))).toBe(readlinkSync(join(src, name)));
      continue;
    }
    expect(d.mtimeMs, name).toBe(s.mtimeMs);
    if (s.isDirectory()) expectSameTree(join(src, name), join(dst, name));
    else expect(readFileSync(join(dst, name)).equals(readFileSync(join(src, name))), name).toBe(true);
  }
}

describe.each(modes)('copy (%s mode)', (mode) => {
  it('times kept to the microsecond, never rounded into a later second (file, folder, symlink in a tree)', async () => {
    // Acceptance probe: x.9996 s became x+1 s (a Stats Date is rounded to the millisecond): newer than its source.
    const dir = temp();
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'g'), 'z\n');
    writeFileSync(join(dir, 'd', 'f'), 'y\n');
    symlinkSync('f', join(dir, 'd', 'l'));
    const touch = (args: string[]) => expect(spawnSync('touch', args, { cwd: dir }).status).toBe(0);
    touch(['-d', '2005-06-07 08:09:10.999600000', 'g']);
    touch(['-d', '2005-06-07 08:09:10.123456789', 'd/f']);
    touch(['-h', '-d', '2001-01-01 00:00:00.999999999', 'd/l']);
    touch(['-d', '2003-03-03 03:03:03.999999500', 'd']);
    const file = jobFile(dir, [{ copy: { from: 'g', to: 'og' } }, { copy: { from: 'd', to: 'od' } }]);
    const r = await poolrun(['-q', '-m', mode, file]);
    expect(r.code, r.stderr).toBe(0);
    for (const [a, b] of [
      ['g', 'og'],
      ['d/f', 'od/f'],
      ['d/l', 'od/l'],
      ['d', 'od'],
    ] as const) {
      const s = lstatSync(join(dir, a), { bigint: true }).mtimeNs;
      const d = lstatSync(join(dir, b), { bigint: true }).mtimeNs;
      expect(d / 1_000_000_000n, b).toBe(s / 1_000_000_000n);
      expect(s - d >= 0n && s - d < 2000n, `${b}: ${s} -> ${d}`).toBe(true);
    }
  });

  it('times before 1970 kept too, to the microsecond (Node takes a negative time for "now")', async () => {
    // Fresh-eyes probe: every copy of a file dated 1965 was dated the moment of the run, silently.
    const dir = temp();
    const times = [
      '1965-03-04 05:06:07.123456789',
      '1969-12-31 23:59:59.5',
      '1969-12-31 23:59:59.999999999',
      '1970-01-01 00:00:00',
      '1901-12-14 20:45:52.000000001',
      '1960-02-29 12:00:00.000001',
    ];
    const touch = (args: string[]) => expect(spawnSync('touch', args, { cwd: dir }).status).toBe(0);
    const pairs: Array<[string, string]> = [];
    const jobs: unknown[] = [];
    for (const [i, t] of times.entries()) {
      mkdirSync(join(dir, `d${i}`));
      writeFileSync(join(dir, `d${i}`, 'f'), 'y\n');
      writeFileSync(join(dir, `g${i}`), 'z\n');
      symlinkSync('f', join(dir, `d${i}`, 'l'));
      for (const p of [`g${i}`, `d${i}/f`, `d${i}`]) touch(['-d', `${t} UTC`, p]);
      touch(['-h', '-d', `${t} UTC`, `d${i}/l`]);
      jobs.push({ copy: { from: `g${i}`, to: `og${i}` } }, { copy: { from: `d${i}`, to: `od${i}` } });
      pairs.push([`g${i}`, `og${i}`], [`d${i}/f`, `od${i}/f`], [`d${i}/l`, `od${i}/l`], [`d${i}`, `od${i}`]);
    }
    const r = await poolrun(['-q', '-m', mode, jobFile(dir, jobs)]);
    expect(r.code, r.stderr).toBe(0);
    for (const [a, b] of pairs) {
      const s = lstatSync(join(dir, a), { bigint: true }).mtimeNs;
      const d = lstatSync(join(dir, b), { bigint: true }).mtimeNs;
      expect(s - d >= 0n && s - d < 1000n, `${b}: ${s} -> ${d}`).toBe(true);
    }
  });

  it('a file and a tree: contents, modes, mtimes and symlinks kept; bytes reported; nothing else left', async () => {
    const dir = temp();
    makeTree(join(dir, 'src'));
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'file', copy: { from: 'src/script.sh', to: 'dst/one/script.sh' } },
      { id: 'tree', copy: { from: 'src', to: 'dst/tree' } },
    ]);
    const before = Date.now();
    const r = await poolrun(['-w', '2', '-m', mode, '--json', json, file]);
    const after = Date.now();
    expect(r.stderr).toContain('2 succeeded');
    expect(r.code, r.stderr).toBe(0);
    const res = byId(readJson(json));
    expect(res.file!.bytes).toBe(statSync(join(dir, 'src', 'script.sh')).size);
    expect(res.tree!.bytes).toBe(6 + 18 + 200_000 + 6);
    // When it ran, by the clock: started during the run, and ended before the run did.
    const started = Date.parse(res.tree!.startedAt!);
    expect(started).toBeGreaterThanOrEqual(before);
    expect(res.tree!.durationMs).toBeGreaterThanOrEqual(0);
    expect(started + res.tree!.durationMs!).toBeLessThanOrEqual(after);

    const one = join(dir, 'dst', 'one', 'script.sh');
    expect(readFileSync(one, 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(statSync(one).mode & 0o777).toBe(0o750);
    expect(statSync(one).mtimeMs).toBe(OLD.getTime());
    expectSameTree(join(dir, 'src'), join(dir, 'dst', 'tree'));
    expect(statSync(join(dir, 'dst', 'tree', 'sub')).mtimeMs).toBe(OLD.getTime());
    // No temp file or folder beside the destinations.
    expect(readdirSync(join(dir, 'dst')).sort()).toEqual(['one', 'tree']);
    expect(readdirSync(join(dir, 'dst', 'one'))).toEqual(['script.sh']);
  });

  it('an existing destination: refused and untouched without overwrite, replaced with it', async () => {
    const dir = temp();
    makeTree(join(dir, 'src'));
    mkdirSync(join(dir, 'dst', 'tree-keep'), { recursive: true });
    mkdirSync(join(dir, 'dst', 'tree-replace', 'stale'), { recursive: true });
    mkdirSync(join(dir, 'dst', 'a-folder'), { recursive: true });
    writeFileSync(join(dir, 'dst', 'tree-keep', 'mine.txt'), 'mine');
    writeFileSync(join(dir, 'dst', 'keep.txt'), 'mine');
    writeFileSync(join(dir, 'dst', 'replace.txt'), 'mine');
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'keep', copy: { from: 'src/a.txt', to: 'dst/keep.txt' } },
      { id: 'replace', copy: { from: 'src/a.txt', to: 'dst/replace.txt', overwrite: true } },
      { id: 'tree-keep', copy: { from: 'src', to: 'dst/tree-keep' } },
      { id: 'tree-replace', copy: { from: 'src', to: 'dst/tree-replace', overwrite: true } },
      // (Another job's destination would be refused before the run: two jobs may not write one place.)
      { id: 'file-over-dir', copy: { from: 'src/a.txt', to: 'dst/a-folder', overwrite: true } },
    ]);
    const r = await poolrun(['-m', mode, '--json', json, file]);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    const d = (p: string) => join(dir, 'dst', p);
    expect(res.keep!.status).toBe('failed');
    expect(res.keep!.error!.message).toBe(
      `destination exists: ${d('keep.txt')} (set "overwrite": true to replace it)`,
    );
    expect(readFileSync(d('keep.txt'), 'utf8')).toBe('mine');
    expect(res.replace!.status).toBe('succeeded');
    expect(readFileSync(d('replace.txt'), 'utf8')).toBe('alpha\n');

    expect(res['tree-keep']!.error!.message).toBe(
      `destination exists: ${d('tree-keep')} (set "overwrite": true to replace it)`,
    );
    expect(readdirSync(d('tree-keep'))).toEqual(['mine.txt']);
    expect(res['tree-replace']!.status).toBe('succeeded');
    expectSameTree(join(dir, 'src'), d('tree-replace'));

    expect(res['file-over-dir']!.error!.message).toBe(
      `destination is a folder: ${d('a-folder')} (not replaced by a file)`,
    );
    expect(readdirSync(join(dir, 'dst')).sort()).toEqual([
      'a-folder',
      'keep.txt',
      'replace.txt',
      'tree-keep',
      'tree-replace',
    ]);
    expect(r.stderr).toMatch(/failed keep \(worker \d, [^)]*destination exists: /);
  });

  it('replacing a file or folder never widens its permissions: the mode is what source and destination both allow', async () => {
    const dir = temp();
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'dst'));
    // Each pair [source mode, destination mode]: generated over the permission bits, set-id and sticky included.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const pairs = Array.from({ length: 24 }, () => [next() % 0o10000, next() % 0o10000] as const);
    pairs.push([0o666, 0o600], [0o755, 0o644], [0o644, 0o755], [0o777, 0o700]);
    const jobs: object[] = [];
    pairs.forEach(([sm, dm], k) => {
      // Owner read/write kept on both so the test can read and replace them; folders owner rwx.
      const fileS = sm | 0o600;
      const fileD = dm | 0o600;
      writeFileSync(join(dir, 'src', `f${k}`), `new ${k}`);
      chmodSync(join(dir, 'src', `f${k}`), fileS & ~0o6000);
      writeFileSync(join(dir, 'dst', `f${k}`), 'old');
      chmodSync(join(dir, 'dst', `f${k}`), fileD & ~0o6000);
      mkdirSync(join(dir, 'src', `d${k}`));
      writeFileSync(join(dir, 'src', `d${k}`, 'inner'), 'x');
      chmodSync(join(dir, 'src', `d${k}`), (sm | 0o700) & 0o1777);
      mkdirSync(join(dir, 'dst', `d${k}`));
      chmodSync(join(dir, 'dst', `d${k}`), (dm | 0o700) & 0o1777);
      jobs.push({ id: `f${k}`, copy: { from: `src/f${k}`, to: `dst/f${k}`, overwrite: true } });
      jobs.push({ id: `d${k}`, copy: { from: `src/d${k}`, to: `dst/d${k}`, overwrite: true } });
      jobs.push({ id: `n${k}`, copy: { from: `src/f${k}`, to: `dst/new${k}` } });
    });
    const r = await poolrun(['-m', mode, jobFile(dir, jobs)], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const bad: string[] = [];
    const m = (p: string) => statSync(join(dir, p)).mode & 0o7777;
    pairs.forEach(([sm, dm], k) => {
      const want = { f: (sm | 0o600) & (dm | 0o600) & 0o1777, d: (sm | 0o700) & (dm | 0o700) & 0o1777 };
      if (m(`dst/f${k}`) !== want.f)
        bad.push(`f${k}: ${m(`dst/f${k}`).toString(8)} not ${want.f.toString(8)}`);
      if (m(`dst/d${k}`) !== want.d)
        bad.push(`d${k}: ${m(`dst/d${k}`).toString(8)} not ${want.d.toString(8)}`);
      // A new file keeps its source's mode, as before (cp -p).
      if (m(`dst/new${k}`) !== m(`src/f${k}`)) bad.push(`new${k}: ${m(`dst/new${k}`).toString(8)}`);
      expect(readFileSync(join(dir, 'dst', `f${k}`), 'utf8')).toBe(`new ${k}`);
    });
    expect(bad).toEqual([]);
  });

  it('permission denied (source unreadable, destination folder read-only): failed, clear message, nothing left', async () => {
    const dir = temp();
    // As root every permission check passes: run poolrun as `nobody` instead, from a copy of the package it
    // can read (the checkout may be in a folder closed to it).
    const asRoot = process.getuid?.() === 0;
    const asUser = asRoot ? { uid: 65534, gid: 65534 } : {};
    const bin = asRoot ? packageCopy(temp()) : BIN;
    chmodSync(dir, 0o755);
    makeTree(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'secret.txt'), 'no', { mode: 0o600 });
    mkdirSync(join(dir, 'src', 'closed'), { mode: 0o700 });
    writeFileSync(join(dir, 'src', 'closed', 'x'), 'x');
    chmodSync(join(dir, 'src', 'secret.txt'), 0o000);
    chmodSync(join(dir, 'src', 'closed'), 0o000);
    mkdirSync(join(dir, 'ro'), { mode: 0o555 });
    mkdirSync(join(dir, 'w'), { mode: 0o777 });
    chmodSync(join(dir, 'w'), 0o777);
    const json = join(dir, 'w', 'out.json');
    const file = jobFile(dir, [
      { id: 'unreadable', copy: { from: 'src/secret.txt', to: 'w/secret.txt' } },
      { id: 'unwritable', copy: { from: 'src/a.txt', to: 'ro/a.txt' } },
      { id: 'tree-unwritable', copy: { from: 'src/sub', to: 'ro/sub' } },
      { id: 'tree-unreadable', copy: { from: 'src', to: 'w/tree' } },
    ]);
    const r = await poolrunAt(bin, ['-m', mode, '--json', json, file], asUser);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    for (const x of Object.values(res)) expect(x.status, x.id).toBe('failed');
    expect(res.unreadable!.error!.message).toBe(
      `cannot read ${join(dir, 'src', 'secret.txt')}: permission denied (EACCES)`,
    );
    expect(res.unwritable!.error!.message).toBe(
      `cannot write ${join(dir, 'ro', 'a.txt')}: permission denied (EACCES)`,
    );
    expect(res['tree-unwritable']!.error!.message).toBe(
      `cannot create a folder in ${join(dir, 'ro')}: permission denied (EACCES)`,
    );
    expect(res['tree-unreadable']!.error!.message).toBe(
      `cannot read the folder ${join(dir, 'src', 'closed')}: permission denied (EACCES)`,
    );
    expect(r.stderr).toMatch(/failed unreadable \(worker \d, [^)]*permission denied/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readdirSync(join(dir, 'ro'))).toEqual([]);
    expect(readdirSync(join(dir, 'w'))).toEqual(['out.json']);
  });

  it('a missing source and a folder copied into itself: failed with the reason', async () => {
    const dir = temp();
    makeTree(join(dir, 'src'));
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'missing', copy: { from: 'nope.txt', to: 'x.txt' } },
      { id: 'itself', copy: { from: 'src', to: 'src/sub/copy' } },
    ]);
    const r = await poolrun(['-m', mode, '--json', json, file]);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    expect(res.missing!.error!.message).toBe(`source not found: ${join(dir, 'nope.txt')}`);
    expect(res.itself!.error!.message).toBe(
      `cannot copy the folder ${join(dir, 'src')} into itself (${join(dir, 'src', 'sub', 'copy')})`,
    );
    expect(existsSync(join(dir, 'x.txt'))).toBe(false);
    expect(existsSync(join(dir, 'src', 'sub', 'copy'))).toBe(false);
  });

  it('--timeout stops a tree copy cooperatively: timed-out, nothing at `to`, temp removed, worker kept', async () => {
    const dir = temp();
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'small.txt'), 'small\n');
    // Many small files (each copied, synced and timed on its own), not large ones: a reflink copies any size in
    // no time. A tree done within the timeout on a fast machine is made twice as large and copied again.
    let files = 0;
    const tried: number[] = [];
    for (let round = 0; round < 6; round++) {
      for (const want = 500 << round; files < want; files++) {
        const sub = join(dir, 'src', `d${files % 8}`);
        if (files < 8) mkdirSync(sub);
        writeFileSync(join(sub, `f${files}.txt`), `file ${files}\n`);
      }
      rmSync(join(dir, 'dst'), { recursive: true, force: true });
      const json = join(dir, 'out.json');
      const file = jobFile(dir, [
        { id: 'slow', timeout: '100ms', copy: { from: 'src', to: 'dst/tree' } },
        { id: 'next', copy: { from: 'src/small.txt', to: 'dst/small.txt' } },
      ]);
      // A kernel copy in flight cannot be interrupted: a long --kill-after lets it end and the job stop by itself.
      const r = await poolrun(['-w', '1', '-m', mode, '--kill-after', '60s', '--json', json, file]);
      const res = byId(readJson(json));
      if (res.slow!.status === 'succeeded') {
        tried.push(files);
        continue;
      }
      expect(r.code, r.stderr).toBe(1);
      expect(res.slow!.status).toBe('timed-out');
      expect(res.slow!.error!.message).toBe('timed out after 100ms');
      expect(res.next!.status).toBe('succeeded');
      // The same worker ran the next job: the copy stopped by itself, within --kill-after.
      expect(res.next!.pid).toBe(res.slow!.pid);
      expect(res.next!.threadId).toBe(res.slow!.threadId);
      expect(readdirSync(join(dir, 'dst'))).toEqual(['small.txt']);
      return;
    }
    throw new Error(`every tree copy (${tried.join(', ')} files) was done within its 100ms timeout`);
  });
});
