import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs, writeJobs } from '../helpers.js';
import { escapeControls } from '../../dist/util/text.js';

// A file name in an error may hold a newline or other control characters: the status line and the summary show
// it escaped (`fi\nfo`), whole, with the reason after it, never cut at the newline (which named another file).
const temp = useTempDirs();
const NAMES = [
  'nl\nname',
  'cr\rname',
  'esc\x1b[31mX',
  'tab\tname',
  'bidi\u202eeman',
  'ls\u2028x',
  'del\x7fx',
  'c1\x9bx',
  'two\n\nlines\n',
];
const STATUS = /^\d\d:\d\d:\d\d\.\d{3} (?:started|failed|succeeded) \S+(?: \(.*\))?$/;

describe('a file name with control characters in an error message', () => {
  it('is shown escaped and whole in every status line and the summary (copy and download)', async () => {
    const dir = temp();
    const jobs: unknown[] = [];
    const want: string[] = [];
    NAMES.forEach((n, i) => {
      // A missing source: `source not found: PATH`.
      jobs.push({ id: `src${i}`, copy: { from: `missing-${n}`, to: `out/a${i}` } });
      want.push(`source not found: ${escapeControls(join(dir, `missing-${n}`))}`);
      // A FIFO inside a tree: the reason comes after the name.
      const tree = join(dir, `tree${i}`);
      mkdirSync(tree);
      execFileSync('mkfifo', [join(tree, `fifo-${n}`)]);
      jobs.push({ id: `tree${i}`, copy: { from: `tree${i}`, to: `out/t${i}` } });
      want.push(`cannot copy ${escapeControls(join(tree, `fifo-${n}`))}: not a regular file`);
      // An existing destination of a download: checked before any request.
      writeFileSync(join(dir, `have-${n}`), 'x');
      jobs.push({ id: `dl${i}`, download: { url: 'http://127.0.0.1:9/x', to: `have-${n}` } });
      want.push(
        `destination exists: ${escapeControls(join(dir, `have-${n}`))} (set "overwrite": true to replace it)`,
      );
    });
    const file = writeJobs(dir, jobs);
    const r = await poolrun(['-w', '2', '--reporter', 'plain', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.replace(/\n$/, '').split('\n');
    const end = lines.findIndex((l) => l.startsWith('poolrun: '));
    expect(end).toBeGreaterThan(0);
    for (const l of lines.slice(0, end)) expect(l, JSON.stringify(l)).toMatch(STATUS);
    const failedLines = lines.slice(0, end).filter((l) => / failed /.test(l));
    const summary = lines.slice(end + 1).filter((l) => l.startsWith('  failed '));
    expect(failedLines, r.stderr).toHaveLength(want.length);
    // The summary lists the first 20 failures.
    expect(summary).toHaveLength(Math.min(20, want.length));
    for (const w of want)
      expect(
        failedLines.filter((l) => l.includes(w)),
        w,
      ).toHaveLength(1);
    for (const l of summary)
      expect(
        want.filter((w) => l.includes(w)),
        l,
      ).toHaveLength(1);
  });
});
