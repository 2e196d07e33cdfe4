/**
 * End to end, through the built CLI: secret-NAMED values (`DB_PASS=`, `SMTP_PASS=` in an id, `mysql -p…`,
 * `--passphrase …`, `"db_pass": …` in a call's argument, `env …_KEY=… cmd`) are masked in --dry-run, the joblog's
 * Command and JobId, --json ids, JUnit, --report, the status lines, the summary and the rerun hint.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, poolrun, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();

describe('secret-named values through the CLI', () => {
  it('no secret in --dry-run, the joblog, --json, JUnit, --report, stderr or the rerun hint', async () => {
    const dir = temp();
    const S = Array.from({ length: 12 }, (_, i) => `Zq${i}x${(i * 7919 + 104729).toString(16)}w`);
    const jobs = [
      { id: `SMTP_PASS=${S[0]}`, run: `DB_PASS=${S[1]} true; mysql -p${S[2]} -e 1 2>/dev/null; exit 1` },
      { id: `export REDIS_PASS=${S[3]}`, run: `export DB_PASS=${S[4]}; env STRIPE_KEY=${S[5]} true` },
      {
        id: `gpg --passphrase ${S[6]}`,
        run: ['sh', '-c', 'exit 2', 'sh', `npm_config__auth=${S[7]}`, `password = ${S[8]}`],
      },
      {
        id: `call AWS_SECRET_ACCESS_KEY=${S[9]}`,
        call: { module: join(FIXTURES, 'tasks.mjs'), export: 'fail', args: [{ db_pass: S[10] }] },
      },
    ];
    const file = writeJobs(dir, jobs);
    const f = (n: string) => join(dir, n);
    const dry = await poolrun(['--dry-run', file], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('DB_PASS=***');
    expect(dry.stdout).toContain('mysql -p***');
    expect(dry.stdout).toContain('STRIPE_KEY=***');
    const run = await poolrun(
      [
        '--reporter',
        'plain',
        '--joblog',
        f('p.log'),
        '--json',
        f('p.json'),
        '--junit',
        f('p.xml'),
        '--report',
        f('p.html'),
        file,
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(1);
    const hint = await poolrun(['--joblog', f('h.log'), '--each', `false DB_PASS=${S[11]} {}`, 'x'], {
      cwd: dir,
    });
    expect(hint.code).toBe(1);
    expect(hint.stderr).toContain('DB_PASS=***');
    const places: Array<[string, string]> = [
      ['dry-run', dry.stdout + dry.stderr],
      ['run stdout', run.stdout],
      ['run stderr', run.stderr],
      ['hint', hint.stdout + hint.stderr],
      ...['p.log', 'p.json', 'p.xml', 'p.html', 'h.log'].map((n): [string, string] => [
        n,
        readFileSync(f(n), 'utf8'),
      ]),
    ];
    for (const s of S) for (const [name, text] of places) expect(text, `${s} in ${name}`).not.toContain(s);
    const log = readFileSync(f('p.log'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    expect(log.map((l) => l[9]).sort()).toEqual(
      [
        'SMTP_PASS=***',
        'export REDIS_PASS=***',
        'gpg --passphrase ***',
        'call AWS_SECRET_ACCESS_KEY=***',
      ].sort(),
    );
    const ids = (
      JSON.parse(readFileSync(f('p.json'), 'utf8')) as { results: Array<{ id: string }> }
    ).results.map((r) => r.id);
    expect(ids).toEqual([
      'SMTP_PASS=***',
      'export REDIS_PASS=***',
      'gpg --passphrase ***',
      'call AWS_SECRET_ACCESS_KEY=***',
    ]);
  });
});
