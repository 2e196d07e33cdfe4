/** The --json document: exact output encoding, input order from a spool, written on every way a run ends. */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN,
  poolrun,
  readJson,
  waitFor,
  type ResultsDoc,
  useTempDirs,
  writeJobs,
  track,
} from '../helpers.js';

const temp = useTempDirs();
const jobFile = writeJobs;

type Result = ResultsDoc['results'][number] & {
  stdoutEncoding?: string;
  stderrEncoding?: string;
  stdoutTruncated?: boolean;
};

describe('--json', () => {
  it('output that is not UTF-8 is base64 with stdoutEncoding; UTF-8 cut by the capture limit stays text', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'bin', run: "printf '\\377\\000\\001abc'" },
      { id: 'err', run: "printf 'x\\300' >&2" },
      // 1 + 1200 × 2 bytes: the 1 KiB limit falls inside an "é".
      { id: 'cut', run: "printf x; for i in $(seq 1200); do printf '\\303\\251'; done" },
      { id: 'text', run: "printf 'plain ✓\\n'" },
    ]);
    const r = await poolrun(['-q', '--capture-limit', '1K', '--json', json, file]);
    expect(r.code).toBe(0);
    const doc = readJson(json);
    const [bin, err, cut, text] = doc.results as Result[];
    expect(bin!.stdoutEncoding).toBe('base64');
    expect(Buffer.from(bin!.stdout, 'base64')).toEqual(Buffer.from([0xff, 0, 1, 0x61, 0x62, 0x63]));
    expect(bin!.stderrEncoding).toBeUndefined();
    expect(err!.stderrEncoding).toBe('base64');
    expect(Buffer.from(err!.stderr, 'base64')).toEqual(Buffer.from([0x78, 0xc0]));
    expect(cut!.stdoutTruncated).toBe(true);
    expect(cut!.stdoutEncoding).toBeUndefined();
    expect(cut!.stdout).toBe(`x${'é'.repeat(511)}`);
    expect(text!.stdout).toBe('plain ✓\n');
    expect(text!.stdoutEncoding).toBeUndefined();
    // The whole output was still printed, not just the captured head.
    expect(Buffer.byteLength(r.stdout)).toBeGreaterThan(2400);
  });

  it('results in input order whatever order jobs finish in (300 jobs spooled through disk)', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const jobs = Array.from({ length: 300 }, (_, i) => ({
      id: `job-${i}`,
      run: `sleep 0.0${(i * 7) % 10}; echo ${i}`,
    }));
    const r = await poolrun(['-q', '-w', '8', '--order', 'completion', '--json', json, jobFile(dir, jobs)]);
    expect(r.code).toBe(0);
    const doc = readJson(json);
    expect(doc.summary).toMatchObject({ total: 300, succeeded: 300 });
    expect(doc.results.map((x) => x.id)).toEqual(jobs.map((j) => j.id));
    expect(doc.results.map((x) => x.stdout)).toEqual(jobs.map((_, i) => `${i}\n`));
    // Completion order really differed from input order.
    expect(r.stdout).not.toBe(jobs.map((_, i) => `${i}\n`).join(''));
    // Written atomically: nothing else was left in the folder.
    expect(readdirSync(dir).sort()).toEqual(['jobs.json', 'out.json']);
  });

  it('--json - streams a large document whole to a pipe', async () => {
    const dir = temp();
    const jobs = Array.from({ length: 400 }, (_, i) => ({ id: `j${i}`, run: ['echo', 'x'.repeat(3000)] }));
    const r = await poolrun(['-q', '-w', '4', '--json', '-', jobFile(dir, jobs)]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as ResultsDoc;
    expect(doc.results).toHaveLength(400);
    expect(r.stdout.length).toBeGreaterThan(1_000_000);
    expect(doc.results[399]!.stdout).toBe(`${'x'.repeat(3000)}\n`);
  });

  it('on SIGINT the document is still written, with what finished and what was cancelled; exit 130', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'quick', run: 'echo done' },
      { id: 'long', run: 'sleep 30' },
      ...Array.from({ length: 5 }, (_, i) => ({ id: `later${i}`, run: 'sleep 30' })),
    ]);
    const child = track(
      execa(process.execPath, [BIN, '-w', '2', '--kill-after', '200ms', '--json', json, file], {
        reject: false,
        env: { NO_COLOR: '1' },
      }),
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await waitFor(() => /started long/.test(stderr) && /succeeded quick/.test(stderr), 20_000)).toBe(
      true,
    );
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    const doc = readJson(json);
    expect(doc.summary.total).toBe(7);
    expect(doc.results.map((x) => x.id)).toEqual([
      'quick',
      'long',
      ...Array.from({ length: 5 }, (_, i) => `later${i}`),
    ]);
    expect(doc.results[0]).toMatchObject({ status: 'succeeded', stdout: 'done\n' });
    // Killed while running (long, and later0 in quick's place) or never started: every one `cancelled`.
    expect(doc.results.slice(1).map((x) => x.status)).toEqual(Array(6).fill('cancelled'));
    expect(doc.summary).toMatchObject({ total: 7, succeeded: 1, cancelled: 6 });
    expect(doc.results[1]!.startedAt).not.toBeNull();
  });

  it('at --deadline the document is written; exit 124', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'ok', run: 'true' },
      { id: 'slow', run: 'sleep 30' },
    ]);
    const r = await poolrun(['-w', '2', '--deadline', '1s', '--kill-after', '200ms', '--json', json, file]);
    expect(r.code).toBe(124);
    const doc = readJson(json);
    expect(doc.results.map((x) => [x.id, x.status === 'succeeded'])).toEqual([
      ['ok', true],
      ['slow', false],
    ]);
  });

  it('a --json or --junit path that cannot be written is refused before anything runs (exit 2)', async () => {
    const dir = temp();
    const canary = join(dir, 'canary');
    const file = jobFile(dir, [`touch ${canary}`]);
    for (const args of [
      ['--json', join(dir, 'no-such-folder', 'out.json')],
      ['--junit', join(dir, 'no-such-folder', 'out.xml')],
      ['--json', dir],
    ]) {
      const r = await poolrun([...args, file]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^poolrun: --(json|junit): /);
      expect(existsSync(canary)).toBe(false);
    }
  });
});
