import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, FIXTURES, pidAlive, poolrun, waitFor, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

const CORPUS = join(FIXTURES, 'bad-jobs');
const STACK = /\n\s+at /;

describe('malformed job files', () => {
  /**
   * Every file in test/fixtures/bad-jobs has its expected problems in _expected.json: one line each,
   * `line:col: path: message` after the file name, in the order printed. Most files start with a job that
   * would create `ran` in the current folder: nothing may run.
   */
  it('the corpus: every file exits 2 with exactly its listed problems, located, and runs nothing', async () => {
    const expected = JSON.parse(readFileSync(join(CORPUS, '_expected.json'), 'utf8')) as Record<
      string,
      string[]
    >;
    const files = readdirSync(CORPUS).filter((f) => !f.startsWith('_'));
    expect(files.length).toBeGreaterThanOrEqual(50);
    expect(files.sort()).toEqual(Object.keys(expected).sort());

    const mismatches: string[] = [];
    const check = async (file: string) => {
      const cwd = temp();
      const path = join(CORPUS, file);
      const r = await poolrun(['-q', path], { cwd });
      const want = expected[file]!.map((e) => `${path}:${e.replaceAll('$FILE', path)}`);
      const lines = r.stderr
        .replace(/^poolrun: /, '')
        .split('\n')
        .filter(Boolean);
      // Several problems come after one header line.
      const header = `${path}: ${want.length} problems; nothing ran:`;
      const got = want.length > 1 && lines[0] === header ? lines.slice(1) : lines;
      if (r.code !== 2) mismatches.push(`${file}: exit ${r.code}`);
      if (STACK.test(r.stderr)) mismatches.push(`${file}: stack trace`);
      if (readdirSync(cwd).length) mismatches.push(`${file}: something ran (${readdirSync(cwd).join(', ')})`);
      if (want.length > 1 && lines[0] !== header) mismatches.push(`${file}: no header line "${header}"`);
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(`${file}:\n  want ${want.join('\n       ')}\n  got  ${got.join('\n       ')}`);
    };
    // Two at a time: the machine is shared.
    for (let i = 0; i < files.length; i += 2) await Promise.all(files.slice(i, i + 2).map(check));
    expect(mismatches).toEqual([]);
  }, 240_000);

  it('a job file with a BOM, CRLF line ends, or $schema pointing at the shipped schema is fine', async () => {
    const dir = temp();
    const bom = join(dir, 'bom.json');
    writeFileSync(bom, '\uFEFF["echo bom"]\r\n');
    const crlf = join(dir, 'crlf.txt');
    writeFileSync(crlf, 'echo one\r\n# comment\r\necho two\r\n');
    const withSchema = join(dir, 'schema.json');
    writeFileSync(withSchema, JSON.stringify({ $schema: '../schema/jobs.schema.json', jobs: ['echo s'] }));
    for (const [file, out] of [
      [bom, 'bom\n'],
      [crlf, 'one\ntwo\n'],
      [withSchema, 's\n'],
    ] as const) {
      const r = await poolrun(['-q', file]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(out);
    }
  });
});

describe('JSONL: a regular file is checked whole, a pipe is read as it arrives', () => {
  it('a bad line at the end of a 5,000-line file: nothing ran, and its line number is given', async () => {
    const dir = temp();
    const file = join(dir, 'jobs.jsonl');
    const lines = [
      `{"run": "touch ${dir}/ran"}`,
      ...Array.from({ length: 4998 }, () => '{"run": "true"}'),
      '{"run": 1}',
    ];
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await poolrun([file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `poolrun: ${file}:5000:9: jobs[4999].run: expected a command string (run with /bin/sh -c) or an argv array (run directly, no shell), got a number (1)\n`,
    );
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('piped, a bad line in the first lines read: nothing ran, and every problem in them is listed', async () => {
    const dir = temp();
    const input = [`{"run": "touch ${dir}/ran"}`, '{"run": "true", "timout": 1}', 'oops', ''].join('\n');
    const r = await poolrun(['-'], { input });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'poolrun: <stdin>: 2 problems; nothing ran:\n' +
        '<stdin>:2:17: jobs[1].timout: unknown key "timout" (did you mean "timeout"?)\n' +
        '<stdin>:3:1: jobs[2]: not valid JSON: unexpected word "oops" (strings need double quotes; true, false and null are lower case)\n',
    );
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it.each(['thread', 'process'])(
    'piped, a bad line after jobs started: the run stops, started jobs are killed, exit 2 (%s mode)',
    async (mode) => {
      const dir = temp();
      const pidFile = join(dir, 'pid');
      const child = execa(process.execPath, [BIN, '-w', '2', '-m', mode, '-'], {
        reject: false,
        stdin: 'pipe',
        env: { NO_COLOR: '1' },
      });
      child.stdin.write(`{"id": "long", "run": "echo $$ > ${pidFile}; exec sleep 30"}\n`);
      expect(
        await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 20_000),
      ).toBe(true);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pidAlive(pid)).toBe(true);
      child.stdin.end('{"run": "true"}\n{"run": "true", "bogus": true}\n{"run": "echo never"}\n');
      const r = await child;
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(
        /^poolrun: <stdin>:3:17: jobs\[2\]\.bogus: unknown key "bogus" .*\(input is read as it arrives: [12] jobs? before it had been submitted; the run was stopped\)$/m,
      );
      expect(r.stdout).not.toMatch(/never/);
      expect(STACK.test(r.stderr)).toBe(false);
      expect(await waitFor(() => !pidAlive(pid), 5000)).toBe(true);
    },
  );
});

describe('usage errors: exit 2, one line naming the problem, and a pointer to --help', () => {
  it.each([
    [['--bogus', 'jobs.json'], /^poolrun: unknown option '--bogus'$/],
    // `--worker 2` is `--workers 2` (an abbreviation, as Getopt::Long takes it): a misspelling is not.
    [['--workerz', '2', 'jobs.json'], /^poolrun: unknown option '--workerz'/],
    [
      ['--wo', '2', 'jobs.json'],
      /^poolrun: option --wo is ambiguous: it begins --work-dir, --workdir, --workers /,
    ],
    [['--workers', 'lots', 'jobs.json'], /^poolrun: --workers: expected .*, got "lots"$/],
    // 0 is GNU's "as many as possible" (-w and -j are one setting): a negative count past the sign is not.
    [['--workers', '1-2', 'jobs.json'], /^poolrun: --workers: expected .*, got "1-2"$/],
    [['--mode', 'fiber', 'jobs.json'], /^poolrun: option '-m, --mode <mode>' argument 'fiber' is invalid/],
    [
      ['--timeout', '5 parsecs', 'jobs.json'],
      /^poolrun: --timeout: expected a duration .*, got "5 parsecs"$/,
    ],
    [['--kill-after', 'soon', 'jobs.json'], /^poolrun: --kill-after: expected a duration .*, got "soon"$/],
    [['--deadline', '-3s', 'jobs.json'], /^poolrun: --deadline: expected a duration .*, got "-3s"$/],
    [['nope.json'], /^poolrun: job file not found: nope.json$/],
    [['.'], /^poolrun: job file is a directory: \. /],
    [['--format', 'yaml', 'jobs.json'], /^poolrun: option '--format <format>' argument 'yaml' is invalid/],
    [['-0', 'jobs.json'], /^poolrun: -0\/--null goes with --each/],
    [['--each', ''], /^poolrun: --each: expected a command/],
  ])('%j', async (args, first) => {
    const dir = temp();
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify([`touch ${dir}/ran`]));
    const r = await poolrun(args, { cwd: dir });
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(first);
    expect(lines.at(-1)).toBe('(run poolrun --help for usage)');
    expect(lines.length).toBeLessThanOrEqual(3); // commander adds "(Did you mean --workers?)" for a near miss
    expect(STACK.test(r.stderr)).toBe(false);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('a near-miss option gets a suggestion', async () => {
    const r = await poolrun(['--timout', '5s', 'jobs.json']);
    expect(r.stderr).toMatch(/\(Did you mean --timeout\?\)/);
  });
});

describe('strings exec would refuse (E2BIG): exit 2 where they are, before anything runs', () => {
  const MAX = 32 * 4096 - 1;
  /** Each way a job hands exec one string, `n` bytes long (multi-byte characters included). */
  const jobs = (n: number, mark: string) => {
    const fill = (len: number) => 'é'.repeat(Math.floor(len / 2)) + (len % 2 ? 'x' : '');
    return [
      { id: `${mark}-run`, run: `true #${fill(n - 6)}` },
      { id: `${mark}-word`, run: ['true', fill(n)] },
      { id: `${mark}-env`, run: 'true', env: { A: fill(n - 2) } },
      { id: fill(n - 'POOLRUN_JOB_ID='.length), run: 'true' },
    ];
  };

  it('at the limit they run; one byte over, each is named with its place and nothing runs', async () => {
    const dir = temp();
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify(jobs(MAX, 'a')));
    const r = await poolrun(['-q', ok]);
    expect(r.code, r.stderr.slice(0, 500)).toBe(0);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([`touch ${join(dir, 'ran')}`, ...jobs(MAX + 1, 'b')]));
    const b = await poolrun(['-q', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/4 problems; nothing ran/);
    for (const at of [
      'jobs\\[1\\]\\.run:',
      'jobs\\[2\\]\\.run\\[1\\]:',
      'jobs\\[3\\]\\.env\\.A:',
      'jobs\\[4\\]\\.id:',
    ])
      expect(b.stderr).toMatch(
        new RegExp(`bad\\.json:1:\\d+: ${at} .* is ${MAX + 1} bytes: .* at most ${MAX}`),
      );
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('a command given as a string (a JSON array’s string, a line of a lines file): the same limit', async () => {
    const dir = temp();
    const at = (n: number) => `true #${'x'.repeat(n - 6)}`;
    writeFileSync(join(dir, 'ok.txt'), `${at(MAX)}\n`);
    expect((await poolrun(['-q', join(dir, 'ok.txt')])).code).toBe(0);
    writeFileSync(join(dir, 's.json'), JSON.stringify([`touch ${join(dir, 'ran')}`, at(MAX + 1)]));
    writeFileSync(join(dir, 's.txt'), `touch ${join(dir, 'ran')}\n${at(MAX + 1)}\n`);
    for (const f of ['s.json', 's.txt']) {
      const r = await poolrun(['-q', join(dir, f)]);
      expect(r.code, f).toBe(2);
      expect(r.stderr, f).toMatch(
        new RegExp(`${f.replace('.', '\\.')}:[\\d:]+ jobs\\[1\\]: the command is ${MAX + 1} bytes`),
      );
    }
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('a command made from input (GNU form, --each): at the limit it runs; one byte over, exit 2 naming its job', async () => {
    const dir = temp();
    // `printf %s {}` quotes a plain value bare: the command is 10 bytes and the value.
    const value = (n: number) => 'x'.repeat(n - 'printf %s '.length);
    writeFileSync(join(dir, 'ok'), `${value(MAX)}\n`);
    writeFileSync(join(dir, 'long'), `${value(MAX + 1)}\n`);
    const ok = await poolrun(['-q', 'printf %s {}', '::::', join(dir, 'ok')]);
    expect([ok.code, ok.stdout.length]).toEqual([0, MAX - 10]);
    for (const args of [
      ['printf %s {}', '::::', join(dir, 'long')],
      ['--dry-run', 'printf %s {}', '::::', join(dir, 'long')],
      ['--each', 'printf %s {}', value(MAX + 1)],
    ]) {
      const r = await poolrun(['-q', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(`^poolrun: job 1: the command is ${MAX + 1} bytes: .* at most ${MAX}`),
      );
      expect(r.stderr).not.toMatch(/E2BIG/);
    }
    // After jobs have run: the run stops at it, exit 2.
    const r = await poolrun(['-q', '--each', `echo {} >> ${join(dir, 'ran')}`], {
      input: `a\n${value(MAX + 1)}\n`,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/poolrun: job 2: the command is/);
  });
});

describe('every problem of a job file is listed whole, one line each, secrets masked', () => {
  it('a secret in one problem does not swallow the next; a newline in an id cannot start a line; secret values of other types are not shown', async () => {
    const dir = temp();
    const f = join(dir, 'jobs.json');
    writeFileSync(
      f,
      JSON.stringify([
        { id: 'API_TOKEN=abc', run: 'true' },
        { id: 'API_TOKEN=abc', run: 'true' },
        { run: 'true', timout: 1 },
        { run: 5 },
        { id: 'a\n::warning::forged', run: 'true' },
        { id: 'a\n::warning::forged', run: 'true' },
        { id: 'x', run: 'true', after: 'GITHUB_TOKEN=ghp_x' },
        { run: 'true', env: { DB_PASSWORD: 84736251, 'PASSWORD=hunter2': 'x' } },
        { download: { url: 'https://h/x', to: join(dir, 'o'), headers: { 'X-Api-Key': 918273645 } } },
      ]),
    );
    const r = await poolrun([f], { env: { GITHUB_ACTIONS: 'true' } });
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^poolrun: .*jobs\.json: 8 problems; nothing ran:$/);
    // Each problem on its own line, at its place.
    for (const want of [
      /jobs\[1\]\.id: duplicate id "API_TOKEN=\*\*\*" \(first used by jobs\[0\] at .*:1:\d+\)$/,
      /jobs\[2\]\.timout: unknown key "timout"/,
      /jobs\[3\]\.run: expected a command string/,
      /jobs\[5\]\.id: duplicate id "a\\n::warning::forged"/,
      /jobs\[6\]\.after: unknown id "GITHUB_TOKEN=\*\*\*" \(no job has it\)$/,
      /jobs\[7\]\.env\.DB_PASSWORD: expected a string, got a number$/,
      /jobs\[7\]\.env\["PASSWORD=\*\*\*"\]: expected an environment variable name/,
      /jobs\[8\]\.download\.headers\["X-Api-Key"\]: expected a string, got a number$/,
    ])
      expect(
        lines.filter((l) => want.test(l)),
        String(want),
      ).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('::'))).toEqual([]);
    expect(lines).toHaveLength(9);
    expect(r.stderr).not.toMatch(/abc|ghp_x|hunter2|84736251|918273645/);
  });

  it('a message longer than a pipe holds reaches a slow reader whole', async () => {
    const dir = temp();
    const f = join(dir, 'dup.json');
    writeFileSync(
      f,
      JSON.stringify([
        { id: 'y'.repeat(100_000), run: 'true' },
        { id: 'y'.repeat(100_000), run: 'true' },
      ]),
    );
    const r = await execa('sh', ['-c', `"$0" "$1" "$2" 2>&1 | (sleep 1; wc -c)`, process.execPath, BIN, f], {
      reject: false,
    });
    // The duplicate id is shown once (100,000 bytes); cut, it was 65,536: a pipe's buffer.
    expect(Number(r.stdout.trim())).toBeGreaterThan(100_000);
  });
});

describe('small job-file mistakes, each named where it is', () => {
  it.each([
    ['tr.json', '[{"run":"true"}', /tr\.json:1:16: not valid JSON: the text ends too early/],
    ['tr2.json', '["a","b"', /tr2\.json:1:9: not valid JSON: the text ends too early/],
    ['tr3.json', '[{"run":"true"}\n\n', /tr3\.json:1:16: not valid JSON: the text ends too early/],
    [
      'two.jsonl',
      '{"run":"true"} {"run":"true"}\n',
      /two\.jsonl:1:16: .*a second JSON value after the first on this line \(JSONL is one job per line\)$/,
    ],
    [
      'sub.json',
      '[{"run":"true","timeout":0.0004}]',
      /sub\.json:1:\d+: jobs\[0\]\.timeout: expected a duration from 1ms/,
    ],
    [
      'nul.json',
      '[{"call":{"module":"./m.mjs","export":"f\\u0000g"}}]',
      /nul\.json:1:\d+: jobs\[0\]\.call\.export: cannot contain a NUL character/,
    ],
  ])('%s: exit 2 and its place', async (name, text, want) => {
    const dir = temp();
    writeFileSync(join(dir, name), text);
    const r = await poolrun(['-q', join(dir, name)]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd()).toMatch(want);
  });

  it('an empty argument as the job file is named as such', async () => {
    const r = await poolrun(['']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^poolrun: expected a job file name, got an empty argument/);
  });
});
