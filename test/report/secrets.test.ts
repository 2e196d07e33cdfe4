/**
 * Secrets never leave poolrun: generated secrets are put in every place a URL or a command line can be written
 * (a download's URL and headers, a run command, an argv, a call's arguments, `--each`'s template, the `--queue`
 * URL as user, password and `?password=`), real runs write every output poolrun has (stdout, stderr, --json,
 * --junit, --joblog, --report, NDJSON, GitHub lines, the rerun hint, a worker's log), and every byte is searched
 * for the secrets. The masked forms must be there: the places are shown, only the secrets are not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, FIXTURES, pidAlive, poolrun, readJson, useTempDirs, waitFor, writeJobs } from '../helpers.js';
import { leaks as leaksOf, outputs, writtenFiles } from './leaks.js';
import { startServer, type TestServer } from '../download-server.js';
import { redactText } from '../../src/util/redact.js';
import { freePort, ping } from '../redis.js';

const temp = useTempDirs('all');
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
  server.serve('f', Buffer.from('payload\n'));
});
afterAll(async () => {
  await server.close();
});

let seed = 12345;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return Math.floor((seed / 0x80000000) * n);
};
/** A secret: a random core (what is searched for) inside characters a URL's userinfo or query may hold. */
function secret(): string {
  const around = ['', '!', '$', '*', '+', ',', ';', '~', '-', '.', '_', '%21'];
  return `${around[rnd(around.length)]}Zq${randomBytes(6).toString('hex')}${around[rnd(around.length)]}`;
}
const core = (s: string) => /Zq[0-9a-f]{12}/.exec(s)![0];
/** A secret is found by its core (`Zq` and 12 hex digits), however it was quoted or escaped. */
const leaks = (secrets: string[], places: Parameters<typeof leaksOf>[1]) => leaksOf(secrets, places, core);

describe('secrets in job files, templates and URLs', () => {
  it('a local run: no secret in stdout, stderr, --json, --junit, --joblog, --report, NDJSON, GitHub lines, --dry-run or the rerun hint', async () => {
    const dir = temp();
    const S = Array.from({ length: 18 }, secret);
    const base = new URL(server.url);
    const jobs = [
      {
        id: 'dl-ok',
        download: {
          url: `http://u${S[0]}:${S[1]}@${base.host}/ok/f?sig=${S[2]}&X-Amz-Credential=${S[3]}`,
          to: 'out/f',
          headers: { Authorization: `Bearer ${S[4]}` },
        },
      },
      { id: 'dl-404', download: { url: `${server.url}/status/404?token=${S[5]}`, to: 'out/g' } },
      {
        id: 'run-ok',
        run: `true 'https://alice:${S[6]}@h.example/p?api_key=${S[7]}'`,
        env: { API_TOKEN: S[8] },
      },
      { id: 'run-fail', run: `exit 3; curl --password=${S[9]} "https://h.example/?t=${S[10]}"` },
      { id: 'argv', run: [`/nonexistent/https://h.example/x?sig=${S[11]}`, `https://u:${S[12]}@h/`] },
      {
        id: 'call',
        call: {
          module: join(FIXTURES, 'tasks.mjs'),
          export: 'fail',
          args: [`cannot fetch https://bob:${S[13]}@h.example/x?k=${S[14]}`],
        },
      },
    ];
    const file = writeJobs(dir, jobs);
    const f = (n: string) => join(dir, n);
    const env = { GITHUB_ACTIONS: 'true' };
    const plain = await poolrun(
      [
        '-w',
        '2',
        '--reporter',
        'plain',
        '--json',
        f('r.json'),
        '--junit',
        f('r.xml'),
        '--joblog',
        f('log.tsv'),
        '--report',
        f('r.html'),
        file,
      ],
      { env, cwd: dir },
    );
    expect(plain.code).toBe(1);
    const ndjson = await poolrun(['-w', '2', '--reporter', 'ndjson', '--output', 'stream', file], {
      cwd: dir,
    });
    const dry = await poolrun(['--dry-run', file], { cwd: dir });
    expect(dry.code).toBe(0);
    const each = await poolrun(
      [
        '--joblog',
        f('each.tsv'),
        '--report',
        f('each.html'),
        '--reporter',
        'plain',
        '--each',
        `false {} https://u:${S[15]}@h.example/?token=${S[16]}`,
        'a',
        'b',
      ],
      { cwd: dir },
    );
    expect(each.code).toBe(1);
    const eachDry = await poolrun([
      '--dry-run',
      '--each',
      `echo {} "https://h.example/x?a=1&b=${S[17]}"`,
      'a',
    ]);

    const places = [
      ...outputs('plain', plain),
      ...outputs('ndjson', ndjson),
      ...outputs('dry-run', dry),
      ...outputs('--each', each),
      ...outputs('--each --dry-run', eachDry),
      ...writtenFiles(dir, new Set([file])),
    ];
    expect(leaks(S, places)).toEqual([]);

    // What was masked is still shown, with its place: host, path and keys stay.
    expect(dry.stdout).toContain(`download 'http://***:***@${base.host}/ok/f?sig=***&X-Amz-Credential=***'`);
    expect(dry.stdout).toMatch(/true 'https:\/\/\*\*\*:\*\*\*@h\.example\/p\?api_key=[;]?\*\*\*'/);
    expect(dry.stdout).toContain('--password=***');
    expect(eachDry.stdout).toContain('https://h.example/x?a=***&b=***');
    expect(readFileSync(f('log.tsv'), 'utf8')).toContain('https://h.example/?t=***');
    expect(each.stderr).toMatch(
      /to rerun what did not succeed: poolrun --resume-failed .*https:\/\/\*\*\*:\*\*\*@h\.example\/\?token=\*\*\*/,
    );
    const doc = readJson(f('r.json'));
    const call = doc.results.find((r) => r.id === 'call')!;
    expect(call.error?.message).toContain('cannot fetch https://***:***@h.example/x?k=***');
    expect(plain.stdout).toContain('::error title=failed%3A call::');
    // The download itself used the credentials it was given.
    expect(readFileSync(f('out/f'), 'utf8')).toBe('payload\n');
  }, 60_000);

  it('generated: 300 download URLs and commands in every form: --dry-run shows each job and no secret', async () => {
    const dir = temp();
    const S: string[] = [];
    const jobs: unknown[] = [];
    const hosts = ['h.example', '127.0.0.1:8080', '[::1]:99', 'xn--bcher-kva.example'];
    for (let i = 0; i < 300; i++) {
      const a = secret();
      const b = secret();
      S.push(a, b);
      const host = hosts[rnd(hosts.length)];
      const forms = [
        `https://${a}:${b}@${host}/p/${i}.tgz`,
        `http://${host}/x?X-Amz-Signature=${a}&X-Amz-Date=${b}`,
        `https://user:${a}@${host}/?access_token=${b}#frag`,
        `http://${host}/d/${i}?${a}&key=${b}`,
        `https://${host}/a/${i}#access_token=${a}&${b}`,
      ];
      const url = forms[rnd(forms.length)]!;
      const quote = ['', "'", '"'][rnd(3)]!;
      const cmds = [
        `curl -fsS ${quote}${url}${quote} -o out${i}`,
        `wget ${quote}${url}${quote}`,
        // In sh a `;` or `&` would end the word: an assignment's value starts after them.
        `MYSQL_PWD=${a.replace(/^[;&]/, '')} mysql -h db --password=${b.replace(/^[;&]/, '')}`,
        `git clone ${quote}${url}${quote} repo${i}`,
      ];
      // Download URLs are only http(s) with a host that parses; commands are anything.
      jobs.push(
        rnd(2) ? { id: `d${i}`, download: { url, to: `out/${i}` } } : { id: `r${i}`, run: cmds[rnd(4)] },
      );
    }
    const file = writeJobs(dir, jobs);
    const dry = await poolrun(['--dry-run', file]);
    expect(dry.code).toBe(0);
    expect(dry.stdout.split('\n').filter(Boolean)).toHaveLength(300);
    expect(dry.stdout).toContain('***');
    expect(leaks(S, outputs('dry-run', dry))).toEqual([]);
  }, 60_000);
});

