/**
 * GNU parallel's command form: `--retries N` is N tries in all (GNU's man page: "retry it … Do this n times"),
 * and `--timeout 0` is no limit. Job files and --each keep poolrun's meaning (N retries after the first try).
 * GNU parallel itself is the oracle: the same argv, stdout and exit status compared.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, poolrun, track, useTempDirs, writeJobs } from '../helpers.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

/** A job that counts its tries in `state`, prints the try, and succeeds from try `ok` on (0: never). */
const flaky = (state: string, ok: number) =>
  `n=$(($(cat ${state} 2>/dev/null || echo 0) + 1)); echo $n > ${state}; echo try $n of {}; ` +
  `[ ${ok} -ne 0 ] && [ $n -ge ${ok} ]`;

async function both(dir: string, args: (state: string) => string[]) {
  const run = async (file: string, pre: string[], state: string) =>
    track(
      execa(file, [...pre, ...args(join(dir, state))], {
        cwd: dir,
        reject: false,
        stdin: 'ignore',
        env: { HOME: dir, PATH: process.env.PATH, PARALLEL_SHELL: '/bin/sh', LC_ALL: 'C' },
        extendEnv: false,
        timeout: 50_000,
      }),
    );
  const g = await run(GNU, ['-k'], 'g');
  const p = await run(process.execPath, [BIN, '-q'], 'p');
  return { g, p, tries: [readFileSync(join(dir, 'g'), 'utf8'), readFileSync(join(dir, 'p'), 'utf8')] };
}

describe.skipIf(!existsSync(GNU))('--retries N and --timeout 0 in GNU form, against GNU parallel', () => {
  const cases: Array<[number, number]> = [];
  for (const n of [1, 2, 3]) for (const ok of [0, 1, 2, 3, 4]) cases.push([n, ok]);
  it.each(cases)('--retries %i, a job that succeeds from try %i on (0: never)', async (n, ok) => {
    const dir = temp();
    mkdirSync(join(dir, '.parallel'));
    writeFileSync(join(dir, '.parallel', 'will-cite'), '');
    const { g, p, tries } = await both(dir, (state) => [
      '--retries',
      String(n),
      flaky(state, ok),
      ':::',
      'x',
    ]);
    expect(p.stdout).toBe(g.stdout);
    expect(p.exitCode).toBe(g.exitCode);
    expect(tries[1]).toBe(tries[0]);
  });

  it('--timeout 0 is no limit, as GNU', async () => {
    const dir = temp();
    mkdirSync(join(dir, '.parallel'));
    writeFileSync(join(dir, '.parallel', 'will-cite'), '');
    const { g, p } = await both(dir, (state) => [
      '--timeout',
      '0',
      `sleep 0.3; echo {} > ${state}; echo {}`,
      ':::',
      'a',
      'b',
    ]);
    expect(p.stdout).toBe(g.stdout);
    expect(p.stdout).toBe('a\nb');
    expect(p.exitCode).toBe(0);
    expect(g.exitCode).toBe(0);
  });
});

describe("poolrun's own forms keep N retries after the first try; --timeout 0 is still refused there", () => {
  it('a job file and --each: --retries 2 is 3 tries', async () => {
    const dir = temp();
    const file = writeJobs(dir, [{ id: 'f', run: flaky(join(dir, 'jf'), 0).replace('{}', 'f') }]);
    expect((await poolrun(['-q', '--retries', '2', file], { cwd: dir })).code).toBe(1);
    expect(readFileSync(join(dir, 'jf'), 'utf8')).toBe('3\n');
    expect(
      (await poolrun(['-q', '--retries', '2', '--each', flaky(join(dir, 'ef'), 0), 'x'], { cwd: dir })).code,
    ).toBe(1);
    expect(readFileSync(join(dir, 'ef'), 'utf8')).toBe('3\n');
    const r = await poolrun(['-q', '--timeout', '0', file], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timeout/);
  });
});
