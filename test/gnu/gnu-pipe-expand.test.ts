/**
 * --pipe's command expanded as GNU parallel 20221122 expands it (compared on the same argv): `{#}` the job number,
 * `{%}` the worker slot, `{}` `{1}` `{-1}` and their forms one empty argument, nothing appended without a
 * replacement string; --dry-run prints the expanded command.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { BIN, rng, useTempDirs } from '../helpers.js';
import { runTool } from './run-tool.js';
import { pipeCommand, splitHeader } from '../../src/gnu/pipe.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

async function same(args: string[], input: string): Promise<void> {
  const dir = temp();
  const [g, p] = await Promise.all([
    runTool(GNU, ['--will-cite', '-k', ...args], dir, input),
    runTool(process.execPath, [BIN, '-q', ...args], dir, input),
  ]);
  const what = `${JSON.stringify(args)}\npoolrun stderr: ${p.stderr}\nGNU stderr: ${g.stderr}`;
  expect(p.stdout, what).toBe(g.stdout);
  expect(p.code, what).toBe(g.code);
}

const STRINGS = ['{#}', '{%}', '{}', '{1}', '{-1}', '{.}', '{/}', '{//}', '{/.}', '{1.}', 'x{}y', 'x{#}y'];

it('pipeCommand: replacement strings expanded, a command without one left as it is', () => {
  expect(pipeCommand('echo {#} {} {//}')(3)).toBe("echo 3 '' .");
  expect(pipeCommand('echo {%}')(1)).toBe('echo "$POOLRUN_WORKER"');
  expect(pipeCommand('wc -l')(2)).toBe('wc -l');
});

describe.skipIf(!existsSync(GNU))('--pipe replacement strings, against GNU parallel', () => {
  it('generated commands of replacement strings, -N and --block, -j1', async () => {
    const r = rng(16);
    for (let i = 0; i < 10; i++) {
      const words = Array.from(
        { length: 1 + Math.floor(r() * 4) },
        () => STRINGS[Math.floor(r() * STRINGS.length)]!,
      );
      const cmd = `printf '<%s>' ${words.join(' ')}; echo; cat`;
      const lines = 1 + Math.floor(r() * 9);
      const input = Array.from({ length: lines }, (_, k) => `line${k}\n`).join('');
      const cut = r() < 0.5 ? ['-N', String(1 + Math.floor(r() * 3))] : ['--block', '12'];
      await same(['-j1', '--pipe', ...cut, cmd], input);
    }
  });

  it('{%} and {#} of each job', async () => {
    // The job reads its block: GNU writes it into a pipe, and a job that exits unread may fail there on SIGPIPE.
    await same(['-j1', '--pipe', '-N1', 'cat >/dev/null; echo {%} {#}'], 'a\nb\nc\n');
  });

  it('--dry-run prints the expanded command', async () => {
    await same(['--dry-run', '--pipe', '-N2', "echo {#} {} {//} 'lit {' x{}y"], '1\n2\n3\n4\n5\n');
    await same(['--dry-run', '--pipe', '-N2', 'wc', '-l'], '1\n2\n3\n');
  });
});

describe.skipIf(!existsSync(GNU))('--pipe -n N is -N N, against GNU parallel', () => {
  it('blocks of N records, generated sizes', async () => {
    const r = rng(3);
    for (let i = 0; i < 4; i++) {
      const lines = 1 + Math.floor(r() * 60);
      const n = 1 + Math.floor(r() * 12);
      const input = Array.from({ length: lines }, (_, k) => `${k}\n`).join('');
      await same(['--pipe', i % 2 ? '--max-args' : '-n', String(n), 'wc -l; echo {#}'], input);
    }
    await same(
      ['--pipe', '-n', '500', 'wc', '-l'],
      Array.from({ length: 2000 }, (_, k) => `${k}\n`).join(''),
    );
  });

  it('-N and -n together: -N counts, in either order', async () => {
    const input = Array.from({ length: 7 }, (_, k) => `${k}\n`).join('');
    await same(['-j1', '--pipe', '-N1', '-n', '3', 'wc -l'], input);
    await same(['-j1', '--pipe', '-n', '3', '-N2', 'wc -l'], input);
  });
});

it('splitHeader: the first line, across chunks; no newline, no header', async () => {
  async function split(chunks: string[]): Promise<[string | undefined, string]> {
    let header: string | undefined;
    async function* input() {
      for (const c of chunks) yield await Promise.resolve(Buffer.from(c));
    }
    let rest = '';
    for await (const b of splitHeader(input(), (h) => (header = h.toString()))) rest += b.toString();
    return [header, rest];
  }
  expect(await split(['He', 'ad', 'er\n1', '\n2\n'])).toEqual(['Header\n', '1\n2\n']);
  expect(await split(['H\n'])).toEqual(['H\n', '']);
  expect(await split(['H', 'x'])).toEqual([undefined, 'Hx']);
});

describe.skipIf(!existsSync(GNU))('--pipe --header :, against GNU parallel', () => {
  it('the first line at the top of every block: generated inputs, -N, --block, --recstart', async () => {
    const r = rng(5);
    const inputs = ['H\n', 'H', '', 'H\nxa\nb\nxc\nd\n'];
    for (let i = 0; i < 6; i++) {
      const lines = Math.floor(r() * 12);
      inputs.push('name,n\n' + Array.from({ length: lines }, (_, k) => `x${k},${k * 7}\n`).join(''));
    }
    const cuts = [
      ['-N', '2'],
      ['-N', '1'],
      ['--block', '9'],
      ['--recstart', 'x', '-N', '2'],
    ];
    for (const [i, input] of inputs.entries())
      await same(['--pipe', '--header', ':', ...cuts[i % cuts.length]!, 'cat; echo -'], input);
  });
});

it('--pipe --header other than : is exit 2 saying so', async () => {
  const r = await runTool(process.execPath, [BIN, '--pipe', '--header', 'H', 'cat'], temp(), 'H\n1\n');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--header with --pipe: only --header :/);
  expect(r.stdout).toBe('');
});

describe.skipIf(!existsSync(GNU))('--pipe jobs in the joblog, against GNU parallel', () => {
  /** The joblog's Seq, Exitval and Command columns: the rest are times and sizes. */
  const columns = (log: string) =>
    log
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'))
      .map((f) => [f[0], f[6], f[8]].join('\t'))
      .join('\n');

  it('Command is the job as --dry-run shows it, never the temp file that feeds it (generated commands)', async () => {
    const r = rng(61);
    for (let i = 0; i < 6; i++) {
      const cmd = ['cat', 'wc -l', 'echo {#}; cat', "sed 's/^/x /'", 'cat >/dev/null; exit 3'][
        Math.floor(r() * 5)
      ]!;
      const n = String(1 + Math.floor(r() * 3));
      const input = Array.from({ length: 1 + Math.floor(r() * 7) }, (_, k) => `l${k}\n`).join('');
      const dir = temp();
      const args = ['-j1', '--pipe', '-N', n, '--joblog', '-', cmd];
      const [g, p] = await Promise.all([
        runTool(GNU, ['--will-cite', '-k', ...args], dir, input),
        runTool(process.execPath, [BIN, '-q', ...args], dir, input),
      ]);
      const what = `${JSON.stringify(args)}\n${p.stderr}`;
      expect(p.code, what).toBe(g.code);
      // Job output and log lines interleave as GNU's do; compare the log lines (those with 9+ tab fields).
      const logOf = (s: string) =>
        s
          .split('\n')
          .filter((l) => l.split('\t').length >= 9)
          .join('\n');
      expect(columns(logOf(p.stdout)), what).toBe(columns(logOf(g.stdout)));
      expect(p.stdout, what).not.toMatch(/exec <|poolrun-/);
    }
  });

  it('--resume with the same input skips the blocks the log records (the job is its command and number)', async () => {
    const dir = temp();
    const log = `${dir}/log.tsv`;
    const first = await runTool(
      process.execPath,
      [BIN, '-q', '--pipe', '-N1', '--joblog', log, 'cat'],
      dir,
      'a\nb\n',
    );
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('a\nb\n');
    const again = await runTool(
      process.execPath,
      [BIN, '-q', '--pipe', '-N1', '--joblog', log, '--resume', 'cat'],
      dir,
      'a\nb\nc\n',
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('c\n');
  });
});

