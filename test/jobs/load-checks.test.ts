/**
 * Inputs that got past the load-time check and failed (or went wrong) while the run was under way (acceptance
 * probe): each is now exit 2 with its place, before any job runs.
 * - a shell job's command and environment too large for exec together (each string within its own limit): it
 *   failed with E2BIG at run time. Checked against the kernel itself: what poolrun accepts, exec takes;
 * - a download URL with a control character (the URL parser dropped a tab: `http://a\tb/` went to host `ab`) or a
 *   user or password whose `%` escapes do not decode ("URI malformed" when the request was made);
 * - a header given twice in other case (`Authorization`, `authorization`): the last was sent;
 * - a `cwd` of a copy or download job, which nothing used (its paths resolve against the job file's folder);
 * - `--call` naming a module file that does not exist (every call failed, exit 1).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_TIMEOUT_MS, poolrun, rng, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

/** Whether the kernel execs /bin/sh -c true with `env` (poolrun's environment under it) — the oracle. */
function kernelTakes(env: Record<string, string>): boolean {
  const r = spawnSync('/bin/sh', ['-c', 'true'], { env: { ...process.env, ...env, POOLRUN_JOB_ID: '1' } });
  if (r.error) {
    expect((r.error as NodeJS.ErrnoException).code).toBe('E2BIG');
    return false;
  }
  return r.status === 0;
}

