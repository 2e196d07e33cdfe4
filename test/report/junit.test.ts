/** CI output: --junit validated by xmllint, and GitHub Actions workflow commands. */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();
const jobFile = writeJobs;

async function xpath(file: string, expr: string): Promise<string> {
  const r = await execa('xmllint', ['--xpath', expr, file]);
  return String(r.stdout);
}

describe('--junit', () => {
  it('well-formed XML: one testcase per job, failures with exit status and stderr tail, skipped for cancelled', async () => {
    const dir = temp();
    const xml = join(dir, 'junit.xml');
    const file = jobFile(dir, [
      { id: 'passes', run: 'sleep 0.25; echo fine' },
      // Everything XML makes hard: markup characters, a control character, bytes that are not UTF-8.
      { id: 'fails <&> "quoted"', run: 'printf \'a < b && c > d "q" \\001 \\377\\n\' >&2; exit 3' },
      { id: 'long-stderr', run: 'for i in $(seq 1 3000); do echo "stderr line $i" >&2; done; exit 1' },
      { id: 'too-slow', run: 'sleep 30' },
    ]);
    const r = await poolrun([
      '-q',
      '-w',
      '4',
      '--timeout',
      '1s',
      '--kill-after',
      '200ms',
      '--junit',
      xml,
      file,
    ]);
    expect(r.code).toBe(1);
    await execa('xmllint', ['--noout', xml]);
    expect(await xpath(xml, 'count(//testcase)')).toBe('4');
    expect(await xpath(xml, 'count(//testcase/failure)')).toBe('3');
    expect(await xpath(xml, 'string(/testsuites/@tests)')).toBe('4');
    expect(await xpath(xml, 'string(/testsuites/testsuite/@failures)')).toBe('3');
    expect(await xpath(xml, 'string(/testsuites/testsuite/@name)')).toBe('jobs.json');
    // Times are seconds.
    const passTime = Number(await xpath(xml, 'string(//testcase[@name="passes"]/@time)'));
    expect(passTime).toBeGreaterThanOrEqual(0.2);
    expect(passTime).toBeLessThan(5);
    expect(await xpath(xml, 'string(//testcase[2]/@name)')).toBe('fails <&> "quoted"');
    expect(await xpath(xml, 'string(//testcase[2]/failure/@message)')).toBe('exit status 3');
    expect(await xpath(xml, 'string(//testcase[2]/failure)')).toMatch(/a < b && c > d "q" \uFFFD \uFFFD/);
    const tail = await xpath(xml, 'string(//testcase[@name="long-stderr"]/failure)');
    expect(tail).toMatch(/stderr line 3000$/);
    expect(tail).not.toMatch(/stderr line 1\n/);
    expect(await xpath(xml, 'string(//testcase[@name="too-slow"]/failure/@type)')).toBe('timed-out');
    expect(await xpath(xml, 'string(//testcase[@name="too-slow"]/failure/@message)')).toMatch(
      /timed out after 1000ms/,
    );
  });

  it('jobs cancelled by --halt are <skipped>', async () => {
    const dir = temp();
    const xml = join(dir, 'junit.xml');
    const file = jobFile(dir, [
      { id: 'first', run: 'exit 1' },
      { id: 'second', run: 'true' },
      { id: 'third', run: 'true' },
    ]);
    const r = await poolrun(['-q', '-w', '1', '--halt', 'soon', '--junit', xml, file]);
    expect(r.code).toBe(1);
    await execa('xmllint', ['--noout', xml]);
    expect(await xpath(xml, 'count(//testcase/skipped)')).toBe('2');
    expect(await xpath(xml, 'string(/testsuites/testsuite/@skipped)')).toBe('2');
    expect(await xpath(xml, 'string(//testcase[3]/@name)')).toBe('third');
  });
});

