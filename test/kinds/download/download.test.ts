import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, readJson, type ResultsDoc, useTempDirs, writeJobs } from '../../helpers.js';
import { TLS_CERT, bytes, sha256, startServer, type TestServer } from '../../download-server.js';

const modes = ['thread', 'process'] as const;
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});
const temp = useTempDirs();
const jobFile = writeJobs;
type Result = ResultsDoc['results'][number] & { bytes?: number };
function byId(doc: ResultsDoc): Record<string, Result> {
  return Object.fromEntries(doc.results.map((r) => [r.id, r]));
}
/** The folder holds exactly these names: no .part, no temp file left beside the downloads. */
function names(dir: string): string[] {
  return readdirSync(dir).sort();
}

describe.each(modes)('download (%s mode)', (mode) => {
  it('200 with checksum, mismatch, 404, 500, a redirect chain, a redirect to file:, too many redirects', async () => {
    const dir = temp();
    const out = join(dir, 'out');
    const song = bytes(300_000, 7);
    const name = `song-${mode}.mp3`;
    server.serve(name, song);
    const clip = bytes(20_000, 8);
    server.serve(`clip-${mode}.mp3`, clip);
    const u = server.url;
    const file = jobFile(dir, [
      { id: 'ok', download: { url: `${u}/ok/${name}`, to: 'out/ok.mp3', sha256: sha256(song) } },
      { id: 'plain', download: { url: `${u}/ok/${name}`, to: 'out/plain.mp3' } },
      { id: 'bad-sum', download: { url: `${u}/ok/${name}`, to: 'out/bad.mp3', sha256: 'ab'.repeat(32) } },
      { id: 'missing', download: { url: `${u}/status/404`, to: 'out/missing.mp3' } },
      { id: 'broken', download: { url: `${u}/status/500`, to: 'out/broken.mp3' } },
      { id: 'chain', download: { url: `${u}/redirect/4/${name}`, to: 'out/chain.mp3' } },
      { id: 'to-file', download: { url: `${u}/to-file`, to: 'out/passwd' } },
      { id: 'loop', download: { url: `${u}/redirect/11/${name}`, to: 'out/loop.mp3' } },
      { id: 'cut', download: { url: `${u}/drop/clip-${mode}.mp3`, to: 'out/cut.mp3' } },
    ]);
    const json = join(dir, 'out.json');
    const r = await poolrun(['-w', '2', '-m', mode, '--json', json, file]);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));

    expect(res.ok!.status).toBe('succeeded');
    expect(res.ok!.bytes).toBe(song.length);
    expect(readFileSync(join(out, 'ok.mp3')).equals(song)).toBe(true);
    expect(res.plain!.status).toBe('succeeded');
    expect(readFileSync(join(out, 'plain.mp3')).equals(song)).toBe(true);

    expect(res['bad-sum']!.status).toBe('failed');
    expect(res['bad-sum']!.error!.message).toBe(
      `checksum mismatch for ${u}/ok/${name}: expected sha256 ${'ab'.repeat(32)}, got ${sha256(song)}`,
    );
    expect(res.missing!.status).toBe('failed');
    expect(res.missing!.error!.message).toBe(`HTTP 404 Not Found from ${u}/status/404`);
    expect(res.broken!.error!.message).toBe(`HTTP 500 Internal Server Error from ${u}/status/500`);

    expect(res.chain!.status).toBe('succeeded');
    expect(readFileSync(join(out, 'chain.mp3')).equals(song)).toBe(true);
    expect(server.log.filter((l) => l.path.startsWith('/redirect/') && l.path.endsWith(name))).toHaveLength(
      4 + 11,
    );

    expect(res['to-file']!.status).toBe('failed');
    expect(res['to-file']!.error!.message).toMatch(/refused a redirect .* to a file: URL/);
    expect(res.loop!.status).toBe('failed');
    expect(res.loop!.error!.message).toBe(`too many redirects (more than 10) from ${u}/redirect/11/${name}`);

    // Too small to be worth resuming: the cut download leaves no .part behind.
    expect(res.cut!.error!.message).toMatch(
      new RegExp(`^incomplete download from ${u}/drop/clip-${mode}.mp3: .* after \\d+ of 20000 bytes$`),
    );
    // Only the successes exist: no partial file, no .part, no temp file.
    expect(names(out)).toEqual(['chain.mp3', 'ok.mp3', 'plain.mp3']);
    // The status lines name the failure.
    expect(r.stderr).toMatch(/failed missing \(worker \d, [^)]*HTTP 404 Not Found/);
  });

  it('a connection dropped mid-body: the retry resumes the .part with Range and If-Range (206)', async () => {
    const dir = temp();
    const data = bytes(2 * 1024 * 1024, 11);
    const name = `drop-${mode}.bin`;
    server.serve(name, data);
    const url = `${server.url}/drop/${name}`;
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [{ id: 'd', download: { url, to: 'got.bin', sha256: sha256(data) } }]);
    const r = await poolrun(['-m', mode, '--retries', '1', '--json', json, file]);
    expect(r.code, r.stderr).toBe(0);
    const [res] = readJson(json).results as Result[];
    expect(res!.status).toBe('succeeded');
    expect(res!.attempts).toBe(2);
    expect(readFileSync(join(dir, 'got.bin')).equals(data)).toBe(true);

    const reqs = server.log.filter((l) => l.path === `/drop/${name}`);
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.range).toBeUndefined();
    const from = Number(/^bytes=(\d+)-$/.exec(reqs[1]!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(data.length / 2);
    expect(reqs[1]!.ifRange).toMatch(/^"[0-9a-f]{16}"$/);
    expect(reqs[1]!.status).toBe(206);
    // Only the missing part came over the wire the second time.
    expect(reqs[1]!.sent).toBe(data.length - from);
    expect(res!.bytes).toBe(data.length - from);
    // The first attempt said what happened and what comes next.
    // The part is keyed (a hash of the URL and the destination): got.bin.<16 hex>.part.
    expect(r.stderr).toContain(
      `incomplete download from ${url}: connection reset by ${new URL(url).host} (ECONNRESET) after ${from} of ${data.length} bytes; the next attempt resumes from ${join(dir, 'got.bin.')}`,
    );
    expect(r.stderr).toMatch(/the next attempt resumes from \S*\/got\.bin\.[0-9a-f]{16}\.part\)/);
    expect(names(dir)).toEqual(['got.bin', 'jobs.json', 'out.json']);
  });

  it('a server that ignores Range (200 to a Range request): the retry starts over', async () => {
    const dir = temp();
    const data = bytes(1024 * 1024, 13);
    const name = `norange-${mode}.bin`;
    server.serve(name, data);
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'n', download: { url: `${server.url}/norange/${name}`, to: 'got.bin', sha256: sha256(data) } },
    ]);
    const r = await poolrun(['-m', mode, '--retries', '1', '--json', json, file]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'got.bin')).equals(data)).toBe(true);
    const reqs = server.log.filter((l) => l.path === `/norange/${name}`);
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(reqs[1]!.status).toBe(200);
    expect(names(dir)).toEqual(['got.bin', 'jobs.json', 'out.json']);
  });

  it('a timed-out attempt whose .part is already whole: the retry gets 416 and finishes from the part', async () => {
    const dir = temp();
    const data = bytes(200_000, 41);
    const name = `hang-${mode}.bin`;
    server.serve(name, data);
    const json = join(dir, 'out.json');
    const url = `${server.url}/hang-end/${name}`;
    const file = jobFile(dir, [{ id: 'h', download: { url, to: 'got.bin', sha256: sha256(data) } }]);
    const r = await poolrun(['-m', mode, '--timeout', '1s', '--retries', '1', '--json', json, file]);
    expect(r.code, r.stderr).toBe(0);
    const [res] = readJson(json).results as Result[];
    expect(res!.attempts).toBe(2);
    expect(r.stderr).toMatch(/timed-out h \(worker \d, [^)]*\); retrying/);
    const reqs = server.log.filter((l) => l.path === `/hang-end/${name}`);
    expect(reqs.map((l) => [l.range, l.status])).toEqual([
      [undefined, 200],
      [`bytes=${data.length}-`, 416],
    ]);
    expect(res!.bytes).toBe(0);
    expect(readFileSync(join(dir, 'got.bin')).equals(data)).toBe(true);
    expect(names(dir)).toEqual(['got.bin', 'jobs.json', 'out.json']);
  });

  it('a slow server and --timeout: timed-out, nothing at `to`, poolrun does not wait for the body', async () => {
    const dir = temp();
    const data = bytes(4 * 1024 * 1024, 17);
    const name = `slow-${mode}.bin`;
    server.serve(name, data);
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [{ id: 's', download: { url: `${server.url}/slow/${name}`, to: 'got.bin' } }]);
    const r = await poolrun(['-m', mode, '--timeout', '1s', '--json', json, file]);
    expect(r.code, r.stderr).toBe(1);
    const [res] = readJson(json).results;
    expect(res!.status).toBe('timed-out');
    expect(existsSync(join(dir, 'got.bin'))).toBe(false);
    // The whole body takes ~6.4s at this rate; the job stopped reading at 1s: the server could not send it all
    // (a count, not a wall-clock bound, which a loaded machine stretches).
    const req = server.log.find((l) => l.path === `/slow/${name}`)!;
    expect(req.sent).toBeLessThan(data.length);
  });

  it('credentials in the URL are used but never shown; a query string is hidden too', async () => {
    const dir = temp();
    const data = bytes(10_000, 19);
    const name = `private-${mode}.bin`;
    server.serve(name, data);
    const base = server.url.replace('http://', 'http://user:secret@');
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'auth', download: { url: `${base}/auth/${name}`, to: 'got.bin' } },
      { id: 'denied', download: { url: `${server.url}/auth/${name}?token=secret`, to: 'no.bin' } },
      { id: 'gone', download: { url: `${base}/status/410?token=secret`, to: 'gone.bin' } },
    ]);
    const r = await poolrun(['-m', mode, '--json', json, file]);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    expect(res.auth!.status).toBe('succeeded');
    expect(readFileSync(join(dir, 'got.bin')).equals(data)).toBe(true);
    expect(res.denied!.error!.message).toBe(`HTTP 401 Unauthorized from ${server.url}/auth/${name}?…`);
    expect(res.gone!.error!.message).toBe(`HTTP 410 Gone from ${server.url}/status/410?…`);
    for (const text of [r.stdout, r.stderr, readFileSync(json, 'utf8')]) expect(text).not.toContain('secret');
  });

  it('credentials follow a redirect within the origin and are dropped when it leaves', async () => {
    const dir = temp();
    const data = bytes(10_000, 43);
    const name = `via-${mode}.bin`;
    server.serve(name, data);
    const u = new URL(server.url);
    const basic = { Authorization: `Basic ${Buffer.from('user:secret').toString('base64')}` };
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      {
        id: 'same-url',
        download: { url: `http://user:secret@${u.host}/via/127.0.0.1/${name}`, to: 'a.bin' },
      },
      {
        id: 'same-hdr',
        download: { url: `${server.url}/via/127.0.0.1/${name}`, to: 'b.bin', headers: basic },
      },
      {
        id: 'other-url',
        download: { url: `http://user:secret@${u.host}/via/localhost/${name}`, to: 'c.bin' },
      },
      {
        id: 'other-hdr',
        download: { url: `${server.url}/via/localhost/${name}`, to: 'd.bin', headers: basic },
      },
    ]);
    const r = await poolrun(['-m', mode, '--json', json, file]);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    expect(res['same-url']!.status).toBe('succeeded');
    expect(res['same-hdr']!.status).toBe('succeeded');
    const there = `http://localhost:${u.port}/auth/${name}`;
    expect(res['other-url']!.error!.message).toBe(`HTTP 401 Unauthorized from ${there}`);
    expect(res['other-hdr']!.error!.message).toBe(`HTTP 401 Unauthorized from ${there}`);
    const atLocalhost = server.log.filter((l) => l.path === `/auth/${name}` && l.status === 401);
    expect(atLocalhost).toHaveLength(2);
    for (const l of atLocalhost) expect(l.authorization).toBeUndefined();
    expect(names(dir)).toEqual(['a.bin', 'b.bin', 'jobs.json', 'out.json']);
  });

  it('keep-alive: 40 downloads on 2 workers reuse a connection per worker', async () => {
    const dir = temp();
    const data = bytes(4096, 23);
    const name = `small-${mode}.bin`;
    server.serve(name, data);
    const before = server.connections();
    const jobs = Array.from({ length: 40 }, (_, i) => ({
      download: { url: `${server.url}/ok/${name}`, to: `out/f${i}.bin`, sha256: sha256(data) },
    }));
    const r = await poolrun(['-w', '2', '-m', mode, jobFile(dir, jobs)]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out'))).toHaveLength(40);
    expect(server.connections() - before).toBeLessThanOrEqual(4);
  });

  it('an existing destination is refused without overwrite and replaced with it', async () => {
    const dir = temp();
    const data = bytes(5000, 29);
    const name = `ow-${mode}.bin`;
    server.serve(name, data);
    writeFileSync(join(dir, 'keep.bin'), 'old');
    writeFileSync(join(dir, 'replace.bin'), 'old');
    const url = `${server.url}/ok/${name}`;
    const json = join(dir, 'out.json');
    const file = jobFile(dir, [
      { id: 'keep', download: { url, to: 'keep.bin' } },
      { id: 'replace', download: { url, to: 'replace.bin', overwrite: true } },
    ]);
    const r = await poolrun(['-m', mode, '--json', json, file]);
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    expect(res.keep!.error!.message).toBe(
      `destination exists: ${join(dir, 'keep.bin')} (set "overwrite": true to replace it)`,
    );
    expect(readFileSync(join(dir, 'keep.bin'), 'utf8')).toBe('old');
    expect(res.replace!.status).toBe('succeeded');
    expect(readFileSync(join(dir, 'replace.bin')).equals(data)).toBe(true);
  });
});

