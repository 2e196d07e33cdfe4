/**
 * Bounded capture: a job printing 200 MB is printed whole, and poolrun's peak RSS (GNU time's maximum
 * resident set size, of poolrun and its worker processes) grows by less than 64 MB over the same command running
 * a job that prints one line (its own footprint, ~50–65 MB, differs by machine). 1 GiB: bench/capture-memory.js.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, CLI_TIMEOUT_MS, poolrun, readJson, useTempDirs, writeJobs } from '../../helpers.js';

const temp = useTempDirs();
const jobFile = writeJobs;

const MB = 1_000_000;
const BIG = 200 * MB;

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * poolrun under /usr/bin/time, its stdout piped into `reader` (a shell command; `wc -c` by default): returns
 * what the reader printed, poolrun's peak RSS in KiB (the largest of its process and its worker processes)
 * and poolrun's exit status.
 */
async function measureWith(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
  reader = 'wc -c',
): Promise<{ out: string; maxRssKiB: number; code: number }> {
  const rss = join(dir, 'rss');
  const status = join(dir, 'status');
  const cmd =
    `{ /usr/bin/time -o ${q(rss)} -f %M ${[process.execPath, BIN, ...args].map(q).join(' ')}; ` +
    `echo $? > ${q(status)}; } | ${reader}`;
  const r = await execa('sh', ['-c', cmd], {
    env: { NO_COLOR: '1', ...env },
    reject: false,
    timeout: CLI_TIMEOUT_MS,
  });
  const maxRssKiB = Number(readFileSync(rss, 'utf8').trim().split('\n').pop());
  return { out: String(r.stdout).trim(), maxRssKiB, code: Number(readFileSync(status, 'utf8')) };
}

/** poolrun under /usr/bin/time, stdout counted by wc: returns bytes printed and peak RSS in KiB. */
async function measure(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ bytes: number; maxRssKiB: number; code: number }> {
  const m = await measureWith(dir, args, env);
  return { bytes: Number(m.out), maxRssKiB: m.maxRssKiB, code: m.code };
}

/** Most that 200 MB of output may add to poolrun's peak RSS: it would be the 200 MB if output were held. */
const GROWTH_KIB = 64 * 1024;

/** Peak RSS in KiB of poolrun run with `args` on a job file of one job printing one line (in place of `file`). */
async function footprint(dir: string, args: string[], file: string): Promise<number> {
  const small = jobFile(dir, [{ id: 'big', run: 'echo one' }], 'small.json');
  const m = await measureWith(
    dir,
    args.map((a) => (a === file ? small : a)),
  );
  expect(m.code).toBe(0);
  return m.maxRssKiB;
}

describe.each(['thread', 'process'] as const)('a job printing 200 MB (%s mode)', (mode) => {
  it('is printed whole; poolrun grows by less than 64 MB', async () => {
    const dir = temp();
    // A temp folder of its own, to see that every spill file is gone afterwards.
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const file = jobFile(dir, [
      { id: 'small', run: 'echo before' },
      { id: 'big', run: `head -c ${BIG} /dev/zero` },
      { id: 'after', run: 'echo after' },
    ]);
    const args = ['-q', '-w', '2', '-m', mode, file];
    const m = await measure(dir, args, { TMPDIR: tmp });
    expect(m.code).toBe(0);
    expect(m.bytes).toBe(BIG + 'before\n'.length + 'after\n'.length);
    expect(m.maxRssKiB).toBeGreaterThan(10_000);
    expect(m.maxRssKiB - (await footprint(dir, args, file))).toBeLessThan(GROWTH_KIB);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe.each(['thread', 'process'] as const)(
  '--output stream of a job printing 200 MB (%s mode)',
  (mode) => {
    it('reaches a slow reader whole, prefixed and in order; poolrun grows by less than 64 MB', async () => {
      const dir = temp();
      const lines = 2_000_000;
      // 2,000,000 numbered lines of 101 bytes; the reader starts a second late, then checks every line.
      const file = jobFile(dir, [{ id: 'big', run: `seq -f '%0100.0f' 1 ${lines}` }]);
      const check = `awk '$0 != sprintf("[big] %0100d", NR) { bad++ } END { print NR, bad + 0 }'`;
      const args = ['-q', '-m', mode, '--output', 'stream', file];
      const m = await measureWith(dir, args, {}, `(sleep 1; ${check})`);
      expect(m.code).toBe(0);
      expect(m.out).toBe(`${lines} 0`);
      expect(m.maxRssKiB).toBeGreaterThan(10_000);
      expect(m.maxRssKiB - (await footprint(dir, args, file))).toBeLessThan(GROWTH_KIB);
    });

    it('a job printing to a reader that does not read waits for it, as it would writing to a pipe', async () => {
      const dir = temp();
      const mark = join(dir, 'finished-writing');
      // 20 MB takes a fraction of a second to write; held back, it cannot finish while nobody reads.
      const file = jobFile(dir, [
        { id: 'w', run: `head -c 20000000 /dev/zero | tr '\\0' x | fold -w 99; touch ${q(mark)}` },
      ]);
      const reader = `(sleep 2; if [ -e ${q(mark)} ]; then echo early; else echo waited; fi; wc -c)`;
      const m = await measureWith(dir, ['-q', '-m', mode, '--output', 'stream', file], {}, reader);
      expect(m.code).toBe(0);
      // fold -w 99 makes 202,021 lines (the last one short), each prefixed `[w] `.
      expect(m.out.split('\n')).toEqual(['waited', String(20_000_000 + 202_021 * 5)]);
    });
  },
);

describe('results of a job that outgrew the capture limit', () => {
  it('carry the head and stdoutTruncated: true; grouped printing still prints everything, in order', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'big', run: 'seq 1 200000; seq 1 5000 >&2' },
      { id: 'next', run: 'echo next' },
    ]);
    const r = await poolrun(['-q', '--capture-limit', '64K', '--json', json, file]);
    expect(r.code).toBe(0);
    const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join('');
    expect(r.stdout).toBe(`${expected}next\n`);
    expect(r.stderr).toBe(Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join(''));
    const big = readJson(json).results[0] as {
      stdout: string;
      stdoutTruncated?: boolean;
      stderrTruncated?: boolean;
    };
    expect(big.stdoutTruncated).toBe(true);
    expect(big.stderrTruncated).toBeUndefined();
    expect(big.stdout).toBe(expected.slice(0, 64 * 1024));
  });

  it('a slow reader gets every byte (printing waits for stdout instead of queueing in memory)', async () => {
    const dir = temp();
    const file = jobFile(dir, [{ id: 'big', run: 'head -c 20000000 /dev/zero' }]);
    const cmd = `${process.execPath} ${BIN} -q ${file} | (sleep 1; wc -c)`;
    const r = await execa('sh', ['-c', cmd], { env: { NO_COLOR: '1' } });
    expect(Number(String(r.stdout).trim())).toBe(20_000_000);
  });
});