describe('--pipe with ::: or :::: sources', () => {
  it.each([
    [['-k', '--pipe', '-N1', 'cat; echo {}', ':::', 'x', 'y']],
    [['--pipe', 'cat', '::::', 'FILE']],
    [['--pipe', 'cat', ':::+', 'x']],
    [['--pipe', 'cat', '::::+', 'FILE']],
    // -a was not read at all (its file never opened) where GNU gives its values to {}.
    [['--pipe', '-a', 'FILE', 'cat']],
    [['--pipe', '-a', '/nonexistent-poolrun', 'cat']],
  ])('%j: exit 2, no block run (the words were run as the command: cat ::: x y)', async (args) => {
    // Probe: GNU gives the values to {} while stdin is cut into blocks; poolrun appended them to the command.
    const dir = temp();
    const file = `${dir}/in`;
    writeFileSync(file, 'f1\n');
    const argv = args.map((a) => (a === 'FILE' ? file : a));
    const r = await runTool(process.execPath, [BIN, ...argv], dir, 's1\ns2\n');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('input sources (');
    expect(r.stderr).toContain('with --pipe are not supported');
  });
});

describe('--pipe --each CMD with arguments', () => {
  it('is exit 2, and an argument is never run as code (a probe: $(touch X) ran)', async () => {
    const dir = temp();
    const r = await runTool(
      process.execPath,
      [BIN, '--pipe', '--each', 'cat', `$(touch ${dir}/PWNED)`, 'a;b'],
      dir,
      'l\n',
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--pipe --each CMD takes no arguments');
    expect(existsSync(`${dir}/PWNED`)).toBe(false);
    const ok = await runTool(process.execPath, [BIN, '-q', '--pipe', '--each', 'cat'], dir, 'l\n');
    expect([ok.code, ok.stdout]).toEqual([0, 'l\n']);
  });
});
