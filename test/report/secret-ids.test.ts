/**
 * A job's id is the user's label, and often the URL the job fetches: generated URLs with users, passwords and
 * query values, and `API_TOKEN=…`-style assignments, are put in ids, in `after` lists naming those ids, in argv
 * words, in shell commands, in the message a `call` throws and in `--tag` values, each in many surroundings (a
 * space, quotes, `<…>`, `(…)`, a comma, a tab, JSON). Real runs in thread and process mode write every output
 * poolrun has (status lines, the summary and rerun hint, --json, --junit, --joblog, --report, NDJSON, GitHub
 * lines, `[id]` prefixes, --dry-run, the messages refusing a job file) and no byte of a secret may be in any of
 * them or in any file written. The joblog stores ids masked, and --resume still leaves out the jobs it records.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, poolrun, readJson, rng, useTempDirs, writeJobs } from '../helpers.js';
import { leaks, outputs, writtenFiles } from './leaks.js';
import { malformedUrls } from '../util/malformed-urls.js';
import { redactId, redactText } from '../../src/util/redact.js';

const temp = useTempDirs('each');

/** Secrets around a searched-for core; the characters around it are ones a URL's userinfo or query may hold. */
function generator(seed: number) {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const cores: string[] = [];
  const core = () => {
    const c = `Zq${Math.floor(random() * 2 ** 32).toString(16)}${Math.floor(random() * 2 ** 32).toString(16)}`;
    cores.push(c);
    return c;
  };
  const USER = ['', '!', '$', '&', "'", '(', ')', '*', '+', ',', ';', '=', '~', '-', '.', '_', '%21'];
  const PASSWORD = [...USER, ':', '@'];
  const QUERY = ['', '!', '$', "'", '(', ')', '*', '+', ',', ':', '@', '/', '?', '~', '-', '.', '_', '%21'];
  const secret = (around: string[]) => `${pick(around)}${core()}${pick(around)}`;
  const host = () =>
    pick(['h.example', '127.0.0.1:8080', '[::1]:99', 'xn--bcher-kva.example', 'exa mple.com']);
  const scheme = () => pick(['http://', 'https://', 'redis://', 'ftp://', 'HTTPS://']);
  const url = () =>
    pick([
      () => `${scheme()}u${secret(USER)}:${secret(PASSWORD)}@${host()}/p`,
      () => `${scheme()}${host()}/p?sig=${secret(QUERY)}&X-Amz-Date=${secret(QUERY)}`,
      () => `${scheme()}user:${secret(PASSWORD)}@${host()}/x?k=${secret(QUERY)}`,
      () => `${scheme()}:${secret(PASSWORD)}@${host()}/0`,
      () => `${scheme()}${host()}/d?${secret(QUERY)}`,
      () => `${scheme()}${secret(USER)}@${host()}/`,
    ])();
  const token = () => `${core()}${pick(['', '.x', '_y', '-z', '~1', '+2', '/3'])}`;
  const assignment = () =>
    pick([
      () => `API_TOKEN=${token()}`,
      () => `password=${token()}`,
      () => `--password=${token()}`,
      () => `MYSQL_PWD=${token()}`,
      () => `db_secret=${token()}`,
      () => `--api-key ${token()}`,
    ])();
  /** A URL (or an assignment) in a line of text. */
  const inText = (c: string) =>
    pick([
      c,
      `see ${c} now`,
      `(${c})`,
      `"${c}"`,
      `'${c}'`,
      `<${c}>`,
      `[${c}]`,
      `${c}.`,
      `${c}, then`,
      `a\t${c}\tb`,
      `a\n${c}\nb`,
      JSON.stringify(`a\n${c}\tb`),
      `echo '${c.replace(/'/g, "'\\''")}' done`,
      `url=${c}`,
      `{"url":"${c}"}`,
      `fetch ${c}: failed`,
    ]);
  const text = () => inText(random() < 0.75 ? url() : assignment());
  return { cores, pick, random, url, text, assignment };
}

