/**
 * No copy or download of a job file writes a file of the run itself: its --json, --junit, --report, --joblog, a
 * --results folder, or the job file. A copy `"to": "log.txt"` replaced the joblog (--resume then found none of its
 * lines), and one to the job file replaced it. Such a file is exit 2 at the job's `to`, before anything runs,
 * however the place is spelt (`./`, `sub/..`, a link to it, a folder holding it), in JSON, JSONL and on stdin.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_TIMEOUT_MS, poolrun, rng, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

type Output = '--json' | '--junit' | '--report' | '--joblog' | '--results' | 'job file';
const OUTPUTS: Output[] = ['--json', '--junit', '--report', '--joblog', '--results', 'job file'];
type Spelling = 'same' | 'dot' | 'dotdot' | 'link' | 'holder' | 'inside';

interface Case {
  output: Output;
  spelling: Spelling;
  kind: 'copy' | 'download';
  format: 'json' | 'jsonl' | 'stdin';
}

/** The job file and arguments of one case; `to` is where its job writes. */
function build(dir: string, c: Case): { args: string[]; input?: string; to: string; shown: string } {
  mkdirSync(join(dir, 'out'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'src.txt'), 'new content\n');
  const jobFile = c.format === 'jsonl' ? 'jobs.jsonl' : 'jobs.json';
  const name = c.output === '--results' ? 'res' : c.output === 'job file' ? jobFile : 'out/own.file';
  // The run's file, as the run names it (its folder exists: out/).
  let to: string;
  switch (c.spelling) {
    case 'same':
      to = name;
      break;
    case 'dot':
      to = `./${name}`;
      break;
    case 'dotdot':
      to = `sub/../${name}`;
      break;
    case 'link':
      // Through a link to the folder that holds it (a link as the `to` itself is replaced, not followed).
      symlinkSync(dir, join(dir, 'here'));
      to = `here/${name}`;
      break;
    case 'holder':
      to = name.includes('/') ? name.slice(0, name.indexOf('/')) : name;
      break;
    case 'inside':
      to = `${name}/x`;
      break;
  }
  const job =
    c.kind === 'copy'
      ? { copy: { from: 'src.txt', to, overwrite: true } }
      : { download: { url: 'http://127.0.0.1:9/x', to, overwrite: true } };
  const text =
    c.format === 'json'
      ? JSON.stringify([{ run: 'echo ran > ran.txt' }, job])
      : `{"run":"echo ran > ran.txt"}\n${JSON.stringify(job)}\n`;
  if (c.format !== 'stdin') writeFileSync(join(dir, jobFile), text);
  const args = ['-q'];
  if (c.output === '--results') args.push('--results', name);
  else if (c.output !== 'job file') args.push(c.output, name);
  args.push(c.format === 'stdin' ? '-' : jobFile);
  return { args, input: c.format === 'stdin' ? text : undefined, to, shown: name };
}

/**
 * Whether the case writes the run's file, a folder holding it, or inside it (a path under a file can never be
 * written either): exit 2 expected. On stdin, `jobs.json` is no file of the run.
 */
function clashes(c: Case): boolean {
  return c.output !== 'job file' || c.format !== 'stdin';
}

describe("a job never writes the run's own files", () => {
  it(
    "generated: every output, spelling, kind and format: exit 2 at the job's `to` when it is the run's file, nothing run",
    async () => {
      const r = rng(20261205);
      const spellings: Spelling[] = ['same', 'dot', 'dotdot', 'link', 'holder', 'inside'];
      const cases: Case[] = [];
      for (const output of OUTPUTS)
        for (const spelling of spellings) {
          const kind = r() < 0.5 ? 'copy' : 'download';
          const format = (['json', 'jsonl', 'stdin'] as const)[Math.floor(r() * 3)]!;
          cases.push({ output, spelling, kind, format });
        }
      for (const c of cases) {
        const dir = temp();
        const { args, input, shown } = build(dir, c);
        const res = await poolrun(args, { cwd: dir, ...(input !== undefined && { input }) });
        const what = JSON.stringify(c);
        if (!clashes(c)) {
          // No clash: the copy may fail (a download from a closed port does), but the run went ahead.
          expect(res.code, `${what}\n${res.stderr}`).not.toBe(2);
          continue;
        }
        expect(res.code, `${what}\n${res.stderr}`).toBe(2);
        expect(res.stderr, what).toMatch(
          new RegExp(
            `jobs\\[1\\]\\.${c.kind}\\.to: writes .*${c.output === 'job file' ? 'the job file' : c.output}`,
          ),
        );
        expect(res.stderr, what).toMatch(/:\d+:\d+: jobs\[1\]/);
        expect(existsSync(join(dir, 'ran.txt')), `${what}: a job ran`).toBe(false);
        if (c.output === 'job file') expect(readFileSync(join(dir, shown), 'utf8')).toContain('ran.txt');
      }
    },
    GENERATED_TIMEOUT_MS,
  );

  it('a copy to the joblog through a link the joblog is given as (not there yet) is refused; --resume keeps its lines', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'src.txt'), 'x\n');
    symlinkSync('log.txt', join(dir, 'loglink'));
    writeFileSync(
      join(dir, 'jobs.json'),
      JSON.stringify([{ copy: { from: 'src.txt', to: 'log.txt', overwrite: true } }]),
    );
    const res = await poolrun(['-q', '--joblog', 'loglink', 'jobs.json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain('jobs.json:1:');
    expect(res.stderr).toContain('which is --joblog loglink of this run');
    // Without the clash the joblog is the run's to keep: a second run resumes from it.
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify([{ copy: { from: 'src.txt', to: 'copy.txt' } }]));
    expect((await poolrun(['-q', '--joblog', 'loglink', 'jobs.json'], { cwd: dir })).code).toBe(0);
    const again = await poolrun(['--joblog', 'loglink', '--resume', 'jobs.json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('1 job(s) the joblog records as done were not run again');
  });
});
