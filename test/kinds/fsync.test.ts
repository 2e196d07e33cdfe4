/**
 * Durability is a choice (issue 15): copies and downloads are atomic always, synced to disk only with the job
 * field `"fsync": true` or `--fsync`. What is synced is observed from outside, with strace counting the fsync
 * and fdatasync calls of the whole poolrun process tree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, poolrun, rng, track, useTempDirs, writeJobs } from '../helpers.js';
import { bytes, startServer, type TestServer } from '../download-server.js';

const temp = useTempDirs();

/** strace can trace here (installed, and ptrace allowed in this container). */
const canTrace =
  spawnSync('strace', ['-f', '-qq', '-e', 'trace=fsync', '-o', '/dev/null', 'true']).status === 0;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

interface Syncs {
  fsync: number;
  fdatasync: number;
}

/** Runs poolrun under strace; returns its exit code, stderr and the sync calls of its whole tree. */
async function tracedRun(
  dir: string,
  args: string[],
): Promise<{ code: number; stderr: string; syncs: Syncs }> {
  const log = join(dir, 'strace.log');
  const r = await track(
    execa('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', log, process.execPath, BIN, ...args], {
      reject: false,
      timeout: 60_000,
      env: { NO_COLOR: '1' },
    }),
  );
  const lines = readFileSync(log, 'utf8').split('\n');
  // A call interrupted by another thread's is logged as "<unfinished ...>" and "<... resumed>": count the first.
  const count = (name: string) => lines.filter((l) => new RegExp(`\\b${name}\\(`).test(l)).length;
  return {
    code: r.exitCode ?? -1,
    stderr: String(r.stderr),
    syncs: { fsync: count('fsync'), fdatasync: count('fdatasync') },
  };
}

/** A folder tree of `files` files spread over `dirs` sub-folders (plus the root); returns the file count. */
function makeTree(root: string, dirs: number, files: number, r: () => number): void {
  mkdirSync(root);
  const folders = [root];
  for (let i = 0; i < dirs; i++) {
    const parent = folders[Math.floor(r() * folders.length)]!;
    const d = join(parent, `d${i}`);
    mkdirSync(d);
    folders.push(d);
  }
  for (let i = 0; i < files; i++)
    writeFileSync(join(folders[Math.floor(r() * folders.length)]!, `f${i}.txt`), `file ${i}\n`.repeat(i + 1));
}

function listTree(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).sort();
}

describe.skipIf(!canTrace)('fsync: off by default, on with the field or --fsync', () => {
  // Each case: a few jobs of each kind, each with or without the field, run with or without --fsync; the syncs
  // must be exactly those of the jobs that asked (a file's data: one fdatasync; a folder: one fsync).
  for (let seed = 1; seed <= 6; seed++) {
    it(`case ${seed}`, async () => {
      const r = rng(seed);
      const dir = temp();
      const flag = seed % 2 === 0;
      const mode = seed % 3 === 0 ? 'process' : 'thread';
      const jobs: unknown[] = [];
      const expected: Syncs = { fsync: 0, fdatasync: 0 };
      const checks: Array<() => void> = [];
      // The destinations' folders exist: which job makes a missing one first is a race (see the next describe).
      mkdirSync(join(dir, 'out', 'sub0'), { recursive: true });
      mkdirSync(join(dir, 'out', 'sub1'), { recursive: true });
      const n = 2 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) {
        const field = r() < 0.5 ? true : r() < 0.5 ? false : undefined;
        const durable = flag || field === true;
        const extra = field === undefined ? {} : { fsync: field };
        const kind = ['file', 'tree', 'download'][Math.floor(r() * 3)]!;
        const to = join(dir, 'out', `sub${i % 2}`, `dest${i}`);
        if (kind === 'file') {
          const from = join(dir, `src${i}.txt`);
          writeFileSync(from, `source ${i}\n`.repeat(1 + Math.floor(r() * 1000)));
          jobs.push({ copy: { from, to, ...extra } });
          if (durable) {
            expected.fdatasync += 1;
            expected.fsync += 1; // the destination's folder
          }
          checks.push(() => expect(readFileSync(to, 'utf8')).toBe(readFileSync(from, 'utf8')));
        } else if (kind === 'tree') {
          const from = join(dir, `tree${i}`);
          const dirs = Math.floor(r() * 4);
          const files = Math.floor(r() * 6);
          makeTree(from, dirs, files, r);
          jobs.push({ copy: { from, to, ...extra } });
          if (durable) {
            expected.fdatasync += files;
            expected.fsync += dirs + 1 + 1; // every folder of the copy, then the destination's folder
          }
          checks.push(() => expect(listTree(to)).toEqual(listTree(from)));
        } else {
          const body = bytes(1000 + Math.floor(r() * 200_000), seed * 100 + i);
          server.serve(`f${seed}-${i}`, body);
          jobs.push({ download: { url: `${server.url}/ok/f${seed}-${i}`, to, ...extra } });
          if (durable) {
            expected.fdatasync += 1;
            expected.fsync += 1;
          }
          checks.push(() => expect(readFileSync(to).equals(body)).toBe(true));
        }
      }
      const file = writeJobs(dir, jobs);
      const args = ['-q', '-w', '2', '-m', mode, ...(flag ? ['--fsync'] : []), file];
      const run = await tracedRun(dir, args);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.syncs).toEqual(expected);
      for (const c of checks) c();
    });
  }
});