describe('the one redactor on messages that were masked already', () => {
  it('keeps `?…` (a download message that hides its query) and `***` as they are', () => {
    for (const m of [
      'HTTP 401 Unauthorized from http://127.0.0.1:9/auth/x?…',
      'cannot fetch https://***:***@h.example/x?k=***#***',
    ])
      expect(redactText(m)).toBe(m);
  });
});

describe('secrets in messages about bad input', () => {
  it('a job file refused for its URLs or values: exit 2 with each place named, no secret quoted', async () => {
    const dir = temp();
    const S = Array.from({ length: 8 }, secret);
    const file = writeJobs(dir, [
      { download: { url: `ftp://u:${S[0]}@h.example/x?t=${S[1]}`, to: 'a' } },
      { download: { url: `https://u:${S[2]}@h.example:99999/?${S[3]}`, to: 'b' } },
      { run: 'true', timeout: `https://h.example/?token=${S[4]}` },
      { run: 'true', env: { TOKEN: 5 }, cwd: `https://x:${S[5]}@h/`, retries: `password=${S[6]}` },
      { download: { url: `http://h.example/?sig=${S[7]}`, to: 'c', sha256: 'nothex' } },
    ]);
    const r = await poolrun([file]);
    expect(r.code).toBe(2);
    for (const at of ['jobs[0].download.url', 'jobs[1].download.url', 'jobs[2].timeout', 'jobs[3].retries'])
      expect(r.stderr).toContain(at);
    expect(r.stderr).not.toMatch(/ {4}at /);
    // Option values and unknown options are quoted back in usage errors: redacted too.
    const opt = await poolrun([`--bogus=https://u:${S[0]}@h.example/`, file]);
    const workers = await poolrun(['-w', `https://h.example/?k=${S[1]}`, file]);
    expect([opt.code, workers.code]).toEqual([2, 2]);
    expect(workers.stderr).toContain('--workers');
    const places = [...outputs('refused', r), ...outputs('--bogus', opt), ...outputs('-w', workers)];
    expect(leaks(S, places)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------------------
// The queue: a redis-server that wants a password.

interface AuthRedis {
  port: number;
  password: string;
  child: ChildProcess;
  exited: Promise<void>;
}

async function startAuthRedis(password: string): Promise<AuthRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      password,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = Date.now() + 10_000;
  while (!(await ping(port, true))) {
    if (Date.now() > end) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, password, child, exited };
}

describe('secrets and the queue', () => {
  let redis: AuthRedis;
  const password = `Zq${randomBytes(6).toString('hex')}`;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startAuthRedis(password);
  });
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    if (redis.child.exitCode === null) redis.child.kill('SIGKILL');
    await redis.exited;
  });

  it('a wrong password, as user:password, :password or ?password=, and a URL that does not parse: exit 2 naming --queue, never the password', async () => {
    const dir = temp();
    const file = writeJobs(dir, [{ run: 'true' }]);
    const wrong = Array.from({ length: 6 }, secret);
    const p = redis.port;
    const urls = [
      `redis://:${wrong[0]}@127.0.0.1:${p}/0`,
      `redis://default:${wrong[1]}@127.0.0.1:${p}/0`,
      `redis://127.0.0.1:${p}/0?password=${wrong[2]}`,
      `redis//:${wrong[3]}@127.0.0.1:${p}/0`,
      `rediss://u:${wrong[4]}@/0`,
    ];
    const places: Array<{ name: string; text: string }> = [];
    for (const url of urls) {
      const r = await poolrun(['--queue', url, '--queue-timeout', '2s', file]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/Redis|--queue/);
      expect(r.stderr).not.toMatch(/ {4}at /);
      places.push(...outputs(url, r));
      const w = await poolrun(['worker', '--queue', url, '--queue-timeout', '2s']);
      expect(w.code, w.stderr).toBe(2);
      places.push(...outputs(`worker ${url}`, w));
    }
    // From the environment: the message names POOLRUN_QUEUE.
    const env = await poolrun(['worker'], {
      env: { POOLRUN_QUEUE: `redis://:${wrong[5]}@127.0.0.1:${p}/0` },
    });
    expect(env.code).toBe(2);
    places.push(...outputs('env', env));
    expect(leaks(wrong, places)).toEqual([]);
  }, 120_000);

  it('POOLRUN_QUEUE carries the URL (not in ps); the flag wins over it; the rerun hint, --report and the worker log mask the password', async () => {
    const dir = temp();
    const S = Array.from({ length: 3 }, secret);
    const url = `redis://:${password}@127.0.0.1:${redis.port}/0`;
    const file = writeJobs(dir, [
      { id: 'ok', run: `true 'https://h.example/?token=${S[0]}'` },
      { id: 'bad', run: `exit 4; curl https://u:${S[1]}@h.example/?k=${S[2]}` },
      // What a job prints is kept as printed: its environment must not hold the worker's POOLRUN_QUEUE.
      { id: 'env', run: ['env'] },
      { id: 'env-sh', run: 'env; true' },
    ]);
    const worker = spawn(process.execPath, [BIN, 'worker', '-w', '2'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', POOLRUN_QUEUE: url },
    });
    workers.push(worker);
    let log = '';
    worker.stderr.on('data', (d: Buffer) => (log += d.toString()));
    expect(await waitFor(() => log.includes('serving queue') || worker.exitCode !== null, 20_000)).toBe(true);
    expect(log).toContain('serving queue');
    expect(log).toContain(`redis://:***@127.0.0.1:${redis.port}/0`);
    // Not in ps: the worker's command line has no URL.
    expect(readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8')).not.toContain(password);

    const f = (n: string) => join(dir, n);
    const flag = await poolrun(
      [
        '--queue',
        url,
        '--reporter',
        'plain',
        '--joblog',
        f('q.tsv'),
        '--report',
        f('q.html'),
        '--json',
        f('q.json'),
        file,
      ],
      { env: { POOLRUN_QUEUE: 'redis://127.0.0.1:1/0' } }, // the flag wins
    );
    expect(flag.code, flag.stderr).toBe(1);
    expect(flag.stderr).toMatch(
      /to rerun what did not succeed: poolrun --resume-failed .*redis:\/\/:\*\*\*@127\.0\.0\.1/,
    );
    const fromEnv = await poolrun(['--json', f('e.json'), file], { env: { POOLRUN_QUEUE: url } });
    expect(fromEnv.code, fromEnv.stderr).toBe(1);
    // It went through the queue: results name the worker's host, as only queue results do.
    expect((readJson(f('e.json')).results[0] as { host?: string }).host).toBeTruthy();

    worker.kill('SIGTERM');
    await new Promise<void>((r) => (worker.exitCode !== null ? r() : worker.once('exit', () => r())));
    expect(pidAlive(worker.pid!)).toBe(false);
    const places = [
      ...outputs('--queue', flag),
      ...outputs('POOLRUN_QUEUE', fromEnv),
      { name: 'worker log', text: log },
      ...writtenFiles(dir, new Set([file])),
    ];
    expect(leaks([password, ...S], places)).toEqual([]);
  }, 120_000);
});
