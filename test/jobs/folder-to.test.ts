import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs, writeJobs } from '../helpers.js';
import { normalizeJob } from '../../dist/jobs/normalize.js';
import type { JobFileProblem } from '../../dist/errors.js';

// `to` is the exact path of a copy's or a download's result, never a folder to put it in: a `to` that can only
// name a folder (`out/`, `out/.`, `..`) is refused before anything runs (cp f missing/ and curl -o out/ fail too),
// where it used to become a file named like the folder.
const temp = useTempDirs();
const FOLDERS = ['out/', 'out//', 'a/b/', './', '../', '/', '.', '..', 'out/.', 'out/..', 'a/./', 'out/../'];
const FILES = ['out/x', 'out/.x', 'out/..x', 'out/x.', 'out/...', '...', 'sub/x/y'];
const KINDS = {
  copy: (to: string) => ({ copy: { from: 'src.txt', to } }),
  download: (to: string) => ({ download: { url: 'http://127.0.0.1:9/x', to } }),
} as const;

describe('a `to` that names a folder', () => {
  it("is exit 2 at validation, located at the job's `to`, for copy and download; nothing runs", async () => {
    const dir = temp();
    writeFileSync(join(dir, 'src.txt'), 'data');
    const jobs = Object.values(KINDS).flatMap((make) => FOLDERS.map((to) => make(to)));
    const file = writeJobs(dir, [{ run: 'touch ran' }, ...jobs]);
    const r = await poolrun(['-q', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.includes(': names a folder'));
    const want = Object.keys(KINDS).flatMap((kind) =>
      FOLDERS.map((to, i) => {
        const end = to.endsWith('/') ? '/' : to.slice(to.lastIndexOf('/'));
        const n = 1 + Object.keys(KINDS).indexOf(kind) * FOLDERS.length + i;
        return `jobs[${n}].${kind}.to: names a folder (it ends in "${end}")`;
      }),
    );
    expect(
      lines.map((l) => /(jobs\[\d+\]\.\w+\.to: names a folder \(it ends in "[^"]*"\))/.exec(l)?.[1]),
    ).toEqual(want);
    expect(lines.every((l) => l.startsWith(`${file}:`) || l.includes(`${file}:`))).toBe(true);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['jobs.json', 'src.txt']);
  });

  it('the library refuses it too; names that only look like one are files', () => {
    for (const [kind, make] of Object.entries(KINDS)) {
      for (const to of [...FOLDERS, ...FILES]) {
        const problems: JobFileProblem[] = [];
        const job = normalizeJob(make(to), 0, { baseDir: '/tmp', where: 'submit()', path: 'job' }, problems);
        if (FOLDERS.includes(to)) {
          expect(job, `${kind} ${to}`).toBeUndefined();
          expect(problems.map((p) => p.path)).toEqual([`job.${kind}.to`]);
        } else expect(problems, `${kind} ${to}`).toEqual([]);
      }
      // An empty `to` is the schema's problem, said once.
      const problems: JobFileProblem[] = [];
      normalizeJob(make(''), 0, { baseDir: '/tmp', where: 'submit()', path: 'job' }, problems);
      expect(problems.map((p) => p.message)).toEqual([
        "expected a path (relative paths start from the job file's folder), got an empty string",
      ]);
    }
  });

  it('a copy to a name that only looks like a folder (`out/...`, `out/x.`) is made', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'src.txt'), 'data');
    const file = writeJobs(
      dir,
      FILES.map((to) => KINDS.copy(to)),
    );
    const r = await poolrun(['-q', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    for (const to of FILES) expect(readFileSync(join(dir, to), 'utf8'), to).toBe('data');
  });
});
