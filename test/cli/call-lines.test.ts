/**
 * `--call`: stdout has exactly one JSON line per argument, in input order, whatever each call did — its value, or
 * `null` for undefined, a throw, a timeout, a job cancelled by --halt — so line N is always job N's. A call job in a
 * job file prints its value after its output only when it succeeded with a value other than null/undefined.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobResult } from '../../src/kinds/types.js';
import { poolrun, rng, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();

/**
 * f("ok:V") returns V; "undef" undefined; "null" null; "throw" throws; "crash" ends its worker; "hang" never ends
 * (--timeout ends it).
 */
const MODULE = `
export async function f(what) {
  if (what.startsWith('ok:')) { console.log('printed ' + what); return JSON.parse(what.slice(3)); }
  if (what === 'undef') return undefined;
  if (what === 'null') return null;
  if (what === 'throw') throw new Error('thrown for ' + what);
  if (what === 'crash') process.exit(3);
  if (what === 'hang') return new Promise(() => setInterval(() => {}, 1000));
  throw new Error('unknown case ' + what);
}
`;

const OK_VALUES = ['0', '7', '"s"', '[1,2]', '{"a":1}', 'false', '""'];
type Case = 'ok' | 'undef' | 'null' | 'throw' | 'hang';

/** A generated sequence of call outcomes (at most one hang: each costs the --timeout). */
function sequence(seed: number, n: number): string[] {
  const next = rng(seed);
  const kinds: Case[] = ['ok', 'ok', 'undef', 'null', 'throw', 'hang'];
  let hangs = 0;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let k = kinds[Math.floor(next() * kinds.length)]!;
    if (k === 'hang' && hangs++ > 0) k = 'throw';
    out.push(k === 'ok' ? `ok:${OK_VALUES[Math.floor(next() * OK_VALUES.length)]}` : k);
  }
  return out;
}

/** What stdout's line for that argument must be with --call. */
const lineOf = (arg: string) => (arg.startsWith('ok:') ? JSON.stringify(JSON.parse(arg.slice(3))) : 'null');

function module(): string {
  const file = join(temp(), 'calls.mjs');
  writeFileSync(file, MODULE);
  return file;
}

describe('--call: line N of stdout is job N', () => {
  const runs: Array<[string, number]> = [
    ['thread', 1],
    ['process', 2],
    ['thread', 3],
  ];
  it.each(runs)('%s mode, generated sequence (seed %i)', async (mode, seed) => {
    const args = sequence(seed, 10);
    const r = await poolrun([
      '-q',
      '-m',
      mode,
      '-w',
      '3',
      '--timeout',
      '2s',
      '--call',
      `${module()}#f`,
      ...args,
    ]);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.slice(0, -1).split('\n'), `arguments ${args.join(' ')}`).toEqual(args.map(lineOf));
    expect(r.code).toBe(args.every((a) => a.startsWith('ok:') || a === 'undef' || a === 'null') ? 0 : 1);
    // What the functions printed is on stderr, not among the values.
    expect(r.stderr).not.toMatch(/^\d+$/m);
  });

  it('the probe: ok, throw, undefined, ok gives 4 lines, the failed one null', async () => {
    const r = await poolrun(['-q', '--call', `${module()}#f`, 'ok:1', 'throw', 'undef', 'ok:4']);
    expect(r.stdout).toBe('1\nnull\nnull\n4\n');
    expect(r.code).toBe(1);
  });

  it.each(['thread', 'process'])(
    '%s mode: a call that ends its worker has its line too (null)',
    async (mode) => {
      const r = await poolrun([
        '-q',
        '-m',
        mode,
        '-w',
        '1',
        '--call',
        `${module()}#f`,
        'ok:1',
        'crash',
        'ok:3',
      ]);
      expect(r.stdout).toBe('1\nnull\n3\n');
      expect(r.code).toBe(1);
    },
  );

  it('--halt soon: the jobs it cancels still have their line (null)', async () => {
    const json = join(temp(), 'out.json');
    const r = await poolrun([
      '-q',
      '-w',
      '1',
      '--halt',
      'soon',
      '--json',
      json,
      '--call',
      `${module()}#f`,
      'ok:1',
      'throw',
      'ok:3',
      'ok:4',
    ]);
    // Job 3 may have been handed to the busy worker ahead, and begun the moment `throw` ended, before the halt
    // reached it: then it ran, and its line is its value; otherwise it was cancelled. Job 4 never starts.
    const results = (JSON.parse(readFileSync(json, 'utf8')) as { results: JobResult[] }).results;
    const ran3 = results[2]!.startedAt !== null;
    expect(r.stdout).toBe(`1\nnull\n${ran3 ? '3' : 'null'}\nnull\n`);
    expect(results[2]!.status).toBe(ran3 ? 'succeeded' : 'cancelled');
    expect([results[3]!.status, results[3]!.startedAt]).toEqual(['cancelled', null]);
    expect(r.code).toBe(1);
  });

  it('--resume: the arguments it skips have their line (null), the rest their value', async () => {
    const mod = module();
    const log = join(temp(), 'joblog');
    const first = await poolrun(['-q', '--joblog', log, '--call', `${mod}#f`, 'ok:1', 'ok:2']);
    expect(first.stdout).toBe('1\n2\n');
    const r = await poolrun([
      '-q',
      '--joblog',
      log,
      '--resume',
      '--call',
      `${mod}#f`,
      'ok:1',
      'ok:2',
      'ok:3',
    ]);
    expect(r.stdout).toBe('null\nnull\n3\n');
    expect(r.code).toBe(0);
  });

  it('--order completion: still one line per argument', async () => {
    const args = ['ok:1', 'throw', 'undef', 'ok:2', 'null'];
    const r = await poolrun(['-q', '--order', 'completion', '--call', `${module()}#f`, ...args]);
    expect(r.stdout.slice(0, -1).split('\n').sort()).toEqual(args.map(lineOf).sort());
  });

  it('a job file: a call prints its value after its output only when it succeeded with one', async () => {
    const dir = temp();
    const mod = module();
    const args = sequence(4, 8).filter((a) => a !== 'hang');
    const file = writeJobs(
      dir,
      args.map((a) => ({ call: { module: mod, export: 'f', args: [a] } })),
    );
    const r = await poolrun(['-q', file]);
    const expected = args
      .filter((a) => a.startsWith('ok:'))
      .map((a) => `printed ${a}\n${lineOf(a)}\n`)
      .join('');
    expect(r.stdout).toBe(expected);
  });

  it('a job file with --output stream: the value is a line of the job, with its [id] prefix', async () => {
    const dir = temp();
    const mod = module();
    const file = writeJobs(dir, [
      { id: 'a', call: { module: mod, export: 'f', args: ['ok:{"v":1}'] } },
      { id: 'b', call: { module: mod, export: 'f', args: ['null'] } },
      { id: 'c', call: { module: mod, export: 'f', args: ['throw'] } },
    ]);
    const r = await poolrun(['-q', '--output', 'stream', file]);
    expect(r.stdout).toBe('[a] printed ok:{"v":1}\n[a] {"v":1}\n');
  });
});
