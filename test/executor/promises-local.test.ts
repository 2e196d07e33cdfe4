/**
 * README promises of a local run that had no test of their own (issue 18, item 4): retries and --halt, the
 * --retry-delay flag, copies refusing FIFOs, sockets and devices, the download resume rules, and idle library
 * workers not keeping Node alive. Real processes, files and servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BIN,
  FIXTURES,
  ROOT,
  pidAlive,
  poolrun,
  readJson,
  track,
  useTempDirs,
  waitFor,
  writeJobs,
  type ResultsDoc,
} from '../helpers.js';
import { bytes, sha256, startServer, type TestServer } from '../download-server.js';

const temp = useTempDirs();
const modes = ['thread', 'process'] as const;
type Result = ResultsDoc['results'][number] & { bytes?: number };
type Event = {
  event: string;
  id?: string;
  attempt?: number;
  time: string;
  delayMs?: number;
  durationMs?: number;
};

function events(stdout: string): Event[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Event);
}
function byId(doc: ResultsDoc): Record<string, Result> {
  return Object.fromEntries(doc.results.map((r) => [r.id, r as Result]));
}
const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

describe.each(modes)('retries and --halt (%s mode)', (mode) => {
  it('--halt now: a job poolrun killed is not retried, though it has retries left', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      // Started first; records each of its starts; it would be retried 3 times if a kill counted as a failure.
      { id: 'long', run: `echo $$ >> ${dir}/long.starts; sleep 30`, retries: 3 },
      // Fails once `long` is surely running: --halt now then kills `long`.
      { id: 'bad', run: `while [ ! -s ${dir}/long.starts ]; do sleep 0.05; done; exit 1` },
    ]);
    const r = await poolrun([
      '-m',
      mode,
      '-w',
      '2',
      '--halt',
      'now',
      '--reporter',
      'ndjson',
      '--json',
      json,
      file,
    ]);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    expect(res.long).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(res.bad).toMatchObject({ status: 'failed', attempts: 1 });
    expect(lines(join(dir, 'long.starts'))).toHaveLength(1);
    const ev = events(r.stdout);
    expect(ev.filter((e) => e.event === 'retry')).toEqual([]);
    expect(ev.filter((e) => e.event === 'started' && e.id === 'long')).toHaveLength(1);
  });

  it('SIGTERM: a running job poolrun killed is not retried; exit 143', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [{ id: 'long', run: `echo $$ >> ${dir}/long.starts; sleep 30` }]);
    const child = track(
      execa(
        process.execPath,
        [BIN, '-m', mode, '--retries', '3', '--kill-after', '1s', '--json', json, file],
        {
          reject: false,
          env: { NO_COLOR: '1' },
        },
      ),
    );
    expect(await waitFor(() => lines(join(dir, 'long.starts')).length === 1, 20_000)).toBe(true);
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(143);
    expect(byId(readJson(json)).long).toMatchObject({ status: 'cancelled', attempts: 1 });
    const starts = lines(join(dir, 'long.starts'));
    expect(starts).toHaveLength(1);
    expect(pidAlive(Number(starts[0]))).toBe(false);
  });

  it('--halt soon acts after a job’s retries: a job that succeeds on its retry halts nothing', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      { id: 'flaky', run: `[ -f ${dir}/m ] || { touch ${dir}/m; exit 1; }; echo flaky ok`, retries: 1 },
      { id: 'after', run: 'echo after' },
    ]);
    const r = await poolrun(['-m', mode, '-w', '1', '--halt', 'soon', '--json', json, file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('flaky ok\nafter\n');
    const res = byId(readJson(json));
    expect(res.flaky).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(res.after).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('--halt now acts on the job that is finally failed: after all its retries, then the running job is killed', async () => {
    const dir = temp();
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      { id: 'long', run: `echo $$ >> ${dir}/long.starts; sleep 30` },
      {
        id: 'bad',
        run: `while [ ! -s ${dir}/long.starts ]; do sleep 0.05; done; echo x >> ${dir}/bad.starts; exit 1`,
        retries: 2,
      },
    ]);
    const r = await poolrun([
      '-m',
      mode,
      '-w',
      '2',
      '--halt',
      'now',
      '--reporter',
      'ndjson',
      '--json',
      json,
      file,
    ]);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    expect(res.bad).toMatchObject({ status: 'failed', attempts: 3 });
    expect(lines(join(dir, 'bad.starts'))).toHaveLength(3);
    expect(res.long).toMatchObject({ status: 'cancelled', attempts: 1 });
    // `long` was killed only once `bad` was finally failed: after its third attempt ended.
    const ev = events(r.stdout);
    const longEnd = ev.findIndex((e) => e.event === 'finished' && e.id === 'long');
    const badStarts = ev.flatMap((e, i) => (e.event === 'started' && e.id === 'bad' ? [i] : []));
    expect(badStarts).toHaveLength(3);
    expect(longEnd).toBeGreaterThan(badStarts[2]!);
  });
});

describe('--retry-delay', () => {
  it('waits D before the first retry and 2D before the second (start times from the NDJSON events)', async () => {
    const dir = temp();
    const file = writeJobs(dir, [{ id: 'bad', run: 'exit 1' }]);
    const r = await poolrun(['--retries', '2', '--retry-delay', '700ms', '--reporter', 'ndjson', file]);
    expect(r.code, r.stderr).toBe(1);
    const ev = events(r.stdout);
    const retries = ev.filter((e) => e.event === 'retry');
    const starts = ev.filter((e) => e.event === 'started');
    expect(retries.map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 700],
      [2, 1400],
    ]);
    expect(starts.map((e) => e.attempt)).toEqual([1, 2, 3]);
    // Attempt n+1 starts no earlier than the delay after attempt n ended (its start plus its duration).
    for (const [i, retry] of retries.entries()) {
      const ended = Date.parse(starts[i]!.time) + retry.durationMs!;
      expect(Date.parse(starts[i + 1]!.time) - ended).toBeGreaterThanOrEqual(retry.delayMs! - 2);
    }
    const [finished] = ev.filter((e) => e.event === 'finished') as Array<Event & { attempts: number }>;
    expect(finished!.attempts).toBe(3);
  });
});

describe('copies refuse FIFOs, sockets and devices', () => {
  let sockServer: ReturnType<typeof createNetServer> | undefined;
  afterAll(() => sockServer?.close());

  it('a FIFO, a unix socket and /dev/null as `from`: each job fails with its message, nothing at `to`, no hang', async () => {
    const dir = temp();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const sock = join(dir, 'sock');
    sockServer = createNetServer();
    await new Promise<void>((r) => sockServer!.listen(sock, r));
    expect(statSync(sock).isSocket()).toBe(true);
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [
      { id: 'fifo', copy: { from: fifo, to: 'out/fifo' } },
      { id: 'sock', copy: { from: sock, to: 'out/sock' } },
      { id: 'dev', copy: { from: '/dev/null', to: 'out/dev' } },
      { id: 'ok', copy: { from: 'jobs.json', to: 'out/ok' } },
    ]);
    // Nobody ever opens the FIFO's other end: a copy that read it would wait forever (the CLI's timeout ends it).
    const r = await poolrun(['-w', '2', '--json', json, file]);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    for (const [id, from] of [
      ['fifo', fifo],
      ['sock', sock],
      ['dev', '/dev/null'],
    ] as const) {
      expect(res[id]!.status).toBe('failed');
      expect(res[id]!.error!.message).toBe(`cannot copy ${from}: not a regular file or a folder`);
    }
    expect(res.ok!.status).toBe('succeeded');
    expect(readdirSync(join(dir, 'out'))).toEqual(['ok']);
  });
});

describe('download resume rules', () => {
  // A server whose answer to one URL the test switches: the first GET sends half the body and drops the
  // connection (leaving a resumable .part: over 64 KiB, with an ETag); later ones answer with `status`.
  const data = bytes(512 * 1024, 31);
  let status: number | 'drop' | 'ok' = 'drop';
  const log: Array<{ range?: string; ifRange?: string; status: number }> = [];
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const entry = {
        range: req.headers.range,
        ifRange: req.headers['if-range'] as string | undefined,
        status: 0,
      };
      log.push(entry);
      const common = { etag: '"v1"', 'accept-ranges': 'bytes' };
      if (status === 'drop') {
        entry.status = 200;
        res.writeHead(200, { ...common, 'content-length': data.length });
        res.write(data.subarray(0, data.length >> 1), () => setTimeout(() => req.socket.destroy(), 50));
        return;
      }
      if (typeof status === 'number') {
        entry.status = status;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(`status ${status}\n`);
        return;
      }
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = m && entry.ifRange === '"v1"' ? Number(m[1]) : 0;
      entry.status = start > 0 ? 206 : 200;
      const headers: Record<string, string | number> = { ...common, 'content-length': data.length - start };
      if (start > 0) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
      res.writeHead(entry.status, headers);
      res.end(data.subarray(start));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.bin`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const parts = (dir: string) => readdirSync(dir).filter((f) => /^got\.bin\.[0-9a-f]{16}\.part$/.test(f));

  async function interrupted(dir: string): Promise<{ file: string; part: string; size: number }> {
    status = 'drop';
    const file = writeJobs(dir, [{ id: 'd', download: { url, to: 'got.bin' } }]);
    const r = await poolrun([file]);
    expect(r.code, r.stderr).toBe(1);
    const [part] = parts(dir);
    expect(part, readdirSync(dir).join(' ')).toBeDefined();
    const size = statSync(join(dir, part!)).size;
    expect(size).toBeGreaterThan(0);
    return { file, part: part!, size };
  }

  it('a 4xx answer to the next attempt deletes the old .part', async () => {
    for (const code of [404, 403]) {
      const dir = temp();
      const { file } = await interrupted(dir);
      status = code;
      const json = join(dir, 'out.json');
      const r = await poolrun(['--json', json, file]);
      expect(r.code, r.stderr).toBe(1);
      expect(readJson(json).results[0]!.error!.message).toMatch(new RegExp(`^HTTP ${code} `));
      expect(log.at(-1)!.range).toMatch(/^bytes=[1-9]\d*-$/); // it did try to resume
      expect(parts(dir)).toEqual([]);
      expect(readdirSync(dir).sort()).toEqual(['jobs.json', 'out.json']);
    }
  });

  it('a 5xx (or 408, 429) answer keeps the .part; the attempt after it resumes from it', async () => {
    const dir = temp();
    const { file, part, size } = await interrupted(dir);
    for (const code of [503, 500, 408, 429]) {
      status = code;
      const r = await poolrun([file]);
      expect(r.code, r.stderr).toBe(1);
      expect(log.at(-1)).toMatchObject({ range: `bytes=${size}-`, status: code });
      expect(parts(dir)).toEqual([part]);
      expect(statSync(join(dir, part)).size).toBe(size);
    }
    status = 'ok';
    const r = await poolrun([file]);
    expect(r.code, r.stderr).toBe(0);
    expect(log.at(-1)).toMatchObject({ range: `bytes=${size}-`, ifRange: '"v1"', status: 206 });
    expect(readFileSync(join(dir, 'got.bin')).equals(data)).toBe(true);
    expect(parts(dir)).toEqual([]);
  });

  describe('If-Range', () => {
    let ds: TestServer;
    beforeAll(async () => {
      ds = await startServer();
    });
    afterAll(async () => {
      await ds.close();
    });

    it('the file changed on the server (If-Range does not match): a 200, and the download starts over', async () => {
      const dir = temp();
      const before = bytes(600 * 1024, 41);
      const after = bytes(700 * 1024, 42);
      ds.serve('changing.bin', before);
      const u = `${ds.url}/drop/changing.bin`;
      const file = writeJobs(dir, [{ id: 'c', download: { url: u, to: 'got.bin', sha256: sha256(after) } }]);
      const first = await poolrun([file]);
      expect(first.code, first.stderr).toBe(1);
      expect(parts(dir)).toHaveLength(1);
      const oldTag = `"${sha256(before).slice(0, 16)}"`;

      ds.serve('changing.bin', after);
      const json = join(dir, 'out.json');
      const r = await poolrun(['--json', json, file]);
      expect(r.code, r.stderr).toBe(0);
      const reqs = ds.log.filter((l) => l.path === '/drop/changing.bin');
      expect(reqs).toHaveLength(2);
      expect(reqs[1]).toMatchObject({ ifRange: oldTag, status: 200, sent: after.length });
      expect(reqs[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
      expect(readFileSync(join(dir, 'got.bin')).equals(after)).toBe(true);
      expect((readJson(json).results[0] as Result).bytes).toBe(after.length);
      expect(parts(dir)).toEqual([]);
    });
  });
});

describe('idle library workers do not keep Node alive', () => {
  it.each(modes)('%s pool: a script that never calls shutdown() exits by itself', async (mode) => {
    const dir = temp();
    const script = join(dir, 'forgets-shutdown.mjs');
    const lib = pathToFileURL(join(ROOT, 'dist', 'index.js')).href;
    writeFileSync(
      script,
      `import { ThreadPoolExecutor, ProcessPoolExecutor, task } from ${JSON.stringify(lib)};
const ex = new ${mode === 'thread' ? 'ThreadPoolExecutor' : 'ProcessPoolExecutor'}({ maxWorkers: 2 });
const square = task(${JSON.stringify(join(FIXTURES, 'tasks.mjs'))}, 'square');
console.log(await ex.submit(square, 7).result());
console.log((await ex.submit({ run: 'echo shell' }).result()).stdout.trim());
`,
    );
    // A generous ceiling, not a timing bound: a script kept alive by its workers would run until killed.
    const r = await track(
      execa(process.execPath, [script], { reject: false, timeout: 30_000, cwd: dir, env: { NO_COLOR: '1' } }),
    );
    expect(r.timedOut, String(r.stderr)).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('49\nshell');
  });
});