describe('GitHub Actions (GITHUB_ACTIONS=true)', () => {
  it('each job output folded in ::group::/::endgroup::, balanced; one ::error per failed job', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'a', run: 'echo from a' },
      { id: 'b', run: "printf 'no newline'" },
      { id: 'c', run: 'echo "c says no" >&2; exit 2' },
      { id: 'quiet', run: 'true' },
      { id: 'd', run: 'sleep 30' },
      { id: 'e,with:colon', run: 'exit 1' },
    ]);
    const r = await poolrun(['-w', '3', '--timeout', '1s', '--kill-after', '200ms', file], {
      env: { GITHUB_ACTIONS: 'true' },
    });
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    let depth = 0;
    const groups: string[] = [];
    for (const l of lines) {
      if (l.startsWith('::group::')) {
        expect(depth).toBe(0);
        depth++;
        groups.push(l.slice('::group::'.length));
      } else if (l === '::endgroup::') {
        expect(depth).toBe(1);
        depth--;
      }
    }
    expect(depth).toBe(0);
    expect(groups).toEqual(['a', 'b', 'c']);
    expect(r.stdout).toContain('::group::a\nfrom a\n::endgroup::\n');
    expect(r.stdout).toContain('::group::b\nno newline\n::endgroup::\n');
    const errors = lines.filter((l) => l.startsWith('::error'));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toBe('::error title=failed%3A c::exit status 2 — c says no');
    expect(errors[1]).toMatch(/^::error title=timed out%3A d::timed out after 1000ms$/);
    expect(errors[2]).toBe('::error title=failed%3A e%2Cwith%3Acolon::exit status 1');
  });

  it('a secret where an annotation, --junit or --report cuts a long stderr line is masked whole; control characters escaped', async () => {
    const dir = temp();
    const pw = 'Zq7PASSWORD0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    // The cut falls inside the password, at each of the places that keep part of a line: the annotation's 500
    // characters, --report's 2 KiB and JUnit's 8 KiB tails (a line with no newline after it, and a long one).
    const cases = [480, 500 - 30, 2048 - 20, 8192 - 20].flatMap((before) => [
      { before, after: 10 },
      { before: 100, after: before },
    ]);
    const jobs = cases.map((c, k) => {
      const f = join(dir, `err${k}`);
      writeFileSync(f, `${'q'.repeat(c.before)} https://user:${pw}@example.com/x ${'r'.repeat(c.after)}`);
      return { id: `j${k}`, run: `cat ${f} >&2; exit 1` };
    });
    jobs.push({ id: 'esc\u001b]0;T\u0007', run: "printf 'bad\\033]0;PWNED\\007\\n' >&2; exit 1" });
    const r = await poolrun(
      ['-q', '--report', join(dir, 'r.html'), '--junit', join(dir, 'r.xml'), writeJobs(dir, jobs)],
      { env: { GITHUB_ACTIONS: 'true' } },
    );
    expect(r.code).toBe(1);
    // The jobs' own output is theirs (printed as it is); what poolrun writes of it is masked.
    const annotations = r.stdout.split('\n').filter((l) => l.startsWith('::error'));
    expect(annotations).toHaveLength(jobs.length);
    const texts = [
      annotations.join('\n'),
      readFileSync(join(dir, 'r.html'), 'utf8'),
      readFileSync(join(dir, 'r.xml'), 'utf8'),
    ];
    // No 8 characters of the password in a row, anywhere.
    for (const t of texts)
      for (let i = 0; i + 8 <= pw.length; i++) expect(t).not.toContain(pw.slice(i, i + 8));
    // eslint-disable-next-line no-control-regex -- no control character may reach the log
    expect(annotations.join('\n')).not.toMatch(/\u001b|\u0007/);
    expect(annotations.at(-1)).toContain('bad\\x1b]0;PWNED\\x07');
    expect(r.stdout).toContain('::group::esc\\x1b]0;T\\x07');
  });

  it('without GITHUB_ACTIONS there are no workflow commands', async () => {
    const dir = temp();
    const r = await poolrun([jobFile(dir, ['echo hi', 'exit 1'])], { env: { GITHUB_ACTIONS: '' } });
    expect(r.stdout).toBe('hi\n');
  });
});
