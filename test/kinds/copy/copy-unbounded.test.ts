import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, readJson, track, useTempDirs, writeJobs } from '../../helpers.js';

// A file's size in stat is not what it holds: /proc files say 0, sysfs files 4096, a file truncated during the
// copy its old size. libuv's copyfile (sendfile until st_size) copied nothing of the first and spun forever, at
// 100 % CPU and beyond --timeout, SIGTERM and Ctrl-C's reach, on the others. A copy reads until end of file.
const modes = ['thread', 'process'] as const;
const temp = useTempDirs();
// (Not /proc/self/mounts: another test's bind mount may come and go between the copy and the check.)
const PROC = ['/proc/version', '/proc/filesystems', '/proc/sys/kernel/ostype', '/proc/self/limits'].filter(
  (f) => existsSync(f),
);
// sysfs files that hold something (a sysfs file says 4096 bytes whatever it holds).
const SYS = [
  '/sys/kernel/mm/transparent_hugepage/enabled',
  '/sys/kernel/profiling',
  '/sys/power/state',
].filter((f) => existsSync(f) && readFileSync(f).length > 0);

describe.runIf(process.platform === 'linux')('copy: the bytes a file holds, not the size stat gives', () => {
  it.each(modes)('/proc and sysfs files are copied whole and the copy ends (%s mode)', async (mode) => {
    const dir = temp();
    const from = [...PROC, ...SYS];
    const jobs = from.map((f, i) => ({ id: `c${i}`, copy: { from: f, to: join(dir, 'out', `c${i}`) } }));
    const json = join(dir, 'r.json');
    const r = await poolrun(['-m', mode, '--timeout', '20s', '--json', json, writeJobs(dir, jobs)]);
    expect(r.code, r.stderr).toBe(0);
    const doc = readJson(json);
    for (const [i, f] of from.entries()) {
      const got = readFileSync(join(dir, 'out', `c${i}`), 'utf8');
      // /proc/self/limits is the reader's own: poolrun and its workers inherit the test's limits, so the same text.
      const want = readFileSync(f, 'utf8');
      expect(got, f).toBe(want);
      expect(got.length, f).toBeGreaterThan(0);
      expect(doc.results.find((x) => x.id === `c${i}`)).toMatchObject({ status: 'succeeded' });
    }
  });

  it.each(modes)('a source truncated while it is copied: the job ends (%s mode)', async (mode) => {
    const dir = temp();
    const src = join(dir, 'log.txt');
    writeFileSync(src, Buffer.alloc(16 * 1024 * 1024, 'a'));
    const out = join(dir, 'out');
    // The truncater waits for the copy's temp file to appear in `out`, then truncates the source, over and over
    // for a while: whenever the copy reads, the file shrinks under it.
    const script = `
      const fs = require('fs'); const [src, out] = process.argv.slice(1);
      fs.mkdirSync(out, { recursive: true });
      const go = () => { const end = Date.now() + 3000; const t = setInterval(() => {
        try { fs.truncateSync(src, 0); } catch {} if (Date.now() > end) { clearInterval(t); process.exit(0); } }, 1); };
      const w = fs.watch(out, () => { w.close(); try { fs.truncateSync(src, 1024); } catch {} go(); });
      process.stdout.write('ready\\n');`;
    const child = track(
      spawn(process.execPath, ['-e', script, src, out], { stdio: ['ignore', 'pipe', 'inherit'] }),
    );
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    const json = join(dir, 'r.json');
    const to = join(out, 'log.txt');
    const r = await poolrun(
      ['-m', mode, '--json', json, writeJobs(dir, [{ id: 'log', copy: { from: src, to } }])],
      {
        timeout: 30_000,
      },
    );
    child.kill();
    expect(r.ms, r.stderr).toBeLessThan(30_000);
    const res = readJson(json).results[0]!;
    expect(['succeeded', 'failed']).toContain(res.status);
    if (res.status === 'succeeded') {
      const got = readFileSync(to);
      expect(got.length).toBeLessThanOrEqual(16 * 1024 * 1024);
      expect(got.every((b) => b === 0x61 || b === 0)).toBe(true);
    }
  });
});
