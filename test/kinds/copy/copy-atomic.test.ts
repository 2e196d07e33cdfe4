import { describe, expect, it } from 'vitest';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, pidAlive, pidStart, readJson, track, useTempDirs, waitFor } from '../../helpers.js';
import { workerPids } from '../../worker-procs.js';

const temp = useTempDirs();

/** A copy's temp file or tree, beside its destination: `.<name>.<8 hex>.poolrun-tmp`. */
const isTemp = (name: string) => /^\..*\.[0-9a-f]{8}\.poolrun-tmp$/.test(name);

/** The process's state letter from /proc/PID/stat (`T`: stopped). */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
/**
 * Runs one copy job (`-w 1`, process mode) in `dir` into `dir/out/<dest>` and holds it in the middle: its worker
 * is stopped (SIGSTOP) the moment its temp appears in out/, which stays small and works on any file system (a
 * reflink or a fast disk may finish a copy in microseconds, but not before its temp exists). It counts as the
 * middle if, stopped, the temp is there and the destination is not; then the worker is SIGKILLed. A copy that
 * was done before the stop landed is run again, larger (up to 5 rounds); returns what the kill left.
 */
async function killMidway(
  dir: string,
  dest: string,
  prepare: (round: number) => unknown,
): Promise<{ code: number | null; stderr: string; outNames: string[] }> {
  const out = join(dir, 'out');
  const tried: string[] = [];
  for (let round = 0; round < 5; round++) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    const job = prepare(round);
    const file = join(dir, 'jobs.json');
    writeFileSync(file, JSON.stringify([{ id: 'copy', copy: job }]));
    const json = join(dir, 'out.json');
    rmSync(json, { force: true });
    const run = track(
      execa(process.execPath, [BIN, '-w', '1', '-m', 'process', '--json', json, file], {
        reject: false,
        env: { NO_COLOR: '1' },
      }),
    );
    let ended = false;
    void run.then(() => (ended = true));
    // The worker process is started before any job is given to it. On a loaded machine the whole run may be over
    // before this side looks: then a round with a larger file.
    let workers: number[] = [];
    await waitFor(() => (workers = workerPids(run.pid!)).length === 1 || ended, 30_000, 5);
    if (workers.length !== 1) {
      const r = await run;
      expect(ended, 'the worker process was never seen').toBe(true);
      tried.push(`round ${round}: the run (exit ${r.exitCode}) ended before its worker was seen`);
      continue;
    }
    const worker = workers[0]!;
    const start = pidStart(worker);
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      if (readdirSync(out).some(isTemp) || existsSync(join(out, dest))) {
        stopped = true;
        if (pidAlive(worker, start)) process.kill(worker, 'SIGSTOP');
      }
    };
    // inotify tells at once; the poll is there in case an event is coalesced away.
    const watcher = watch(out, stop);
    const seen = await waitFor(
      () => {
        stop();
        return stopped;
      },
      30_000,
      1,
    );
    watcher.close();
    expect(seen, 'neither a temp nor the destination appeared').toBe(true);
    // Stopped (or already gone): nothing moves in out/ now.
    await waitFor(() => procState(worker) === 'T' || !pidAlive(worker, start), 5000, 1);
    const midway = procState(worker) === 'T' && readdirSync(out).some(isTemp) && !existsSync(join(out, dest));
    if (pidAlive(worker, start)) process.kill(worker, 'SIGKILL');
    const r = await run;
    expect(await waitFor(() => !pidAlive(worker, start), 5000)).toBe(true);
    if (midway) {
      expect(r.exitCode, String(r.stderr)).toBe(1);
      const [res] = readJson(json).results;
      expect(res!.status).toBe('failed');
      expect(res!.error!.message).toMatch(/died while running this job: killed by SIGKILL/);
      return { code: r.exitCode ?? null, stderr: String(r.stderr), outNames: readdirSync(out) };
    }
    tried.push(`round ${round}: the copy was done before the worker stopped`);
  }
  throw new Error(`never caught a copy in the middle: ${tried.join('; ')}`);
}

describe('copy atomicity (process mode)', () => {
  it('SIGKILL to the worker in the middle of a file copy: nothing at `to`, only its hidden temp', async () => {
    const dir = temp();
    const { outNames } = await killMidway(dir, 'big.bin', (round) => {
      // 8 MiB, doubled each round. Set-user-ID: such a file is copied through the worker by hand, in chunks,
      // into a private temp (never by a reflink, which some file systems make in no time).
      const big = join(dir, 'big.bin');
      writeFileSync(big, Buffer.alloc((8 << round) * 1024 * 1024, 1));
      chmodSync(big, 0o4755);
      return { from: 'big.bin', to: 'out/big.bin' };
    });
    expect(outNames).not.toContain('big.bin');
    expect(outNames.length).toBeGreaterThan(0);
    expect(outNames.every(isTemp)).toBe(true);
  });

  it('SIGKILL to the worker in the middle of a tree copy: nothing at `to`, only its hidden temp tree', async () => {
    const dir = temp();
    let files = 0;
    const { outNames } = await killMidway(dir, 'tree', (round) => {
      // Many small files in a few folders (each copied, synced and timed on its own), twice as many each round.
      const want = 400 << round;
      for (; files < want; files++) {
        const sub = join(dir, 'tree', `d${files % 8}`);
        if (files < 8) mkdirSync(sub, { recursive: true });
        writeFileSync(join(sub, `small-${files}.txt`), `file ${files}\n`.repeat(100));
      }
      return { from: 'tree', to: 'out/tree' };
    });
    expect(outNames).not.toContain('tree');
    expect(outNames.length).toBeGreaterThan(0);
    expect(outNames.every(isTemp)).toBe(true);
    // The temp tree holds part of the copy, as far as it got.
    const tmpTree = join(dir, 'out', outNames[0]!);
    expect(statSync(tmpTree).isDirectory()).toBe(true);
  });
});
