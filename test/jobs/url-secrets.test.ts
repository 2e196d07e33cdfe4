import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs } from '../helpers.js';
import { malformedUrls } from '../util/malformed-urls.js';

const temp = useTempDirs();

/** Every secret of `urls` absent from stderr, stdout and the --json and --joblog files (when written). */
function expectNoSecret(dir: string, r: { stdout: string; stderr: string }, secrets: string[]): void {
  const outputs: [string, string][] = [
    ['stderr', r.stderr],
    ['stdout', r.stdout],
  ];
  for (const f of ['out.json', 'log.tsv'])
    if (existsSync(join(dir, f))) outputs.push([f, readFileSync(join(dir, f), 'utf8')]);
  const leaks: string[] = [];
  for (const [name, text] of outputs)
    for (const s of secrets) if (text.includes(s)) leaks.push(`${name}: ${s}`);
  expect(leaks).toEqual([]);
}

describe('a download URL that does not parse keeps its secrets in no message', () => {
  it('the reported case: user, password and query value masked', async () => {
    const dir = temp();
    const file = join(dir, 'jobs.json');
    const url = 'http://u:PWSECRET@exa mple.com/?t=QSECRET';
    writeFileSync(file, JSON.stringify([{ download: { url, to: 'x' } }]));
    const r = await poolrun(['--json', join(dir, 'out.json'), '--joblog', join(dir, 'log.tsv'), file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('jobs[0].download.url: not a valid URL: "http://***:***@exa mple.com/?t=***"');
    expectNoSecret(dir, r, ['PWSECRET', 'QSECRET']);
  });

  it('generated malformed URLs, in a JSON file, a JSONL file and on stdin: exit 2, no secret printed', async () => {
    const urls = malformedUrls(150, 5);
    const secrets = urls.flatMap((u) => u.secrets);
    const jobs = urls.map((u, i) => ({ download: { url: u.url, to: `f${i}` } }));
    const dir = temp();
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify(jobs, null, 1));
    writeFileSync(join(dir, 'jobs.jsonl'), jobs.map((j) => JSON.stringify(j)).join('\n'));
    const report = ['--json', join(dir, 'out.json'), '--joblog', join(dir, 'log.tsv')];
    for (const args of [[join(dir, 'jobs.json')], [join(dir, 'jobs.jsonl')]]) {
      const r = await poolrun([...report, ...args], { cwd: dir });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/download\.url: (not a valid URL|expected an http)/);
      expectNoSecret(dir, r, secrets);
    }
    const r = await poolrun([...report, '-'], {
      cwd: dir,
      input: jobs.map((j) => JSON.stringify(j)).join('\n'),
    });
    expect(r.code, r.stderr).toBe(2);
    expectNoSecret(dir, r, secrets);
  }, 60_000);

  it('URLs that parse but are odd (spaces, percent signs) and fail at run time: no secret in any output', async () => {
    const dir = temp();
    const urls = [
      'http://u:PW1SECRET@127.0.0.1:1/a b?t=Q1SECRET x#F1SECRET',
      'http://127.0.0.1:1/%zz?t=Q2SECRET&u=Q3SECRET',
      'http://u:PW2 SECRET@127.0.0.1:1/x?Q4SECRET',
      'HTTP://:PW3SECRET@127.0.0.1:1?a=Q5SECRET;b=Q6SECRET',
    ];
    const file = join(dir, 'jobs.json');
    writeFileSync(file, JSON.stringify(urls.map((url, i) => ({ download: { url, to: `f${i}` } }))));
    const r = await poolrun(['--json', join(dir, 'out.json'), '--joblog', join(dir, 'log.tsv'), file], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(existsSync(join(dir, 'out.json'))).toBe(true);
    expectNoSecret(dir, r, [
      'PW1SECRET',
      'Q1SECRET',
      'F1SECRET',
      'Q2SECRET',
      'Q3SECRET',
      'SECRET@',
      'Q4',
      'Q5',
      'Q6',
      'PW3',
    ]);
  }, 60_000);
});
