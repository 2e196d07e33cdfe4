/**
 * Issue 13, items 5 and 6 for downloads: the part file is keyed and locked, so two downloads to one `to` never
 * share one and never report success with a corrupt file; `.part.meta` is 0600, holds no credentials and is never
 * written through a planted link; part names fit NAME_MAX; on a redirect, the job's headers and the URL's
 * credentials never reach another origin (scheme + host + port), and https never continues over http.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  linkSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { hostname } from 'node:os';
import {
  BIN,
  poolrun,
  readJson,
  useTempDirs,
  waitFor,
  writeJobs,
  FIXTURES,
  type ResultsDoc,
} from '../../helpers.js';
import { TLS_CERT, bytes, sha256, startServer, type TestServer } from '../../download-server.js';
import { partPaths } from '../../../src/kinds/download/download.js';

const temp = useTempDirs();
type Result = ResultsDoc['results'][number] & { bytes?: number };
const byId = (doc: ResultsDoc): Record<string, Result> =>
  Object.fromEntries(doc.results.map((r) => [r.id, r]));

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}
interface Hop {
  /** http://127.0.0.1:PORT or https://… */
  url: string;
  /** Same server, by another host name: another origin. */
  alias: string;
  seen: Seen[];
  close(): Promise<void>;
}

/**
 * A server that records every request's headers. /go?to=URL answers 302 to URL; /data/NAME answers 200 with the
 * bytes of NAME (`payload(NAME)`), to anyone, with no credentials needed.
 */