describe('checked when the job file is read', () => {
  it(
    "generated: an environment near exec's limit runs where poolrun takes it, and is exit 2 only past the kernel's limit (1 KiB of margin)",
    async () => {
      const r = rng(515);
      const seen = { refused: 0, ran: 0 };
      // The limit is a quarter of the stack limit (8 MiB: 2 MiB); entries of 100,000 bytes each.
      for (let round = 0; round < 8; round++) {
        const dir = temp();
        const entries = 18 + Math.floor(r() * 5);
        const tail = Math.floor(r() * 100_000);
        const env: Record<string, string> = {};
        for (let i = 0; i < entries; i++) env[`V${i}`] = 'x'.repeat(100_000);
        env.TAIL = 'y'.repeat(tail);
        const inDefaults = r() < 0.5;
        const doc = inDefaults
          ? { defaults: { env }, jobs: [{ run: 'echo ran > ran.txt' }] }
          : [{ run: 'echo ran > ran.txt', env }];
        writeFileSync(join(dir, 'jobs.json'), JSON.stringify(doc));
        const res = await poolrun(['-q', 'jobs.json'], { cwd: dir });
        const what = `${entries} × 100 kB + ${tail} bytes (${inDefaults ? 'defaults' : 'the job'})`;
        const takes = kernelTakes(env);
        if (res.code === 2) {
          seen.refused++;
          expect(res.stderr, what).toMatch(
            /jobs\.json:1(:\d+)?: jobs\[0\]\.(env|run): the command and its environment are \d+ bytes together/,
          );
          expect(existsSync(join(dir, 'ran.txt'))).toBe(false);
          // Refused: the kernel refuses it too, or it is within the margin of the limit.
          if (takes) {
            const bigger: Record<string, string> = { ...env, PAD: 'z'.repeat(1024) };
            expect(kernelTakes(bigger), `${what}: refused, but exec takes 1 KiB more`).toBe(false);
          }
        } else {
          seen.ran++;
          expect(res.code, `${what}\n${res.stderr}`).toBe(0);
          expect(takes, what).toBe(true);
          expect(existsSync(join(dir, 'ran.txt'))).toBe(true);
        }
      }
      expect(seen.refused).toBeGreaterThan(0);
      expect(seen.ran).toBeGreaterThan(0);
    },
    GENERATED_TIMEOUT_MS,
  );

  it('an environment over the limit in a JSONL file and on stdin: exit 2 at its line, nothing runs', async () => {
    const dir = temp();
    const env: Record<string, string> = {};
    for (let i = 0; i < 25; i++) env[`V${i}`] = 'x'.repeat(100_000);
    const text = `{"run":"echo ran > ran.txt"}\n${JSON.stringify({ run: 'true', env })}\n`;
    writeFileSync(join(dir, 'jobs.jsonl'), text);
    const file = await poolrun(['-q', 'jobs.jsonl'], { cwd: dir });
    expect(file.code, file.stderr).toBe(2);
    expect(file.stderr).toMatch(/jobs\.jsonl:2(:\d+)?: jobs\[1\]\.env: the command and its environment are/);
    expect(existsSync(join(dir, 'ran.txt'))).toBe(false);
    const stdin = await poolrun(['-q', '-'], { cwd: dir, input: text });
    expect(stdin.code, stdin.stderr).toBe(2);
    expect(stdin.stderr).toMatch(/<stdin>:2(:\d+)?: jobs\[1\]\.env: the command and its environment are/);
  });

  it("a command made from input (--each, GNU form) too big for exec with poolrun's environment: exit 2 at its job", async () => {
    // A review: only a job file's jobs were checked; `--each` failed at run time with exit 126, E2BIG.
    const dir = temp();
    const big: Record<string, string> = {};
    for (let i = 0; i < 20; i++) big[`BIG${i}`] = 'x'.repeat(100_000);
    const line = `${'y'.repeat(100_000)}\n`;
    writeFileSync(join(dir, 'arg'), line);
    for (const args of [
      ['--each', 'echo {} | wc -c'],
      ['echo {} | wc -c', '::::', 'arg'],
    ]) {
      const res = await poolrun(['-q', ...args], { cwd: dir, input: line, env: big });
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toMatch(/job 1: the command and its environment are \d+ bytes together/);
      const small: Record<string, string> = {};
      for (let i = 0; i < 15; i++) small[`BIG${i}`] = 'x'.repeat(100_000);
      const ok = await poolrun(['-q', ...args], { cwd: dir, input: line, env: small });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toBe('100001\n');
    }
  });

  it.each([
    ['http://a\tb/', 'a control character'],
    ['http://127.0.0.1:9/ok\n', 'a control character'],
    ['http://127.0.0.1:9/a\rb', 'a control character'],
    ['http://127.0.0.1:9/\u007f', 'a control character'],
    ['http://u:SEK%zzRET@h.invalid/', 'a % escape in its user or password that does not decode'],
    ['http://u%:pw@h.invalid/', 'a % escape in its user or password that does not decode'],
    ['http://u:SEK%ffRET@h.invalid/', 'a % escape in its user or password that does not decode'],
  ])('a download URL %j: exit 2 at jobs[1].download.url (%s), its secret masked', async (url, why) => {
    const dir = temp();
    writeFileSync(
      join(dir, 'jobs.json'),
      JSON.stringify([{ run: 'echo ran > ran.txt' }, { download: { url, to: 'out' } }]),
    );
    const res = await poolrun(['-q', 'jobs.json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/jobs\.json:1:\d+: jobs\[1\]\.download\.url: not a valid URL \(/);
    expect(res.stderr).toContain(why);
    expect(res.stderr).not.toContain('SEK');
    expect(existsSync(join(dir, 'ran.txt'))).toBe(false);
  });

  it('URLs that parse as written still run: a space, %25, an escaped password', async () => {
    const dir = temp();
    const urls = [
      'http://127.0.0.1:9/a b',
      'http://u:p%25w@127.0.0.1:9/',
      'http://u:p%41@127.0.0.1:9/x?q=%zz',
    ];
    writeFileSync(
      join(dir, 'jobs.json'),
      JSON.stringify(urls.map((url, i) => ({ download: { url, to: `o${i}` } }))),
    );
    const res = await poolrun(['--dry-run', 'jobs.json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('a header given twice in another case is exit 2 at the second; once each is fine', async () => {
    const dir = temp();
    const job = (headers: Record<string, string>) => [
      { download: { url: 'http://127.0.0.1:9/', to: 'o', headers } },
    ];
    writeFileSync(
      join(dir, 'a.json'),
      JSON.stringify(job({ Authorization: 'Bearer x', authorization: 'Bearer y' })),
    );
    const res = await poolrun(['--dry-run', 'a.json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(
      /a\.json:1:\d+: jobs\[0\]\.download\.headers\.authorization: the header Authorization is given twice/,
    );
    expect(res.stderr).not.toMatch(/Bearer [xy]/);
    writeFileSync(join(dir, 'b.json'), JSON.stringify(job({ 'X-A': '1', 'X-B': '2' })));
    expect((await poolrun(['--dry-run', 'b.json'], { cwd: dir })).code).toBe(0);
  });

  it.each(['copy', 'download'])(
    "a %s job's own cwd is exit 2 at it; defaults.cwd is for the jobs that use one",
    async (kind) => {
      const dir = temp();
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'f'), 'x');
      const action =
        kind === 'copy'
          ? { copy: { from: 'f', to: 'g' } }
          : { download: { url: 'http://127.0.0.1:9/', to: 'g' } };
      writeFileSync(join(dir, 'a.json'), JSON.stringify([{ cwd: 'sub', ...action }]));
      const res = await poolrun(['-q', 'a.json'], { cwd: dir });
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toMatch(
        new RegExp(
          `a\\.json:1:\\d+: jobs\\[0\\]\\.cwd: a ${kind}'s .* resolves? against the job file's folder, not a cwd`,
        ),
      );
      writeFileSync(
        join(dir, 'b.json'),
        JSON.stringify({
          defaults: { cwd: 'sub' },
          jobs: [{ copy: { from: 'sub/f', to: 'g2' } }, { run: 'pwd' }],
        }),
      );
      const ok = await poolrun(['-q', 'b.json'], { cwd: dir });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toBe(`${join(dir, 'sub')}\n`);
      expect(existsSync(join(dir, 'g2'))).toBe(true);
    },
  );

  it.each([
    ['nonexist.mjs#f', 'module not found: nonexist.mjs'],
    ['./missing/x.mjs#f', 'module not found: ./missing/x.mjs'],
    ['file:///nonexistent-poolrun/x.mjs#f', 'module not found: file:///nonexistent-poolrun/x.mjs'],
    ['sub#f', 'is a directory'],
  ])('--call %s: exit 2 before any call (%s)', async (target, message) => {
    const dir = temp();
    mkdirSync(join(dir, 'sub'));
    const res = await poolrun(['--call', target, '1', '2'], { cwd: dir });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain(message);
    expect(res.stderr).not.toMatch(/started|failed 1/);
  });

  it("--call through --queue: the module is the workers' to find, not looked for on the producer", async () => {
    // A review: the check made a producer refuse a module that exists only on the workers (README: paths resolve on
    // the worker host). Here no Redis answers: the producer gets as far as trying it.
    const r = await poolrun([
      '--queue',
      'redis://127.0.0.1:1/0',
      '--call',
      '/nonexistent-poolrun/t.mjs#f',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('cannot reach Redis');
    expect(r.stderr).not.toContain('module not found');
  });
});