/** Runs poolrun under strace -y; returns its exit code and the paths of the folders and files it synced. */
async function syncedPaths(
  dir: string,
  args: string[],
): Promise<{ code: number; stderr: string; paths: string[] }> {
  const log = join(dir, 'strace-y.log');
  const r = await track(
    execa(
      'strace',
      ['-f', '-y', '-qq', '-e', 'trace=fsync,fdatasync', '-o', log, process.execPath, BIN, ...args],
      {
        reject: false,
        timeout: 60_000,
        env: { NO_COLOR: '1' },
      },
    ),
  );
  const paths = [...readFileSync(log, 'utf8').matchAll(/\bf(?:data)?sync\(\d+<([^>]*)>/g)].map((m) => m[1]!);
  return { code: r.exitCode ?? -1, stderr: String(r.stderr), paths };
}

describe.skipIf(!canTrace)(
  '--fsync: folders the job made on the way to its destination are synced too',
  () => {
    // A job whose destination's folders are missing makes them (mkdir -p). With fsync each new folder's name must
    // be synced in the folder that holds it, or a power loss can take the folder, and the "succeeded" file in it.
    for (const kind of ['file', 'tree', 'download'] as const) {
      for (const depth of [1, 2, 3]) {
        it(`${kind}, ${depth} missing folder(s): each one's parent is synced; without --fsync nothing`, async () => {
          const dir = temp();
          const missing = Array.from({ length: depth }, (_, k) => `n${k}`);
          const folder = join(dir, 'out', ...missing);
          mkdirSync(join(dir, 'out'));
          const to = join(folder, 'dest');
          let job: unknown;
          if (kind === 'file') {
            writeFileSync(join(dir, 'src.txt'), 'data\n');
            job = { copy: { from: join(dir, 'src.txt'), to } };
          } else if (kind === 'tree') {
            makeTree(join(dir, 'tree'), 1, 2, rng(depth));
            job = { copy: { from: join(dir, 'tree'), to } };
          } else {
            server.serve(`nf-${depth}`, bytes(5000, depth));
            job = { download: { url: `${server.url}/ok/nf-${depth}`, to } };
          }
          const file = writeJobs(dir, [job]);
          const plain = await syncedPaths(dir, ['-q', file]);
          expect(plain.code, plain.stderr).toBe(0);
          expect(plain.paths).toEqual([]);
          rmSync(join(dir, 'out', 'n0'), { recursive: true });
          const run = await syncedPaths(dir, ['-q', '--fsync', file]);
          expect(run.code, run.stderr).toBe(0);
          // out (holds n0), n0 (holds n1)…: every folder above a new one, and the destination's own folder.
          const parents = [
            join(dir, 'out'),
            ...missing.map((_, k) => join(dir, 'out', ...missing.slice(0, k + 1))),
          ];
          for (const p of parents) expect(run.paths, p).toContain(p);
        });
      }
    }
  },
);

describe('the "fsync" field', () => {
  const bad: unknown[] = ['true', 'yes', 1, 0, null, [], {}, 'false', '--fsync'];
  for (const kind of ['copy', 'download'] as const) {
    it(`${kind}: anything but true or false is refused with exit 2, naming the field and where`, async () => {
      const dir = temp();
      for (const value of bad) {
        const spec =
          kind === 'copy'
            ? { from: join(dir, 'a'), to: join(dir, 'b'), fsync: value }
            : { url: `${server.url}/ok/x`, to: join(dir, 'b'), fsync: value };
        const file = join(dir, 'jobs.json');
        writeFileSync(file, JSON.stringify([{ [kind]: spec }]));
        const r = await poolrun(['-q', file]);
        expect(r.code, JSON.stringify(value)).toBe(2);
        expect(r.stderr).toMatch(
          new RegExp(`jobs\\.json:1:\\d+: jobs\\[0\\]\\.${kind}\\.fsync: expected true or false`),
        );
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      }
    });
  }

  it('is accepted on other kinds of job nowhere: a run job with "fsync" is refused', async () => {
    const dir = temp();
    const file = writeJobs(dir, [{ run: 'true', fsync: true }]);
    const r = await poolrun(['-q', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/jobs\[0\]/);
    expect(r.stderr).toMatch(/fsync/);
  });

  it('--resume --fsync skips a copy the log records as done without it (durability is not what a job does)', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'a'), 'data\n');
    const jobs = [{ copy: { from: join(dir, 'a'), to: join(dir, 'b') } }, 'echo ran'];
    const file = writeJobs(dir, jobs);
    const log = join(dir, 'log.tsv');
    expect((await poolrun(['-q', '--joblog', log, file])).code).toBe(0);
    const again = await poolrun(['-q', '--fsync', '--joblog', log, '--resume', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe('');
  });
});