describe('secrets in job ids and labels', () => {
  it('generated: ids, after, argv, commands, call messages: no secret in any output or file, thread and process mode; --resume matches the masked ids', async () => {
    const dir = temp();
    const g = generator(20261203);
    const jobs: Array<Record<string, unknown>> = [];
    const failing: string[] = [];
    let finished = 0;
    for (let i = 0; i < 40; i++) {
      const kind = i % 5;
      if (kind === 0 || kind === 1) {
        // An id that is, or holds, a URL or an assignment; it succeeds, fails or prints (for `[id]` prefixes).
        const id = `${i}:${g.text()}`.slice(kind === 0 ? `${i}:`.length : 0);
        const what = g.pick(['exit 0', 'exit 3', 'echo hi']);
        if (what === 'exit 3') failing.push(id);
        jobs.push({ id, run: ['sh', '-c', what], env: { API_TOKEN: g.text(), DB_URL: g.url() } });
        finished++;
      } else if (kind === 2) {
        jobs.push({ id: g.text(), run: ['sh', '-c', 'exit 3', g.text()] });
        finished++;
      } else if (kind === 3) {
        jobs.push({
          id: `call ${g.text()}`,
          call: { module: join(FIXTURES, 'tasks.mjs'), export: 'fail', args: [g.text()] },
        });
        finished++;
      } else {
        // Cancelled: it runs after a job that failed, and its message names that job's id.
        const dep = failing[failing.length - 1];
        if (dep === undefined) jobs.push({ id: `plain-${i}`, run: `exit 0 # ${g.assignment()}` });
        else jobs.push({ id: `dep-${i}`, run: ['true'], after: [dep] });
        if (dep === undefined) finished++;
      }
    }
    // Ids that are URLs that do not parse (a space, a bad port, no `//`): masked whole, as redactUrl does.
    const malformed = malformedUrls(60, 5).filter(({ url }) => /^[a-z]+ ?:\/\/?|^\/\//i.test(url));
    const malformedSecrets = malformed.flatMap((m) => m.secrets).filter((s) => s.length > 6);
    for (const [k, m] of malformed.entries()) {
      jobs.push({ id: m.url, run: ['sh', '-c', k % 2 ? 'exit 0' : 'exit 3'] });
      finished++;
    }
    const file = writeJobs(dir, jobs);
    const f = (n: string) => join(dir, n);
    const env = { GITHUB_ACTIONS: 'true' };

    const thread = await poolrun(
      ['-w', '2', '--reporter', 'plain', '--json', f('r.json'), '--junit', f('r.xml')].concat([
        '--joblog',
        f('log.tsv'),
        '--report',
        f('r.html'),
        file,
      ]),
      { env, cwd: dir },
    );
    expect(thread.code, thread.stderr).toBe(1);
    // Every job that ran is logged, its id masked.
    const log = readFileSync(f('log.tsv'), 'utf8').trim().split('\n').slice(1);
    expect(log).toHaveLength(finished);
    expect(log.filter((l) => l.split('\t')[9]!.includes('***')).length).toBeGreaterThan(finished / 2);
    const proc = await poolrun(
      ['-m', 'process', '-w', '2', '--reporter', 'plain', '--output', 'stream', '--json', f('p.json')].concat(
        ['--joblog', f('p.tsv'), '--junit', f('p.xml'), '--report', f('p.html'), file],
      ),
      { cwd: dir },
    );
    expect(proc.code, proc.stderr).toBe(1);
    const ndjson = await poolrun(['-w', '2', '--reporter', 'ndjson', '--output', 'stream', file], {
      cwd: dir,
    });
    const json = await poolrun(['-q', '--json', '-', file], { cwd: dir });
    const dry = await poolrun(['--dry-run', file], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    // --resume against the log of the thread run: every job it finished is left out, so the log's ids matched.
    const resumed = await poolrun(
      ['--reporter', 'plain', '--joblog', f('log.tsv'), '--resume', '--json', f('resumed.json'), file],
      { cwd: dir },
    );
    const resumedFailed = await poolrun(
      ['--reporter', 'plain', '--joblog', f('p.tsv'), '--resume-failed', '--dry-run', file],
      { cwd: dir },
    );
    // GNU parallel's form: the values are arguments, shown in the tag and the joblog's Command.
    const values = Array.from({ length: 6 }, () => g.url());
    const tagged = await poolrun(
      ['--tag', '--joblog', f('tag.tsv'), '--reporter', 'plain', 'sh', '-c', 'echo hi', ':::', ...values],
      { cwd: dir },
    );
    expect(tagged.code, tagged.stderr).toBe(0);
    const tagstring = await poolrun(
      ['--tagstring', '[{}]', '--line-buffer', 'sh', '-c', 'echo hi', ':::', ...values],
      { cwd: dir },
    );
    expect(tagstring.code, tagstring.stderr).toBe(0);
    // --results: a value is a folder name (DIR/1/<value>/), or part of NAME's.
    const results = await poolrun(['--results', f('res'), 'sh', '-c', 'echo hi', ':::', ...values], {
      cwd: dir,
    });
    expect(results.code, results.stderr).toBe(0);
    const named = await poolrun(['--results', f('named/{}.out'), 'sh', '-c', 'echo hi', ':::', ...values], {
      cwd: dir,
    });
    expect(named.code, named.stderr).toBe(0);
    // With --header, the first value names the level: a folder name too.
    const headed = await poolrun(
      ['--header', ':', '--results', f('hres'), 'sh', '-c', 'echo hi', ':::', ...values],
      { cwd: dir },
    );
    expect(headed.code, headed.stderr).toBe(0);
    const folders = (readdirSync(dir, { recursive: true }) as string[]).map((name) => ({ name, text: name }));
    // Job files refused for an id: a duplicate, an `after` naming no job.
    const twice = g.text();
    const dup = await poolrun([
      writeJobs(
        dir,
        [
          { id: twice, run: 'true' },
          { id: twice, run: 'true' },
        ],
        'dup.json',
      ),
    ]);
    expect(dup.code).toBe(2);
    const unknown = await poolrun([
      writeJobs(dir, [{ id: 'a', run: 'true', after: [g.text()] }], 'unknown.json'),
    ]);
    expect(unknown.code).toBe(2);

    const places = [
      ...outputs('thread', thread),
      ...outputs('process', proc),
      ...outputs('ndjson', ndjson),
      ...outputs('--json -', json),
      ...outputs('dry-run', dry),
      ...outputs('--resume', resumed),
      ...outputs('--resume-failed --dry-run', resumedFailed),
      ...outputs('--tag', tagged),
      ...outputs('--tagstring', tagstring),
      ...outputs('--results', results),
      ...outputs('--results NAME', named),
      ...outputs('--results --header', headed),
      ...folders,
      ...outputs('duplicate id', dup),
      ...outputs('unknown after', unknown),
      ...writtenFiles(dir, new Set([file, f('dup.json'), f('unknown.json')])),
    ];
    expect(leaks([...g.cores, ...malformedSecrets], places)).toEqual([]);

    // What was masked is still there, in its place.
    expect(thread.stderr).toContain('***');
    const doc = readJson(f('r.json'));
    expect(doc.results).toHaveLength(jobs.length);
    expect(doc.results.map((r) => r.id)).toEqual(jobs.map((j) => redactId(j.id as string)));
    expect(resumed.stderr).toContain(
      `--resume: ${finished} job(s) the joblog records as done were not run again`,
    );
    expect(readJson(f('resumed.json')).results.every((r) => r.status === 'cancelled')).toBe(true);
    expect(dup.stderr).toContain('duplicate id');
    expect(unknown.stderr).toContain('unknown id');
    expect(tagged.stdout.split('\n').filter(Boolean)).toHaveLength(values.length);
    expect(readdirSync(f('res/1')).length).toBeGreaterThan(0);
  }, 120_000);

  it('redactId and redactText: a masked id is masked already (the joblog stores it, --resume masks again)', () => {
    const g = generator(7);
    for (let i = 0; i < 3000; i++) {
      const id = g.text();
      const once = redactId(id);
      expect(redactId(once), id).toBe(once);
      expect(redactText(redactText(id)), id).toBe(redactText(id));
    }
    for (const { url } of malformedUrls(2000, 3)) expect(redactId(redactId(url)), url).toBe(redactId(url));
  });

  it("a call's argument that is a JSON object with a secret-named key, as --dry-run shows it", () => {
    const line =
      'call m.mjs#f({"password":"Zq1","apiKey": "Zq2","db_token":17,"user":"ann"}, "API_TOKEN=Zq3")';
    expect(redactText(line)).toBe(
      'call m.mjs#f({"password":"***","apiKey": "***","db_token":"***","user":"ann"}, "API_TOKEN=***")',
    );
  });

  it('a URL written as a copy source, a module or a cwd, whose // a path resolution made /, is masked in every output', async () => {
    const dir = temp();
    const S = ['Zq1MANGLED', 'Zq2MANGLED', 'Zq3MANGLED'];
    const file = writeJobs(dir, [
      { id: 'c', copy: { from: `https://u:${S[0]}@h.example/x`, to: 'y' } },
      { id: 'm', call: { module: `https://u:${S[1]}@h.example/x.mjs` } },
      { id: 'w', run: 'true', cwd: `http://ann:${S[2]}@h.example/d` },
    ]);
    const json = join(dir, 'r.json');
    const log = join(dir, 'r.log');
    const r = await poolrun(['--json', json, '--joblog', log, '--junit', join(dir, 'r.xml'), file], {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/https:\/\*\*\*:\*\*\*@h\.example\/x/);
    // The call's error carries the module's URL as a property (ERR_MODULE_NOT_FOUND's `url`): masked too.
    expect(readFileSync(json, 'utf8')).toMatch(/"props":\{"url":"file:\/\/\/[^"]*https:\/\*\*\*:\*\*\*@h/);
    const places = [...outputs('run', r), ...writtenFiles(dir, new Set([file]))];
    expect(leaks(S, places)).toEqual([]);
    for (const t of ['/w/https:/u:pw@h/x', '/w/git+HTTPS:/u:pw@h/r', 'not found: /a/ftp:/:pw@h/x'])
      expect(redactText(t), t).not.toMatch(/pw/);
    // No scheme, no URL: a path's `a:b@c` part stays (as before); mail addresses and scp-like words too.
    expect(redactText('/srv/u:v@h/x and ann@example.com, git@github.com:o/r')).toBe(
      '/srv/u:v@h/x and ann@example.com, git@github.com:o/r',
    );
  });

  it('an error’s own properties: one named as a secret is masked, a long one is cut at a blank (never inside a URL)', async () => {
    const dir = temp();
    const mod = join(dir, 'e.mjs');
    writeFileSync(
      mod,
      "export function f() { throw Object.assign(new Error('x'), { password: 'Zq1PROP', api_token: 'Zq2PROP', port: 5, " +
        "note: 'x'.repeat(980) + ' https://alice:Zq3PROPZq3PROP@h.example/x' }); }\n",
    );
    const json = join(dir, 'r.json');
    const r = await poolrun(['--json', json, writeJobs(dir, [{ call: { module: mod, export: 'f' } }])], {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    const props = (readJson(json).results[0]!.error as { props?: Record<string, unknown> }).props;
    expect(props).toEqual({ password: '***', api_token: '***', port: 5, note: `${'x'.repeat(980)} ` });
    expect(
      leaks(
        ['Zq1PROP', 'Zq2PROP', 'Zq3', 'alice:'],
        [...outputs('run', r), ...writtenFiles(dir, new Set([mod]))],
      ),
    ).toEqual([]);
  });

  it('a scheme after a word character, and a bare user:password@host, are masked', () => {
    expect(redactText('x_http://u:Zq1@h/p and DB=ann:Zq2@db.example:5432')).toBe(
      'x_http://***:***@h/p and DB=***:***@db.example:5432',
    );
    expect(redactText('mail ann@example.com, git@github.com:o/r')).toBe(
      'mail ann@example.com, git@github.com:o/r',
    );
  });

  it.each([99, 100, 101, 102])(
    'generated (seed %i): no core of a secret survives redactText in any surrounding',
    (seed) => {
      const g = generator(seed);
      for (let i = 0; i < 5000; i++) {
        const before = g.cores.length;
        const line = g.text();
        const shown = redactText(line);
        for (const c of g.cores.slice(before)) expect(shown, line).not.toContain(c);
      }
    },
  );
});