async function startHop(tls = false): Promise<Hop> {
  const seen: Seen[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: u.pathname, headers: req.headers });
    if (u.pathname === '/go') {
      res.writeHead(302, { location: u.searchParams.get('to') ?? '/' });
      res.end();
      return;
    }
    const m = /^\/data\/(.+)$/.exec(u.pathname);
    if (!m) {
      res.writeHead(404);
      res.end();
      return;
    }
    const body = payload(m[1]!);
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  };
  const server = tls
    ? createTlsServer(
        { key: readFileSync(join(FIXTURES, 'tls', 'key.pem')), cert: readFileSync(TLS_CERT) },
        handler,
      )
    : createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const scheme = tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    alias: `${scheme}://localhost:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function payload(name: string): Buffer {
  return Buffer.from(`payload of ${name}\n`.repeat(10));
}

const go = (hop: string, to: string) => `${hop}/go?to=${encodeURIComponent(to)}`;

describe('redirects', () => {
  let a: Hop;
  let b: Hop;
  let c: Hop;
  beforeAll(async () => {
    [a, b, c] = await Promise.all([startHop(), startHop(), startHop(true)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('job headers and URL credentials reach only the job URL’s origin (generated chains and header spellings)', async () => {
    const dir = temp();
    // Where the chain goes, from a (http://127.0.0.1:A). `same`: every hop is a's origin.
    const chains: Array<{ name: string; url: (n: string) => string; same: boolean }> = [
      { name: 'same-origin', url: (n) => go(a.url, `${a.url}/data/${n}`), same: true },
      { name: 'relative', url: (n) => go(a.url, `/data/${n}`), same: true },
      { name: 'other-port', url: (n) => go(a.url, `${b.url}/data/${n}`), same: false },
      { name: 'other-host', url: (n) => go(a.url, `${a.alias}/data/${n}`), same: false },
      { name: 'to-https', url: (n) => go(a.url, `${c.url}/data/${n}`), same: false },
      { name: 'and-back', url: (n) => go(a.url, go(b.url, `${a.url}/data/${n}`)), same: false },
      { name: 'two-hops', url: (n) => go(a.url, go(a.url, go(b.url, `${b.url}/data/${n}`))), same: false },
    ];
    const spellings = [
      'Authorization',
      'authorization',
      'AUTHORIZATION',
      'X-Api-Key',
      'Cookie',
      'Proxy-Authorization',
      'x-token',
    ];
    const jobs: unknown[] = [];
    const secrets = new Map<string, { chain: (typeof chains)[number]; secret: string }>();
    let i = 0;
    for (const chain of chains) {
      for (const header of spellings) {
        for (const inUrl of [false, true]) {
          const id = `j${i++}`;
          const secret = `S3CRET${id}Z`;
          let url = chain.url(id);
          if (inUrl) url = url.replace('http://', `http://user${id}:${secret}@`);
          const headers = inUrl
            ? { 'X-Plain': `plain-${id}` }
            : { [header]: `${secret}`, 'X-Plain': `plain-${id}` };
          jobs.push({ id, download: { url, to: `out/${id}.txt`, headers } });
          secrets.set(id, { chain, secret });
        }
      }
    }
    const json = join(dir, 'out.json');
    const r = await poolrun(['-w', '2', '--json', json, writeJobs(dir, jobs)], {
      env: { NODE_EXTRA_CA_CERTS: TLS_CERT },
    });
    expect(r.code, r.stderr).toBe(0);
    const res = byId(readJson(json));
    const all = [
      ...a.seen.map((s) => ({ ...s, at: a.url })),
      ...b.seen.map((s) => ({ ...s, at: b.url })),
      ...c.seen.map((s) => ({ ...s, at: c.url })),
    ];
    for (const [id, { chain, secret }] of secrets) {
      expect(res[id]!.status, id).toBe('succeeded');
      expect(readFileSync(join(dir, 'out', `${id}.txt`)).equals(payload(id))).toBe(true);
      const basic = Buffer.from(`user${id}:${secret}`).toString('base64');
      // Every request of this job: the first one (to a's origin) carries the secret; after the chain has left
      // the origin, none does, in any header.
      const mine = all.filter((s) => s.path === `/data/${id}`);
      expect(mine, id).toHaveLength(1);
      const carries = (s: Seen) =>
        Object.values(s.headers).some((v) => String(v).includes(secret) || String(v).includes(basic));
      const plain = (s: Seen) => s.headers['x-plain'] === `plain-${id}`;
      if (chain.same) {
        expect(carries(mine[0]!), `${id} ${chain.name}`).toBe(true);
        expect(plain(mine[0]!), `${id} ${chain.name}`).toBe(true);
      } else {
        expect(carries(mine[0]!), `${id} ${chain.name}: secret sent to ${mine[0]!.at}`).toBe(false);
        expect(plain(mine[0]!), `${id} ${chain.name}: job header sent to ${mine[0]!.at}`).toBe(false);
      }
    }
  });

  it('https → http is refused with a job error, and the http server is never asked', async () => {
    const dir = temp();
    const before = b.seen.length;
    const jobs = [
      { id: 'down', download: { url: go(c.url, `${b.url}/data/down?token=t0k3n`), to: 'down.txt' } },
      { id: 'down2', download: { url: go(c.url, go(c.url, `${b.alias}/data/down2`)), to: 'down2.txt' } },
      { id: 'up', download: { url: go(b.url, `${c.url}/data/up`), to: 'up.txt' } },
    ];
    const json = join(dir, 'out.json');
    const r = await poolrun(['--json', json, writeJobs(dir, jobs)], {
      env: { NODE_EXTRA_CA_CERTS: TLS_CERT },
    });
    expect(r.code, r.stderr).toBe(1);
    const res = byId(readJson(json));
    expect(res.down!.status).toBe('failed');
    expect(res.down!.error!.message).toBe(
      `refused a redirect from ${c.url}/go?… to ${b.url}/data/down?…: a download that began over https does not continue over plain http`,
    );
    expect(res.down2!.status).toBe('failed');
    expect(res.down2!.error!.message).toMatch(/^refused a redirect from https:.* to http:\/\/localhost:/);
    expect(r.stderr).not.toContain('t0k3n');
    expect(res.up!.status).toBe('succeeded'); // http → https is an upgrade
    expect(b.seen.slice(before).filter((s) => s.path.startsWith('/data/down'))).toHaveLength(0);
    expect(existsSync(join(dir, 'down.txt'))).toBe(false);
    expect(existsSync(join(dir, 'down2.txt'))).toBe(false);
  });
});

