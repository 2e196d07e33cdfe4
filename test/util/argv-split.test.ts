import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  EARLY_SPEC,
  optionOfFlags,
  specOf,
  splitArgv,
  type OptionSpec,
  type SplitSpec,
} from '../../src/util/argv-split.js';
import { buildProgram } from '../../src/cli/program.js';
import { modeWanted } from '../../src/pool/prestart.js';
import { OPTION_LIKE_WORDS, rng } from '../helpers.js';

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const program = (): Command => buildProgram('0.0.0-test');
const key = (o: OptionSpec) => `${o.short ?? ''}|${o.long ?? ''}|${o.value}`;

/** Every way to write option `o` on a command line, with `v` its value (values taken from the hostile set too). */
function forms(o: OptionSpec, v: string, flag: OptionSpec | undefined): string[][] {
  const out: string[][] = [];
  if (o.value === 'none') {
    if (o.long) out.push([o.long]);
    if (o.short) out.push([o.short]);
    if (o.short && flag?.short) out.push([`${flag.short}${o.short.slice(1)}`]); // -q0
    return out;
  }
  if (o.long) out.push([o.long, v], [`${o.long}=${v}`]);
  if (o.short) {
    out.push([o.short, v]);
    if (v !== '') out.push([`${o.short}${v}`]);
    if (flag?.short) out.push([`${flag.short}${o.short.slice(1)}`, v]); // -qw 4
    if (flag?.short && v !== '') out.push([`${flag.short}${o.short.slice(1)}${v}`]); // -qw4
  }
  return out;
}

/** Words that look like options, separators, subcommands; values with newlines and empty ones. */
function hostileWords(spec: SplitSpec): string[] {
  const words = [...OPTION_LIKE_WORDS, ''];
  for (const o of spec.options) {
    for (const n of [o.long, o.short]) {
      if (!n) continue;
      words.push(n, `${n}=x`, `${n}x`, `${n}\n`, `\n${n}`, `${n}=--each`);
    }
  }
  words.push(
    '-qw4',
    '-q0',
    '--each=touch PWNED',
    '--call=x#y',
    '--json=pwned.json',
    'a b',
    '\n',
    '--\n--json',
  );
  return words;
}

describe('the option table of the start-up guess', () => {
  it("is program.ts's: the same options, the same values, the same enders and subcommands", () => {
    const live = specOf(program());
    expect(EARLY_SPEC.options.map(key).sort()).toEqual(live.options.map(key).sort());
    expect(EARLY_SPEC.argumentsAfter).toEqual(live.argumentsAfter);
    expect(EARLY_SPEC.subcommands).toEqual(live.subcommands);
  });
  it('reads commander flag strings', () => {
    expect(optionOfFlags('-w, --workers <n>')).toEqual({ short: '-w', long: '--workers', value: 'required' });
    expect(optionOfFlags('--no-color')).toEqual({ long: '--no-color', value: 'none' });
    expect(optionOfFlags('--x [v]')).toEqual({ long: '--x', value: 'optional' });
  });
});

describe('splitArgv', () => {
  const spec = specOf(program());
  const hostile = hostileWords(spec);

  it('after --each CMD / --call T (and their = forms) every word is an argument', () => {
    const r = rng(13);
    for (let n = 0; n < 3000; n++) {
      const tail = Array.from({ length: 1 + Math.floor(r() * 6) }, () => pick(r, hostile));
      const ender = pick(r, [['--each', 'echo {}'], ['--each=echo {}'], ['--call', 'm#f'], ['--call=m#f']]);
      const before = pick(r, [[], ['-q'], ['-w', '2'], ['--json', 'out.json'], ['-qw4', '-m', 'process']]);
      // One `--` right after the value is the end of options, as it always was: keep the tail after it intact.
      const dash = r() < 0.3 ? ['--'] : [];
      const s = splitArgv([...before, ...ender, ...dash, ...tail], spec);
      expect(s.options).toEqual([...before, ...ender]);
      expect(s.operands).toEqual(dash.length ? tail : tail[0] === '--' ? tail.slice(1) : tail);
      expect(s.subcommand).toBeUndefined();
      expect(s.argumentsAfter).toBe(ender[0]!.startsWith('--each') ? '--each' : '--call');
    }
  });

  it('agrees with commander on every option form: the same values, nothing left over', () => {
    const r = rng(7);
    const flag = spec.options.find((o) => o.long === '--quiet');
    const plain = spec.options.filter(
      (o) => !['--help', '--version', '--each', '--call'].includes(o.long ?? ''),
    );
    const values = ['4', 'process', 'x.json', '--each', '-rf', '--', '-', 'worker', '', 'a\nb', '=x'];
    for (let n = 0; n < 1500; n++) {
      const words: string[] = [];
      for (let k = Math.floor(r() * 5); k > 0; k--) {
        const o = pick(r, plain);
        const choices = program().options.find((x) => x.long === o.long)?.argChoices;
        words.push(...pick(r, forms(o, pick(r, choices ?? values), flag)));
      }
      const s = splitArgv(words, spec);
      expect(s.options).toEqual(words);
      expect(s.operands).toEqual([]);
      // commander, given the whole line, reads the same values (it takes its last one for a repeated option).
      const p = program();
      p.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
      p.parse(words, { from: 'user' });
      expect(p.args).toEqual([]);
      const last = new Map<string, string | undefined>();
      for (const { name, value } of s.parsed) last.set(name, value);
      const opts = p.opts<Record<string, unknown>>();
      for (const [name, value] of last) {
        const o = spec.options.find((x) => x.long === name || x.short === name)!;
        const attr = p.options.find((x) => x.long === o.long)!.attributeName();
        // -a/--arg-file is repeatable: commander collects every value (the last is the one to compare).
        const got = Array.isArray(opts[attr]) ? (opts[attr] as unknown[]).at(-1) : opts[attr];
        expect(got).toBe(o.value === 'none' ? !o.long?.startsWith('--no-') : value);
      }
    }
  });

  it('the first word that is not an option ends them; `--` too; `worker` first is the subcommand', () => {
    expect(splitArgv(['-q', 'jobs.json', '--json', 'x'], spec)).toMatchObject({
      options: ['-q'],
      operands: ['jobs.json', '--json', 'x'],
    });
    expect(splitArgv(['-q', '--', '--json'], spec)).toMatchObject({ options: ['-q'], operands: ['--json'] });
    expect(splitArgv(['-', '-q'], spec)).toMatchObject({ options: [], operands: ['-', '-q'] });
    expect(splitArgv(['--json', '--each', 'x'], spec)).toMatchObject({
      options: ['--json', '--each'],
      operands: ['x'],
    });
    expect(splitArgv(['-q', 'worker', '--queue', 'u'], spec).subcommand).toEqual({
      name: 'worker',
      argv: ['worker', '--queue', 'u'],
    });
    expect(splitArgv(['--', 'worker'], spec).subcommand).toBeUndefined();
    expect(splitArgv(['--each', 'x', 'worker'], spec).subcommand).toBeUndefined();
    expect(splitArgv(['--json', 'worker'], spec).subcommand).toBeUndefined();
    expect(splitArgv(['--each'], spec)).toMatchObject({ options: ['--each'], operands: [] });
  });
});

