/** An output path that is an input or another output is refused before anything runs (F5). */
import { describe, expect, it } from 'vitest';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import type { Options } from 'execa';
import { GENERATED_TIMEOUT_MS, poolrun, readJson, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

const OUTPUTS = ['--json', '--junit', '--report', '--joblog'] as const;

/** How the same file can be named twice: as given, relative, through a hard link, a symlink, `./x`, `a/../x`. */
const SPELLINGS: Array<(dir: string, file: string) => string> = [
  (_d, f) => f,
  (_d, f) => relative(process.cwd(), f),
  (d, f) => {
    const l = join(d, `hard-${Math.random().toString(36).slice(2)}`);
    linkSync(f, l);
    return l;
  },
  (d, f) => {
    const l = join(d, `sym-${Math.random().toString(36).slice(2)}`);
    symlinkSync(f, l);
    return l;
  },
  (d, f) => join(d, 'sub', '..', f.slice(d.length + 1)),
];

describe('an output that is an input or another output', () => {
  it(
    'the job file, a :::: file, an -a file or stdin named as an output: exit 2, nothing runs, the input stays',
    async () => {
      let n = 0;
      for (const option of OUTPUTS)
        for (const [s, spell] of SPELLINGS.entries()) {
          const dir = temp();
          const marker = join(dir, 'ran');
          const jobs = join(dir, 'jobs.json');
          const jobText = JSON.stringify([{ id: 'a', run: `touch ${marker}` }]);
          writeFileSync(jobs, jobText);
          const args = join(dir, 'args.txt');
          writeFileSync(args, 'x\n');
          const kind = n++ % 4;
          let run: string[];
          let input: string;
          let stdin: number | undefined;
          if (kind === 0) [run, input] = [[jobs], jobs];
          else if (kind === 1) [run, input] = [['--each', `touch ${marker}`, '::::', args], args];
          else if (kind === 2) [run, input] = [['-a', args, 'touch', marker], args];
          else [run, input, stdin] = [[], jobs, openSync(jobs, 'r')];
          const before = readFileSync(input, 'utf8');
          const out = spell(dir, input);
          const r = await poolrun(
            ['-q', option, out, ...run],
            stdin === undefined ? {} : ({ stdin } as unknown as Options),
          );
          if (stdin !== undefined) closeSync(stdin);
          const why = `${option} ${out} (spelling ${s}, input kind ${kind}): ${r.stderr}`;
          expect(r.code, why).toBe(2);
          expect(r.stderr, why).toContain(`${option} `);
          expect(r.stderr, why).toMatch(/job file|input/);
          expect(existsSync(marker), why).toBe(false);
          expect(readFileSync(input, 'utf8'), why).toBe(before);
        }
    },
    GENERATED_TIMEOUT_MS,
  );

  it(
    'two outputs on one file (either existing or not yet): exit 2 naming both',
    async () => {
      const all = [...OUTPUTS, '--results'] as const;
      for (const [i, a] of all.entries())
        for (const b of all.slice(i + 1))
          for (const exists of [false, true]) {
            const dir = temp();
            const marker = join(dir, 'ran');
            const jobs = join(dir, 'jobs.json');
            writeFileSync(jobs, JSON.stringify([{ id: 'a', run: `touch ${marker}` }]));
            const out = join(dir, 'out');
            if (exists) writeFileSync(out, 'keep');
            const other = join(dir, 'sub', '..', 'out');
            const r = await poolrun(['-q', a, out, b, other, jobs]);
            const why = `${a} ${b} exists=${exists}: ${r.stderr}`;
            expect(r.code, why).toBe(2);
            expect(r.stderr, why).toMatch(/same file/);
            expect(r.stderr, why).toContain(`${a} `);
            expect(r.stderr, why).toContain(`${b} `);
            expect(existsSync(marker), why).toBe(false);
            if (exists) expect(readFileSync(out, 'utf8')).toBe('keep');
          }
    },
    GENERATED_TIMEOUT_MS,
  );

  it('--joblog with --resume and --resume-failed still reads and appends its own log', async () => {
    const dir = temp();
    const jobs = join(dir, 'jobs.json');
    writeFileSync(
      jobs,
      JSON.stringify([
        { id: 'a', run: 'echo A' },
        { id: 'b', run: `test -e ${join(dir, 'ok')} || exit 3` },
      ]),
    );
    const log = join(dir, 'run.log');
    expect((await poolrun(['-q', '--joblog', log, jobs])).code).toBe(1);
    writeFileSync(join(dir, 'ok'), '');
    for (const flag of ['--resume-failed', '--resume']) {
      const r = await poolrun(['-q', '--joblog', log, flag, '--json', join(dir, 'r.json'), jobs]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(4);
  });
});

/**
 * `link/../o.json` is read by the kernel through the link (the parent of where it leads), not as `./o.json`
 * (a review: the results file's temp was made in the current folder, and the rename across file systems failed
 * with EXDEV after the jobs ran; `--junit o.json` beside it was refused as the same file).
 */
describe('an output path through a symbolic link and ..', () => {
  it('is where the link leads: written there, and not the same file as ./o.json', async () => {
    const here = temp();
    const away = temp();
    const target = join(away, 'b');
    mkdirSync(target);
    symlinkSync(target, join(here, 'link'));
    const r = await poolrun(
      ['-q', '--json', 'link/../o.json', '--junit', 'o.json', '--each', 'echo {}', '1'],
      {
        cwd: here,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(readJson(join(away, 'o.json')).results).toHaveLength(1);
    expect(readFileSync(join(here, 'o.json'), 'utf8')).toContain('<testsuite');
  });

  it('across file systems (/dev/shm): the results file is written, not lost at the rename', async () => {
    if (!existsSync('/dev/shm') || statSync('/dev/shm').dev === statSync(temp()).dev) return;
    const here = temp();
    const away = mkdtempSync('/dev/shm/poolrun-test-');
    try {
      mkdirSync(join(away, 'b'));
      symlinkSync(join(away, 'b'), join(here, 'link'));
      const r = await poolrun(['-q', '--json', 'link/../out.json', '--each', 'echo {}', '1', '2'], {
        cwd: here,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(readJson(join(away, 'out.json')).results).toHaveLength(2);
    } finally {
      rmSync(away, { recursive: true, force: true });
    }
  });
});