describe('part files', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('.part.meta is 0600, holds no user, password, query or URL, and still lets the next run resume', async () => {
    const dir = temp();
    const data = bytes(1024 * 1024, 51);
    server.serve('meta.bin', data);
    const host = new URL(server.url).host;
    const url = `http://alice:pw-SECRET1@${host}/drop/meta.bin?token=SECRET2&sig=SECRET3`;
    const file = writeJobs(dir, [{ id: 'm', download: { url, to: 'got.bin', sha256: sha256(data) } }]);
    const r = await poolrun([file]);
    expect(r.code, r.stderr).toBe(1);
    const metas = readdirSync(dir).filter((n) => n.endsWith('.part.meta'));
    expect(metas).toHaveLength(1);
    // The part's name does not depend on the user, the password or a query value (a folder listing tells nothing).
    const other = `http://bob:other@${host}/drop/meta.bin?token=x&sig=y`;
    expect(`${partPaths(other, join(dir, 'got.bin')).part}.meta`).toBe(join(dir, metas[0]!));
    const meta = join(dir, metas[0]!);
    expect((statSync(meta).mode & 0o777).toString(8)).toBe('600');
    const text = readFileSync(meta, 'utf8');
    for (const s of ['SECRET1', 'SECRET2', 'SECRET3', 'alice', 'pw-', 'meta.bin', host, 'token', 'http'])
      expect(text, s).not.toContain(s);
    expect(r.stderr).not.toMatch(/SECRET|alice/);

    const again = await poolrun([file]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(dir, 'got.bin')).equals(data)).toBe(true);
    const last = server.log.filter((l) => l.path === '/drop/meta.bin').at(-1)!;
    expect(last.status).toBe(206);
    expect(readdirSync(dir).sort()).toEqual(['got.bin', 'jobs.json']);
  });

  it('links planted at every part, meta and lock name are never written through (symbolic and hard)', async () => {
    const data = bytes(512 * 1024, 52);
    server.serve('planted.bin', data);
    for (const plant of ['symlinks', 'hardlink', 'lock']) {
      const dir = temp();
      const url = `${server.url}/drop/planted.bin`;
      const to = join(dir, 'got.bin');
      const keyed = partPaths(url, to);
      const victims: string[] = [];
      const victim = (tag: string) => {
        const v = join(dir, `victim-${tag}`);
        writeFileSync(v, `victim ${tag}\n`);
        chmodSync(v, 0o640);
        victims.push(v);
        return v;
      };
      // The old fixed names, and the keyed ones.
      if (keyed.part !== `${to}.part`) {
        symlinkSync(victim('old-part'), `${to}.part`);
        symlinkSync(victim('old-meta'), `${to}.part.meta`);
      }
      if (plant === 'hardlink') linkSync(victim('part'), keyed.part);
      else symlinkSync(victim('part'), keyed.part);
      symlinkSync(victim('meta'), keyed.meta);
      if (plant === 'lock') symlinkSync(victim('lock'), keyed.lock);
      const file = writeJobs(dir, [{ id: 'p', download: { url, to: 'got.bin', sha256: sha256(data) } }]);
      // The first attempt is cut mid-body (the part and meta are written), the retry resumes or starts over.
      const r = await poolrun(['--retries', '1', file]);
      expect(r.code, `${plant}: ${r.stderr}`).toBe(0);
      expect(readFileSync(to).equals(data), plant).toBe(true);
      for (const v of victims) {
        expect(readFileSync(v, 'utf8'), `${plant}: ${v}`).toBe(
          `victim ${v.slice(v.lastIndexOf('victim-') + 7)}\n`,
        );
        expect((statSync(v).mode & 0o777).toString(8)).toBe('640');
      }
    }
  });

  it('two runs at once to one `to`: never a corrupt file, never a hidden failure (same and different URLs)', async () => {
    const one = bytes(1536 * 1024, 53);
    const two = bytes(1536 * 1024, 54);
    server.serve('race-1.bin', one);
    server.serve('race-2.bin', two);
    server.slowChunk = 64 * 1024;
    server.slowEveryMs = 40;
    for (const [variant, overwrite, sum] of [
      ['same', false, false],
      ['same', true, false],
      ['other', false, false],
      ['other', true, true],
      ['query', false, false], // URLs that differ only in a query value: one part name, kept apart by the lock
    ] as const) {
      const dir = temp();
      const urlA = `${server.url}/slow/race-1.bin${variant === 'query' ? '?v=1' : ''}`;
      const urlB =
        variant === 'same'
          ? urlA
          : variant === 'query'
            ? `${server.url}/slow/race-1.bin?v=2`
            : `${server.url}/slow/race-2.bin`;
      const dataB = variant === 'other' ? two : one;
      const job = (url: string, data: Buffer) => ({
        id: 'd',
        download: { url, to: 'got.bin', overwrite, ...(sum ? { sha256: sha256(data) } : {}) },
      });
      const fileA = writeJobs(dir, [job(urlA, one)], 'a.json');
      const fileB = writeJobs(dir, [job(urlB, dataB)], 'b.json');
      const run = (file: string, json: string) =>
        execa(process.execPath, [BIN, '-q', '--json', join(dir, json), file], {
          reject: false,
          env: { NO_COLOR: '1' },
        });
      const runA = run(fileA, 'a.out.json');
      // B starts while A's part is being written.
      const landed = () =>
        readdirSync(dir)
          .filter((n) => n.endsWith('.part') || n.endsWith('.poolrun-tmp'))
          .some((n) => statSync(join(dir, n)).size > 0);
      expect(await waitFor(landed, 30_000, 5)).toBe(true);
      const runB = run(fileB, 'b.out.json');
      const [ra, rb] = await Promise.all([runA, runB]);
      const label = `${variant} URL, overwrite ${overwrite}, sha256 ${sum}`;
      const resA = readJson(join(dir, 'a.out.json')).results[0]!;
      const resB = readJson(join(dir, 'b.out.json')).results[0]!;
      const got = readFileSync(join(dir, 'got.bin'));
      // Whatever is at `to` is one whole download, never a mix.
      expect(got.equals(one) || got.equals(dataB), `${label}: corrupt file`).toBe(true);
      const ok = [resA, resB].filter((x) => x.status === 'succeeded');
      if (overwrite) {
        expect(ok, `${label}: ${ra.stderr} ${rb.stderr}`).toHaveLength(2);
      } else {
        expect(ok, `${label}: ${ra.stderr} ${rb.stderr}`).toHaveLength(1);
        const lost = resA.status === 'succeeded' ? resB : resA;
        expect(lost.error!.message).toMatch(/^destination exists: /);
        expect(got.equals(resA.status === 'succeeded' ? one : dataB), label).toBe(true);
      }
      expect([ra.exitCode, rb.exitCode].sort(), label).toEqual(overwrite ? [0, 0] : [0, 1]);
      expect(readdirSync(dir).sort(), label).toEqual([
        'a.json',
        'a.out.json',
        'b.json',
        'b.out.json',
        'got.bin',
      ]);
    }
  });

  it('part names fit NAME_MAX for long names of multi-byte characters (generated)', async () => {
    const dir = temp();
    const data = bytes(100 * 1024, 55);
    server.serve('long.bin', data);
    const names: string[] = [];
    for (const ch of ['a', 'é', '€', '𝄞']) {
      const w = Buffer.byteLength(ch);
      for (const n of [1, Math.floor(200 / w), Math.floor(230 / w), Math.floor(250 / w), Math.floor(255 / w)])
        names.push(ch.repeat(n));
    }
    names.push('a' + '€'.repeat(84), 'ab' + '𝄞'.repeat(63), 'é' + '𝄞'.repeat(63));
    const jobs = names.map((n, i) => ({
      id: `n${i}`,
      download: { url: `${server.url}/drop/long.bin`, to: `out/${n}` },
    }));
    // /drop cuts only the first request: one job gets a part and a meta at its longest names, the rest a 200.
    const json = join(dir, 'out.json');
    const r = await poolrun(['-w', '2', '--retries', '1', '--json', json, writeJobs(dir, jobs)]);
    expect(r.code, r.stderr).toBe(0);
    for (const n of names) expect(readFileSync(join(dir, 'out', n)).equals(data), n).toBe(true);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual([...new Set(names)].sort());
    for (const n of names) {
      const { part, meta, lock } = partPaths(`${server.url}/drop/long.bin`, join(dir, 'out', n));
      for (const p of [part, meta, lock]) {
        const base = p.slice(p.lastIndexOf('/') + 1);
        expect(Buffer.byteLength(base), base).toBeLessThanOrEqual(255);
        expect(base).not.toContain('\ufffd');
      }
    }
  });

  it('a part another process writes to meanwhile is never placed; a lock of a live or foreign holder is left alone', async () => {
    const dir = temp();
    const data = bytes(1536 * 1024, 56);
    server.serve('tamper.bin', data);
    server.slowChunk = 64 * 1024;
    server.slowEveryMs = 40;
    const url = `${server.url}/slow/tamper.bin`;
    const to = join(dir, 'got.bin');
    const { part } = partPaths(url, to);
    const json = join(dir, 'out.json');
    const file = writeJobs(dir, [{ id: 't', download: { url, to: 'got.bin' } }]);
    const run = execa(process.execPath, [BIN, '-q', '--json', json, file], { reject: false });
    expect(await waitFor(() => existsSync(part) && statSync(part).size > 0, 30_000, 5)).toBe(true);
    appendFileSync(part, Buffer.alloc(4 * 1024 * 1024, 7)); // past the end of what this download will write
    const r = await run;
    expect(r.exitCode, String(r.stderr)).toBe(1);
    const [res] = readJson(json).results;
    expect(res!.error!.message).toMatch(
      /^the part .*got\.bin\.[0-9a-f]{16}\.part was changed by another process/,
    );
    expect(existsSync(to)).toBe(false);
    expect(existsSync(part)).toBe(false);

    // A lock held by a live process of this host, or by any process of another host: the download goes to a
    // private temp file of its own and leaves the lock as it was.
    server.slowChunk = data.length;
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    for (const holder of [`${hostname()} ${process.pid} ${started} x`, `not-${hostname()} 1 1 y`]) {
      const { lock } = partPaths(url, to);
      writeFileSync(lock, `${holder}\n`);
      const again = await poolrun(['--json', json, file]);
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(to).equals(data)).toBe(true);
      expect(readFileSync(lock, 'utf8')).toBe(`${holder}\n`);
      expect(readdirSync(dir).sort()).toEqual(
        ['got.bin', 'jobs.json', 'out.json', lock.slice(dir.length + 1)].sort(),
      );
      rmSync(lock);
      rmSync(to);
    }
  });
});