describe('download over https', () => {
  it('a certificate nobody vouches for is refused; trusted through NODE_EXTRA_CA_CERTS it works', async () => {
    const tls = await startServer({ tls: true });
    try {
      const dir = temp();
      const data = bytes(100_000, 37);
      tls.serve('secure.bin', data);
      const json = join(dir, 'out.json');
      const url = `${tls.url}/ok/secure.bin`;
      const file = jobFile(dir, [{ id: 's', download: { url, to: 'got.bin', sha256: sha256(data) } }]);
      const refused = await poolrun(['--json', json, file]);
      expect(refused.code, refused.stderr).toBe(1);
      const [r1] = readJson(json).results;
      expect(r1!.error!.message).toMatch(
        new RegExp(`^the TLS certificate of ${new URL(url).host} was not accepted: .*self[- ]signed`),
      );
      expect(existsSync(join(dir, 'got.bin'))).toBe(false);

      const trusted = await poolrun(['-m', 'process', '--json', json, file], {
        env: { NODE_EXTRA_CA_CERTS: TLS_CERT },
      });
      expect(trusted.code, trusted.stderr).toBe(0);
      expect(readFileSync(join(dir, 'got.bin')).equals(data)).toBe(true);
    } finally {
      await tls.close();
    }
  });
});
