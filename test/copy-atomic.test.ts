import { afterEach, describe, expect, it } from 'vitest';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, pidAlive, readJson, tempDir, waitFor } from './helpers.js';
import { childPids } from './worker-procs.js';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

const BIG = 512 * 1024 * 1024;

/** A large file that costs no disk to make (sparse); its copy still writes every byte. */
function bigFile(path: string): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, BIG);
  closeSync(fd);
}

describe('copy atomicity (process mode)', () => {
  it('SIGKILL to the workers in the middle of a large file copy and a tree copy: nothing at `to`', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dir = t.dir;
    bigFile(join(dir, 'big.bin'));
    mkdirSync(join(dir, 'tree'));
    for (let i = 0; i < 100; i++) writeFileSync(join(dir, 'tree', `small-${i}.txt`), `file ${i}\n`);
    bigFile(join(dir, 'tree', 'large.bin'));
    const file = join(dir, 'jobs.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'file', copy: { from: 'big.bin', to: 'out/big.bin' } },
        { id: 'tree', copy: { from: 'tree', to: 'out/tree' } },
      ]),
    );
    const json = join(dir, 'out.json');
    const run = execa(process.execPath, [BIN, '-w', '2', '-m', 'process', '--json', json, file], {
      reject: false,
      env: { NO_COLOR: '1' },
    });
    const out = join(dir, 'out');
    const entries = () => (existsSync(out) ? readdirSync(out, { withFileTypes: true }) : []);
    // Mid-copy, whatever the names: a file with some but not all of the data, a folder with its small files.
    const midway = await waitFor(
      () => {
        const ents = entries();
        const partFile = ents.some((e) => {
          if (!e.isFile()) return false;
          const size = statSync(join(out, e.name)).size;
          return size > 0 && size < BIG;
        });
        const partTree = ents.some((e) => e.isDirectory() && readdirSync(join(out, e.name)).length > 50);
        return partFile && partTree;
      },
      30_000,
      5,
    );
    expect(midway).toBe(true);
    const workers = childPids(run.pid!);
    expect(workers).toHaveLength(2);
    for (const pid of workers) process.kill(pid, 'SIGKILL');
    const r = await run;
    for (const pid of workers) expect(pidAlive(pid)).toBe(false);

    expect(r.exitCode, String(r.stderr)).toBe(1);
    const doc = readJson(json);
    for (const res of doc.results) {
      expect(res.status).toBe('failed');
      expect(res.error!.message).toMatch(/died while running this job: killed by SIGKILL/);
    }
    // Neither destination exists, not even in part; only hidden temps are left beside them.
    expect(existsSync(join(out, 'big.bin'))).toBe(false);
    expect(existsSync(join(out, 'tree'))).toBe(false);
    expect(readdirSync(out).every((n) => n.startsWith('.') && n.endsWith('.poolrun-tmp'))).toBe(true);
  });
});