describe('the start-up guess of --mode follows the same split', () => {
  it('a hostile word after --each, --call or the job file never changes the guess', () => {
    const r = rng(99);
    const words = [
      ...hostileWords(EARLY_SPEC),
      '--mode=process',
      '-mprocess',
      '-qmprocess',
      '--mode',
      'process',
      '--dry-run',
      '--queue=redis://h',
      '-m',
    ];
    for (let n = 0; n < 2000; n++) {
      const before = pick(r, [[], ['-q'], ['-m', 'thread'], ['--mode=process'], ['-qw4']]);
      const ender = pick(r, [['--each', 'echo {}'], ['--call=m#f'], ['jobs.json'], ['--each', 'x', '--']]);
      const tail = Array.from({ length: 1 + Math.floor(r() * 5) }, () => pick(r, words));
      expect(modeWanted([...before, ...ender, ...tail])).toBe(modeWanted([...before, ...ender]));
    }
    // Thread mode starts a thread ahead only for calls (hybrid.ts runs a lone shell job without one).
    expect(modeWanted(['--each', 'echo {}', '--mode=process'])).toBeUndefined();
    expect(modeWanted(['--call', 'm#f', '--mode=process'])).toBe('thread');
    expect(modeWanted(['-m', 'process', '--each', 'echo {}', '--dry-run'])).toBe('process');
    expect(modeWanted(['--json', '--mode=process', '--call=m#f'])).toBe('thread');
    expect(modeWanted(['-qmprocess', 'jobs.json'])).toBe('process');
    expect(modeWanted(['--dry-run', 'jobs.json'])).toBeUndefined();
    expect(modeWanted(['-q', 'worker'])).toBeUndefined();
  });

  it('in thread mode, starts a thread ahead for a job file whose first jobs name a call, a copy or a download', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poolrun-peek-'));
    try {
      const file = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const shell = file('shell.json', JSON.stringify([{ run: 'true' }, { run: 'echo call' }]));
      const calls = file('calls.jsonl', `{"run":"true"}\n{ "call" : {"module":"m","export":"f"}}\n`);
      const copies = file('copies.json', JSON.stringify({ jobs: [{ copy: { from: 'a', to: 'b' } }] }));
      const downloads = file('dl.json', JSON.stringify([{ download: { url: 'http://h/', to: 'x' } }]));
      expect(modeWanted([shell])).toBeUndefined();
      expect(modeWanted([calls])).toBe('thread');
      expect(modeWanted([copies])).toBe('thread');
      expect(modeWanted([downloads])).toBe('thread');
      expect(modeWanted(['-m', 'process', shell])).toBe('process');
      expect(modeWanted(['--dry-run', calls])).toBeUndefined();
      expect(modeWanted([join(dir, 'missing.json')])).toBeUndefined();
      expect(modeWanted([dir])).toBeUndefined();
      // Past the first 16 KiB: not looked at.
      const late = file(
        'late.json',
        `[${'{"run":"true"},'.repeat(2000)}{"call":{"module":"m","export":"f"}}]`,
      );
      expect(modeWanted([late])).toBeUndefined();
      // A FIFO is never opened: not waited on when no writer comes, and a writer waiting is not let go (were it
      // opened and closed here, the writer's write would fail, and the run's own open would wait forever).
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      expect(modeWanted([fifo])).toBeUndefined();
      const writer = spawn('/bin/sh', ['-c', `printf '[{"call":1}]' > ${fifo} && echo written`], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let said = '';
      writer.stdout.on('data', (d: Buffer) => (said += d.toString()));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(modeWanted([fifo])).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(said).toBe('');
      expect([writer.exitCode, writer.signalCode]).toEqual([null, null]);
      // The writer is still there for the run's own reader (a reader that cannot hang the test).
      const read = execFileSync('timeout', ['5', 'cat', fifo], { encoding: 'utf8' });
      expect(read).toBe('[{"call":1}]');
      await new Promise((resolve) => (writer.exitCode === null ? writer.once('close', resolve) : resolve(0)));
      expect(said).toBe('written\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
