import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, pidAlive, pidStart, poolrun, readJson, track, useTempDirs, waitFor } from '../../helpers.js';
import { workerPids } from '../../worker-procs.js';
import { bytes, sha256, startServer, type TestServer } from '../../download-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});
const temp = useTempDirs();

describe('download atomicity (process mode)', () => {
  it('SIGKILL to the worker in the middle of a slow download: nothing at `to`; the next run resumes the .part', async () => {
    const dir = temp();
    const data = bytes(8 * 1024 * 1024, 31);
    server.serve('big.bin', data);
    server.slowChunk = 64 * 1024;
    server.slowEveryMs = 100; // 8 MiB takes ~13 s
    const file = join(dir, 'jobs.json');
    const url = `${server.url}/slow/big.bin`;
    writeFileSync(
      file,
      JSON.stringify([{ id: 'd', download: { url, to: 'got.bin', sha256: sha256(data) } }]),
    );
    const json = join(dir, 'out.json');
    const run = track(
      execa(process.execPath, [BIN, '-w', '1', '-m', 'process', '--json', json, file], {
        reject: false,
        env: { NO_COLOR: '1' },
      }),
    );
    // Mid-body: some bytes have landed somewhere in the folder, far from all of them. (A name listed may be gone
    // by its stat: the --json folder's writability probe is created and removed at start.)
    const landed = () =>
      readdirSync(dir)
        .filter((n) => !['jobs.json', 'out.json'].includes(n))
        .reduce((sum, n) => sum + (statSync(join(dir, n), { throwIfNoEntry: false })?.size ?? 0), 0);
    expect(await waitFor(() => landed() > 256 * 1024, 30_000, 5)).toBe(true);
    const workers = workerPids(run.pid!);
    expect(workers).toHaveLength(1);
    const start = pidStart(workers[0]!);
    process.kill(workers[0]!, 'SIGKILL');
    const r = await run;
    expect(await waitFor(() => !pidAlive(workers[0]!, start), 5000)).toBe(true);
    expect(r.exitCode, String(r.stderr)).toBe(1);
    const [res] = readJson(json).results;
    expect(res!.status).toBe('failed');
    expect(res!.error!.message).toMatch(/died while running this job: killed by SIGKILL/);
    expect(existsSync(join(dir, 'got.bin'))).toBe(false);
    // The part is keyed (a hash of the URL and the destination): got.bin.<16 hex>.part.
    const part = readdirSync(dir).filter((n) => /^got\.bin\.[0-9a-f]{16}\.part$/.test(n));
    expect(part).toHaveLength(1);
    const kept = statSync(join(dir, part[0]!)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(data.length);

    // The next run picks the .part up where the dead worker left it.
    server.slowChunk = data.length;
    const again = await poolrun(['-m', 'process', '--json', json, file]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(dir, 'got.bin')).equals(data)).toBe(true);
    const last = server.log.filter((l) => l.path === '/slow/big.bin').at(-1)!;
    expect(last.range).toBe(`bytes=${kept}-`);
    expect(last.status).toBe(206);
    expect(readdirSync(dir).sort()).toEqual(['got.bin', 'jobs.json', 'out.json']);
  });
});