describe('a job’s headers are checked when the file is read', () => {
  let h: Hop;
  beforeAll(async () => {
    h = await startHop();
  });
  afterAll(() => h.close());

  it('bad names, control characters in values, and framing or resume headers: exit 2 at each, nothing runs, no value shown', async () => {
    const dir = temp();
    const SECRET = 'Zq7HEADERSECRET';
    const bad: Array<[string, string]> = [];
    // Every control character but TAB in a value (the secret beside it), and characters past Latin-1.
    for (let c = 0; c < 0x20; c++) if (c !== 9) bad.push([`X-C${c}`, `${SECRET}${String.fromCharCode(c)}x`]);
    bad.push(['X-Del', `${SECRET}\x7f`], ['X-Wide', `${SECRET}\u20ac`]);
    // Names that are not tokens.
    for (const ch of [
      ' ',
      '(',
      ')',
      ',',
      '/',
      ':',
      ';',
      '<',
      '=',
      '>',
      '?',
      '@',
      '[',
      '\\',
      ']',
      '{',
      '}',
      '"',
      '\u00e9',
    ])
      bad.push([`X${ch}Y`, SECRET]);
    bad.push(['', SECRET]);
    // Framing, connection and resume headers, in any case.
    for (const n of [
      'Content-Length',
      'transfer-encoding',
      'CONNECTION',
      'Keep-Alive',
      'Upgrade',
      'TE',
      'Trailer',
      'Expect',
      'Range',
      'If-Range',
      'Proxy-Connection',
    ])
      bad.push([n, SECRET]);
    const canary = join(dir, 'ran');
    const jobs = bad.map(([n, v], k) => ({
      id: `h${k}`,
      download: { url: `${h.url}/data/x${k}`, to: `out${k}`, headers: { [n]: v } },
    }));
    const file = writeJobs(dir, [...jobs, `touch ${canary}`]);
    const r = await poolrun([file], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${bad.length} problems; nothing ran`));
    bad.forEach((_, k) =>
      expect(r.stderr, `h${k}`).toMatch(new RegExp(`jobs\\[${k}\\]\\.download\\.headers`)),
    );
    expect(r.stderr).not.toContain(SECRET);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(canary)).toBe(false);
    expect(h.seen).toEqual([]);
  });

  it('good ones reach the server as written: TAB and Latin-1 in a value, Host and Accept-Encoding, the downloads succeed', async () => {
    const dir = temp();
    const headers = { 'X-Token': 'a\tb \u00e9', Accept: 'text/plain', "X-!#$%&'*+.^_`|~": 'ok' };
    const file = writeJobs(dir, [
      { id: 'a', download: { url: `${h.url}/data/a`, to: 'a', headers } },
      { id: 'b', download: { url: `${h.url}/data/b`, to: 'b' } },
    ]);
    const r = await poolrun(['-w', '1', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'a'))).toEqual(payload('a'));
    expect(readFileSync(join(dir, 'b'))).toEqual(payload('b'));
    const got = h.seen.find((s) => s.path === '/data/a')!.headers;
    expect(got['x-token']).toBe(Buffer.from('a\tb \u00e9', 'latin1').toString('latin1'));
    expect(got["x-!#$%&'*+.^_`|~"]).toBe('ok');
  });
});
