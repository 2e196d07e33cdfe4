/**
 * `-k --line-buffer`: GNU parallel prints the lines in input order, the oldest unfinished job's as they come and a
 * later job's once every job before it has finished. Without -k the lines come as they come (poolrun too).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, track, useTempDirs } from '../helpers.js';
import { OutputPrinter } from '../../src/report/printer.js';
import { cancelledResult } from '../../src/executor/results.js';
import type { Job } from '../../src/kinds/types.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

function printer(ordered: boolean) {
  let out = '';
  const sink = {
    stdout: (d: Buffer | string) => ((out += d.toString()), true),
    stderr: () => true,
    drained: async () => {},
  };
  const p = new OutputPrinter(
    { order: 'input', output: 'stream', values: false, linePrefix: () => Buffer.alloc(0), ordered },
    sink,
  );
  const job = (index: number) => ({ id: String(index + 1), index, kind: 'run', run: 'x' }) as unknown as Job;
  return { p, job, out: () => out };
}

describe('-k --line-buffer: the printer', () => {
  it("holds a later job's lines until the jobs before it finished; the oldest one prints live", () => {
    const { p, job, out } = printer(true);
    p.output(job(1), 'stdout', Buffer.from('b1\n'));
    p.output(job(2), 'stdout', Buffer.from('c1\n'));
    expect(out()).toBe('');
    p.output(job(0), 'stdout', Buffer.from('a1\n'));
    expect(out()).toBe('a1\n');
    p.finished(cancelledResult(job(0), 1), undefined);
    expect(out()).toBe('a1\nb1\n');
    p.output(job(1), 'stdout', Buffer.from('b2'));
    p.output(job(2), 'stdout', Buffer.from('c2\n'));
    p.finished(cancelledResult(job(2), 1), undefined);
    expect(out()).toBe('a1\nb1\n');
    p.finished(cancelledResult(job(1), 1), undefined);
    expect(out()).toBe('a1\nb1\nb2c1\nc2\n');
  });

  it('without -k the lines come as they come', () => {
    const { p, job, out } = printer(false);
    p.output(job(1), 'stdout', Buffer.from('b1\n'));
    p.output(job(0), 'stdout', Buffer.from('a1\n'));
    expect(out()).toBe('b1\na1\n');
  });
});

describe.skipIf(!existsSync(GNU))('-k --line-buffer, against GNU parallel', () => {
  it('a later job that finishes first prints after the earlier ones, tagged or not', async () => {
    const home = temp();
    mkdirSync(join(home, '.parallel'));
    writeFileSync(join(home, '.parallel', 'will-cite'), '');
    const run = async (file: string, args: string[]) => {
      const r = await track(
        execa(file, args, {
          cwd: home,
          reject: false,
          stdin: 'ignore',
          stripFinalNewline: false,
          env: { HOME: home, PATH: process.env.PATH, PARALLEL_SHELL: '/bin/sh', LC_ALL: 'C' },
          extendEnv: false,
          timeout: 50_000,
        }),
      );
      return { code: r.exitCode, out: r.stdout, err: r.stderr };
    };
    // Job 1 sleeps longest: the others finish while it runs.
    const cmd = 'printf "a%s\\n" {}; sleep {}; printf "b%s" {}';
    for (const tag of [[], ['--tag']]) {
      const args = ['-j', '3', '-k', '--line-buffer', ...tag, cmd, ':::', '0.6', '0', '0.2'];
      const [g, p] = await Promise.all([run(GNU, args), run(process.execPath, [BIN, '-q', ...args])]);
      expect(p.code, p.err).toBe(0);
      expect(p.out, JSON.stringify(args)).toBe(g.out);
    }
  });
});
